//! [`Routes`]: this hub's place in every origin's shortest-path tree.

use std::collections::{HashMap, VecDeque};

use super::{HubId, LinkStateDb};

/// This hub's view of every reachable origin's shortest-path tree, computed from a
/// [`LinkStateDb`].
///
/// The tree of origin `O` is the breadth-first tree over the edges of the database, where the
/// parent of a hub `X` is, among `X`'s neighbors one step closer to `O`, the one with the
/// smallest [`HubId`]. The rule uses nothing but the database, so every hub holding the same
/// records computes the same trees: a message from `O` that each hub forwards only to its
/// children, and accepts only from its parent, reaches every hub once and never loops.
///
/// Computing costs O(V·(V+E)) for V reachable hubs and E edges, and the result holds O(V²)
/// ids: fine for the tens or hundreds of hubs a bridge mesh has. It is a value: compute it
/// again when the database's [`generation`](LinkStateDb::generation) moves on.
#[derive(Debug, Clone)]
pub struct Routes {
    me: HubId,
    generation: u64,
    by_origin: HashMap<HubId, OriginTree>,
}

/// This hub's part of one origin's tree.
#[derive(Debug, Clone, Default)]
struct OriginTree {
    /// The only neighbor messages of this origin are accepted from (`None` for this hub's own).
    parent: Option<HubId>,
    /// The neighbors whose parent is this hub, sorted: where this origin's messages go next.
    children: Vec<HubId>,
    /// For each child (same order), the hubs of its subtree, the child included, sorted.
    subtrees: Vec<Vec<HubId>>,
    /// For each hub below this one, the position of the child its subtree hangs from.
    branch: HashMap<HubId, usize>,
}

impl Routes {
    /// The trees of every hub reachable from `db`'s own hub.
    pub fn compute(db: &LinkStateDb) -> Routes {
        let hubs = db.reachable();
        let index: HashMap<HubId, usize> = hubs.iter().enumerate().map(|(i, &h)| (h, i)).collect();
        // Neighbor lists by index; sorted by index is sorted by id, since `hubs` is sorted.
        let adjacency: Vec<Vec<usize>> = hubs
            .iter()
            .map(|&h| {
                let mut next: Vec<usize> = db
                    .linked_neighbors(h)
                    .iter()
                    .filter_map(|n| index.get(n).copied())
                    .collect();
                next.sort_unstable();
                next
            })
            .collect();
        let me = index[&db.me()];
        let by_origin = (0..hubs.len())
            .map(|origin| (hubs[origin], tree_at(&hubs, &adjacency, origin, me)))
            .collect();
        Routes {
            me: db.me(),
            generation: db.generation(),
            by_origin,
        }
    }

    /// The hub these routes are for.
    pub fn me(&self) -> HubId {
        self.me
    }

    /// The [`LinkStateDb::generation`] these routes were computed at.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether `origin` is reachable (this hub always is).
    pub fn reaches(&self, origin: HubId) -> bool {
        self.by_origin.contains_key(&origin)
    }

    /// The reachable hubs, this one included, sorted.
    pub fn reachable(&self) -> Vec<HubId> {
        let mut hubs: Vec<HubId> = self.by_origin.keys().copied().collect();
        hubs.sort_unstable();
        hubs
    }

    /// The neighbor this hub takes `origin`'s messages from: `None` for this hub's own
    /// messages and for an origin it cannot reach.
    pub fn parent(&self, origin: HubId) -> Option<HubId> {
        self.by_origin.get(&origin).and_then(|t| t.parent)
    }

    /// Whether a message of `origin` that came from `neighbor` is taken: only when `neighbor`
    /// is this hub's parent in `origin`'s tree. Nothing of this hub's own comes from outside.
    pub fn accept_from(&self, origin: HubId, neighbor: HubId) -> bool {
        self.parent(origin) == Some(neighbor)
    }

    /// Where this hub forwards `origin`'s messages: its neighbors whose parent in `origin`'s
    /// tree is this hub, sorted. Empty for an unknown origin.
    pub fn children(&self, origin: HubId) -> &[HubId] {
        self.by_origin
            .get(&origin)
            .map_or(&[], |t| t.children.as_slice())
    }

    /// The hubs of `child`'s subtree in `origin`'s tree, `child` included, sorted; empty when
    /// `child` is not a child of this hub there.
    pub fn subtree(&self, origin: HubId, child: HubId) -> &[HubId] {
        let Some(tree) = self.by_origin.get(&origin) else {
            return &[];
        };
        match tree.children.binary_search(&child) {
            Ok(at) => &tree.subtrees[at],
            Err(_) => &[],
        }
    }

    /// The child of this hub whose subtree of `origin`'s tree holds `hub`: where a message of
    /// `origin` must go to reach `hub`. `None` when `hub` is not below this hub.
    pub fn branch(&self, origin: HubId, hub: HubId) -> Option<HubId> {
        self.branch_index(origin, hub)
            .map(|at| self.by_origin[&origin].children[at])
    }

    /// Like [`branch`](Self::branch), as a position in [`children`](Self::children).
    pub(crate) fn branch_index(&self, origin: HubId, hub: HubId) -> Option<usize> {
        self.by_origin.get(&origin)?.branch.get(&hub).copied()
    }
}

/// This hub's part of the tree rooted at `origin` (all arguments are indexes into `hubs`).
fn tree_at(hubs: &[HubId], adjacency: &[Vec<usize>], origin: usize, me: usize) -> OriginTree {
    let mut distance = vec![usize::MAX; hubs.len()];
    let mut order = Vec::with_capacity(hubs.len());
    distance[origin] = 0;
    let mut queue = VecDeque::from([origin]);
    while let Some(hub) = queue.pop_front() {
        order.push(hub);
        for &next in &adjacency[hub] {
            if distance[next] == usize::MAX {
                distance[next] = distance[hub] + 1;
                queue.push_back(next);
            }
        }
    }
    // The smallest-id neighbor one step closer to the origin; adjacency is sorted by id.
    let parent: Vec<Option<usize>> = (0..hubs.len())
        .map(|hub| {
            adjacency[hub]
                .iter()
                .copied()
                .find(|&n| distance[n] != usize::MAX && distance[n] + 1 == distance[hub])
        })
        .collect();
    let children: Vec<usize> = adjacency[me]
        .iter()
        .copied()
        .filter(|&n| parent[n] == Some(me))
        .collect();
    // Breadth-first order puts each parent before its children, so one pass finds branches.
    let mut branch_of: Vec<Option<usize>> = vec![None; hubs.len()];
    let mut subtrees = vec![Vec::new(); children.len()];
    for &hub in &order {
        let Some(up) = parent[hub] else { continue };
        let branch = if up == me {
            children.binary_search(&hub).ok()
        } else {
            branch_of[up]
        };
        if let Some(at) = branch {
            branch_of[hub] = Some(at);
            subtrees[at].push(hubs[hub]);
        }
    }
    for subtree in &mut subtrees {
        subtree.sort_unstable();
    }
    OriginTree {
        parent: parent[me].map(|p| hubs[p]),
        children: children.iter().map(|&c| hubs[c]).collect(),
        branch: (0..hubs.len())
            .filter_map(|h| branch_of[h].map(|at| (hubs[h], at)))
            .collect(),
        subtrees,
    }
}
