//! Messages sent through a simulated [`Net`] the way the actor sends them, and the reference
//! they are checked against: each origin's tree built a different way (distances by relaxing
//! edges, not breadth-first search).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::test_net::{key, Net};
use super::*;
use crate::pubsub::Channel;

/// What one message did: who took it how often, which links it crossed, who refused it.
#[derive(Debug, Default)]
pub(super) struct Delivery {
    pub received: BTreeMap<HubId, usize>,
    pub hops: Vec<(HubId, HubId)>,
    pub refused: Vec<(HubId, HubId)>,
}

impl Net {
    /// Sends a message of `origin` the way the actor does: forwarded along `targets`, or to
    /// every child when `everywhere`, taken only from the parent.
    pub fn send(
        &self,
        origin: HubId,
        channel: &str,
        picked: &[HubId],
        everywhere: bool,
    ) -> Delivery {
        let channel = Channel::parse(channel).unwrap();
        let mut delivery = Delivery::default();
        let next = |at: HubId| -> Vec<HubId> {
            let router = &self.hubs[&at].router;
            if everywhere {
                router.routes().children(origin).to_vec()
            } else {
                router.targets(origin, &channel, picked)
            }
        };
        let mut queue: VecDeque<(HubId, HubId)> =
            next(origin).into_iter().map(|to| (origin, to)).collect();
        while let Some((from, to)) = queue.pop_front() {
            assert!(delivery.hops.len() < 10_000, "message loops");
            assert!(
                self.edges.contains(&key(from, to)),
                "sent over a link that is down"
            );
            delivery.hops.push((from, to));
            if !self.hubs[&to].router.accept_from(origin, from) {
                delivery.refused.push((from, to));
                continue;
            }
            *delivery.received.entry(to).or_default() += 1;
            queue.extend(next(to).into_iter().map(|n| (to, n)));
        }
        delivery
    }

    /// The hubs reachable from `origin` over live links, `origin` included.
    pub fn component(&self, origin: HubId) -> BTreeSet<HubId> {
        self.distances(origin).into_keys().collect()
    }

    /// Hop counts from `origin`, computed by relaxing edges until nothing changes (not BFS).
    fn distances(&self, origin: HubId) -> BTreeMap<HubId, usize> {
        let mut distance = BTreeMap::from([(origin, 0)]);
        loop {
            let mut changed = false;
            for &(a, b) in &self.edges {
                for (x, y) in [(a, b), (b, a)] {
                    if let Some(&dx) = distance.get(&x) {
                        if distance.get(&y).is_none_or(|&dy| dx + 1 < dy) {
                            distance.insert(y, dx + 1);
                            changed = true;
                        }
                    }
                }
            }
            if !changed {
                return distance;
            }
        }
    }

    /// The links (parent, child) of the reference tree of `origin` that lead to `wanted`.
    pub fn expected_hops(
        &self,
        origin: HubId,
        wanted: &BTreeSet<HubId>,
    ) -> BTreeSet<(HubId, HubId)> {
        let distance = self.distances(origin);
        let mut hops = BTreeSet::new();
        for &hub in wanted {
            let mut at = hub;
            while at != origin {
                let Some(&d) = distance.get(&at) else { break };
                let parent = self
                    .neighbors(at)
                    .into_iter()
                    .filter(|n| distance.get(n) == Some(&(d - 1)))
                    .min()
                    .unwrap();
                hops.insert((parent, at));
                at = parent;
            }
        }
        hops
    }
}

/// Floods from every origin; every other hub of its component takes it once, nobody refuses
/// (the trees agree), and it crosses exactly one link per hub reached.
pub(super) fn assert_exactly_once_from_everywhere(net: &Net) {
    for &origin in net.hubs.keys() {
        let delivery = net.send(origin, "any", &[], true);
        let expected: BTreeSet<HubId> = net
            .component(origin)
            .into_iter()
            .filter(|&h| h != origin)
            .collect();
        assert!(
            delivery.refused.is_empty(),
            "from {origin}: refused {:?}",
            delivery.refused
        );
        assert_eq!(
            delivery.received.keys().copied().collect::<BTreeSet<_>>(),
            expected,
            "from {origin}"
        );
        assert!(
            delivery.received.values().all(|&n| n == 1),
            "from {origin}: {:?}",
            delivery.received
        );
        assert_eq!(
            delivery.hops.len(),
            expected.len(),
            "from {origin}: one link per hub"
        );
    }
}
