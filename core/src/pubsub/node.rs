//! [`Node`]: one node of the subscription trie, shared between versions through `Arc`.
//!
//! Changes go through [`Arc::make_mut`]: a node nobody else holds is changed in place, a node a
//! snapshot still holds is copied first (shallowly: its children and its subscriber set are
//! `Arc`s, so a copy costs one pointer per child). A change therefore copies at most the path
//! from the root to the pattern's node, and every snapshot keeps seeing the version it was
//! taken from.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use smallvec::SmallVec;

use super::{Channel, PatternToken};

/// Children by literal token. Hashed with foldhash, seeded at random per process: SipHash was
/// a tenth of a publish's instructions, and the keys come from peers, so the seed stays secret
/// (and the subscriptions a connection may hold are bounded).
type Literals<S> = HashMap<Box<str>, Arc<Node<S>>, foldhash::quality::RandomState>;

/// The nodes a match is at; most channels keep a handful active, so they live on the stack.
type Active<'a, S> = SmallVec<[&'a Node<S>; 8]>;

/// A trie node: the pattern prefix that leads here is implied by the path from the root.
#[derive(Debug)]
pub(crate) struct Node<S> {
    /// Children by literal token.
    literals: Literals<S>,
    /// The child for `*`.
    star: Option<Arc<Node<S>>>,
    /// The child for `**`.
    double_star: Option<Arc<Node<S>>>,
    /// Who subscribed to the pattern that ends here (`None` rather than an empty set, so that
    /// the many inner nodes hold no allocation). A `BTreeSet` keeps them ordered, so one
    /// node's set is already a sorted, deduplicated match result.
    subscribers: Option<Arc<BTreeSet<S>>>,
    /// Whether this is a `**` child: a `**` may take any number of tokens, so matching can stay
    /// on this node while it reads tokens.
    loops: bool,
}

// By hand: deriving would ask for `S: Clone` through the `Arc`s, which need no such bound.
impl<S> Clone for Node<S> {
    fn clone(&self) -> Self {
        Node {
            literals: self.literals.clone(),
            star: self.star.clone(),
            double_star: self.double_star.clone(),
            subscribers: self.subscribers.clone(),
            loops: self.loops,
        }
    }
}

impl<S> Default for Node<S> {
    fn default() -> Self {
        Node {
            literals: Literals::default(),
            star: None,
            double_star: None,
            subscribers: None,
            loops: false,
        }
    }
}

impl<S: Copy + Ord> Node<S> {
    /// Whether the node holds nothing, so its parent can drop it (on the root: whether
    /// nothing is subscribed at all).
    pub(crate) fn is_empty(&self) -> bool {
        self.literals.is_empty()
            && self.star.is_none()
            && self.double_star.is_none()
            && self.subscribers.is_none()
    }

    /// Adds `subscriber` under `pattern` below `node`, creating nodes as needed. Returns how
    /// many subscribers the pattern has now, or `None` if `subscriber` was there already.
    pub(crate) fn insert(
        node: &mut Arc<Node<S>>,
        pattern: &[PatternToken],
        subscriber: S,
    ) -> Option<usize> {
        let node = Arc::make_mut(node);
        let Some((token, rest)) = pattern.split_first() else {
            let set = Arc::make_mut(node.subscribers.get_or_insert_with(Default::default));
            return set.insert(subscriber).then_some(set.len());
        };
        let child = match token {
            PatternToken::Literal(literal) => {
                // Look up by `&str` first, so that an existing child costs no key allocation.
                if !node.literals.contains_key(&**literal) {
                    node.literals.insert(literal.clone(), Arc::default());
                }
                node.literals.get_mut(&**literal).expect("just inserted")
            }
            PatternToken::Star => node.star.get_or_insert_with(Arc::default),
            PatternToken::DoubleStar => node.double_star.get_or_insert_with(|| {
                Arc::new(Node {
                    loops: true,
                    ..Node::default()
                })
            }),
        };
        Node::insert(child, rest, subscriber)
    }

    /// Removes `subscriber` from `pattern` below `node`, dropping the nodes left empty. Returns
    /// how many subscribers the pattern has left, or `None` if `subscriber` was not there.
    ///
    /// Callers check first that the subscription exists: a call for one that does not still
    /// answers `None`, but may have copied nodes a snapshot shares.
    pub(crate) fn remove(
        node: &mut Arc<Node<S>>,
        pattern: &[PatternToken],
        subscriber: S,
    ) -> Option<usize> {
        let node = Arc::make_mut(node);
        let Some((token, rest)) = pattern.split_first() else {
            let set = Arc::make_mut(node.subscribers.as_mut()?);
            let removed = set.remove(&subscriber);
            let left = set.len();
            if left == 0 {
                node.subscribers = None;
            }
            return removed.then_some(left);
        };
        match token {
            PatternToken::Literal(literal) => {
                let child = node.literals.get_mut(&**literal)?;
                let removed = Node::remove(child, rest, subscriber);
                if child.is_empty() {
                    node.literals.remove(&**literal);
                    if node.literals.is_empty() {
                        // Give back the table's memory, not just its entries.
                        node.literals = Literals::default();
                    }
                }
                removed
            }
            PatternToken::Star => Node::remove_from_slot(&mut node.star, rest, subscriber),
            PatternToken::DoubleStar => {
                Node::remove_from_slot(&mut node.double_star, rest, subscriber)
            }
        }
    }

    fn remove_from_slot(
        slot: &mut Option<Arc<Node<S>>>,
        rest: &[PatternToken],
        subscriber: S,
    ) -> Option<usize> {
        let child = slot.as_mut()?;
        let removed = Node::remove(child, rest, subscriber);
        if child.is_empty() {
            *slot = None;
        }
        removed
    }

    /// How many nodes this subtree has, itself included.
    pub(crate) fn count_nodes(&self) -> usize {
        1 + self
            .literals
            .values()
            .chain(&self.star)
            .chain(&self.double_star)
            .map(|child| child.count_nodes())
            .sum::<usize>()
    }

    /// Replaces `out` with the subscribers of every pattern below `root` that matches
    /// `channel`, sorted and deduplicated.
    ///
    /// The trie is walked as a nondeterministic automaton, one channel token at a time: the
    /// active set holds the nodes whose pattern prefix matches the tokens read so far. A token
    /// moves each active node to its literal child for that token and to its `*` child, and
    /// keeps a `**` child (`loops`) where it is; every node brings its `**` child along, since
    /// `**` may match nothing. The work is bounded by tokens × active nodes, however many `**`s
    /// the patterns have (backtracking could take exponential time on `**/a/**/a/...`), and it
    /// allocates only when more than eight nodes are active at once.
    pub(crate) fn collect_matches(root: &Node<S>, channel: &Channel, out: &mut Vec<S>) {
        out.clear();
        let mut active: Active<'_, S> = SmallVec::new();
        let mut next: Active<'_, S> = SmallVec::new();
        active.push(root);
        add_double_star_children(&mut active);
        for token in channel.tokens() {
            next.clear();
            let mut any_loop = false;
            for node in &active {
                // An empty table needs no hashing.
                if !node.literals.is_empty() {
                    if let Some(child) = node.literals.get(token) {
                        next.push(child);
                    }
                }
                if let Some(child) = &node.star {
                    next.push(child);
                }
                if node.loops {
                    next.push(node);
                    any_loop = true;
                }
            }
            add_double_star_children(&mut next);
            // Without a looping node every node is reached along its one path from the root, so
            // only a loop can bring the same node in twice.
            if any_loop && next.len() > 1 {
                next.sort_unstable_by_key(|node| *node as *const Node<S> as usize);
                next.dedup_by(|a, b| std::ptr::eq(*a, *b));
            }
            std::mem::swap(&mut active, &mut next);
            if active.is_empty() {
                return;
            }
        }
        let mut sets = 0;
        for node in &active {
            if let Some(set) = &node.subscribers {
                out.extend(set.iter().copied());
                sets += 1;
            }
        }
        // One set is already sorted and unique; several may overlap.
        if sets > 1 {
            out.sort_unstable();
            out.dedup();
        }
    }
}

/// Appends the `**` child of every node (and theirs in turn).
fn add_double_star_children<S>(nodes: &mut Active<'_, S>) {
    let mut i = 0;
    while i < nodes.len() {
        if let Some(child) = &nodes[i].double_star {
            nodes.push(child);
        }
        i += 1;
    }
}
