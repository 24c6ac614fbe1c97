//! [`LinkState`] adverts and the [`LinkStateDb`] that keeps the newest one per hub.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use super::{HubId, MAX_ADVERT_NEIGHBORS};

/// A hub's advert of its current bridge neighbors, flooded to every hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkState {
    /// The hub that advertises.
    pub origin: HubId,
    /// Grows with every advert of `origin`: the newest advert wins wherever it arrives first.
    pub seq: u64,
    /// The hubs `origin` has a bridge link to (sorted, each once, never `origin` itself, once
    /// stored in a [`LinkStateDb`]).
    pub neighbors: Vec<HubId>,
}

/// The newest [`LinkState`] of every hub this hub has heard of, its own included.
///
/// An edge between two hubs counts only when both list each other: a hub that died keeps
/// listing its old neighbors in its last advert, but they stop listing it, so it stops being
/// reachable without anyone having to speak for it.
///
/// Records of hubs that are no longer reachable are dropped by [`prune`](Self::prune), but only
/// once they have stayed unreachable for a grace period. Dropping at once would race a new
/// link: the advert of a hub that just joined can arrive before the advert of the neighbor that
/// lists it, and a record dropped then is not sent again until its hub's next change.
#[derive(Debug, Clone)]
pub struct LinkStateDb {
    me: HubId,
    records: BTreeMap<HubId, Record>,
    /// Grows with every change to the records, so routes know when they are out of date.
    generation: u64,
    prune_grace: Duration,
}

#[derive(Debug, Clone)]
struct Record {
    state: LinkState,
    /// When [`LinkStateDb::prune`] first found the hub unreachable (since it last was).
    unreachable_since: Option<Instant>,
}

impl LinkStateDb {
    /// A database that knows only `me`, with no neighbors, at sequence 0. Records of hubs that
    /// stay unreachable for `prune_grace` are dropped by [`prune`](Self::prune).
    pub fn new(me: HubId, prune_grace: Duration) -> Self {
        let own = LinkState {
            origin: me,
            seq: 0,
            neighbors: Vec::new(),
        };
        let mut records = BTreeMap::new();
        records.insert(
            me,
            Record {
                state: own,
                unreachable_since: None,
            },
        );
        LinkStateDb {
            me,
            records,
            generation: 0,
            prune_grace,
        }
    }

    /// This hub.
    pub fn me(&self) -> HubId {
        self.me
    }

    /// Takes `advert` if it is newer than the record held for its origin. Returns `true` when
    /// it was taken: the caller floods it on to its other links. An advert about this hub is
    /// never taken (this hub alone speaks for itself); if its sequence is not below ours, the
    /// next [`own`](Self::own) jumps past it. An advert listing more than
    /// [`MAX_ADVERT_NEIGHBORS`] neighbors is refused.
    pub fn apply(&mut self, advert: &LinkState) -> bool {
        if advert.neighbors.len() > MAX_ADVERT_NEIGHBORS {
            return false;
        }
        if advert.origin == self.me {
            let own = &mut self.own_record_mut().state;
            own.seq = own.seq.max(advert.seq);
            return false;
        }
        if let Some(held) = self.records.get(&advert.origin) {
            if held.state.seq >= advert.seq {
                return false;
            }
        }
        let state = LinkState {
            origin: advert.origin,
            seq: advert.seq,
            neighbors: normalized(advert.origin, advert.neighbors.clone()),
        };
        self.records.insert(
            advert.origin,
            Record {
                state,
                unreachable_since: None,
            },
        );
        self.generation += 1;
        true
    }

    /// Records this hub's current neighbors under a new sequence number and returns the advert
    /// to flood on every link.
    pub fn own(&mut self, neighbors: Vec<HubId>) -> LinkState {
        let me = self.me;
        let own = &mut self.own_record_mut().state;
        own.seq += 1;
        own.neighbors = normalized(me, neighbors);
        let advert = own.clone();
        self.generation += 1;
        advert
    }

    fn own_record_mut(&mut self) -> &mut Record {
        self.records
            .get_mut(&self.me)
            .expect("the own record is never removed")
    }

    /// Every record held, this hub's own included: what to send on a new link.
    pub fn all(&self) -> Vec<LinkState> {
        self.records.values().map(|r| r.state.clone()).collect()
    }

    /// The record held for `origin`.
    pub fn get(&self, origin: HubId) -> Option<&LinkState> {
        self.records.get(&origin).map(|r| &r.state)
    }

    /// Whether a record for `origin` is held.
    pub fn contains(&self, origin: HubId) -> bool {
        self.records.contains_key(&origin)
    }

    /// How many records are held, this hub's own included.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Always `false`: the own record is always there. Here for the `len` convention.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Grows with every change to the records.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether `a` and `b` both list each other: only then is there an edge between them.
    pub fn linked(&self, a: HubId, b: HubId) -> bool {
        let lists = |x: HubId, y: HubId| {
            self.get(x)
                .is_some_and(|s| s.neighbors.binary_search(&y).is_ok())
        };
        lists(a, b) && lists(b, a)
    }

    /// The hubs `hub` has an edge to (both sides listing each other), sorted.
    pub fn linked_neighbors(&self, hub: HubId) -> Vec<HubId> {
        let Some(state) = self.get(hub) else {
            return Vec::new();
        };
        state
            .neighbors
            .iter()
            .copied()
            .filter(|&n| self.linked(hub, n))
            .collect()
    }

    /// The hubs reachable from this hub over edges, this hub included, sorted.
    pub fn reachable(&self) -> Vec<HubId> {
        let mut seen = BTreeSet::from([self.me]);
        let mut queue = VecDeque::from([self.me]);
        while let Some(hub) = queue.pop_front() {
            for n in self.linked_neighbors(hub) {
                if seen.insert(n) {
                    queue.push_back(n);
                }
            }
        }
        seen.into_iter().collect()
    }

    /// Drops the records of hubs that have been unreachable for the grace period, at two calls
    /// at least that far apart, and returns their ids. A reachable hub's record is always kept.
    /// Call it after changes and on a timer; nothing here reads a clock.
    pub fn prune(&mut self, now: Instant) -> Vec<HubId> {
        let reachable = self.reachable();
        let mut dropped = Vec::new();
        for (&hub, record) in &mut self.records {
            if reachable.binary_search(&hub).is_ok() {
                record.unreachable_since = None;
                continue;
            }
            let since = *record.unreachable_since.get_or_insert(now);
            if now.saturating_duration_since(since) >= self.prune_grace {
                dropped.push(hub);
            }
        }
        for hub in &dropped {
            self.records.remove(hub);
        }
        if !dropped.is_empty() {
            self.generation += 1;
        }
        dropped
    }
}

/// Sorted, each once, without `origin` itself.
fn normalized(origin: HubId, mut neighbors: Vec<HubId>) -> Vec<HubId> {
    neighbors.sort_unstable();
    neighbors.dedup();
    neighbors.retain(|&n| n != origin);
    neighbors
}
