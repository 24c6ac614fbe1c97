//! A simulated network of hubs for the tests: each hub a [`BridgeRouter`] and a
//! [`LocalInterest`], links as one FIFO queue of control messages run until quiet, following
//! the actor's duties in the module docs.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use super::*;
use crate::pubsub::Pattern;

/// Interest chunks small enough that full sets often come in several parts.
pub(super) const ITEMS: usize = 2;

#[derive(Debug)]
pub(super) struct Hub {
    pub router: BridgeRouter,
    pub local: LocalInterest,
}

#[derive(Debug, Clone)]
enum Wire {
    Advert(LinkState),
    Interest(InterestUpdate),
    Resend(HubId),
}

#[derive(Debug)]
pub(super) struct Net {
    pub hubs: BTreeMap<HubId, Hub>,
    pub edges: BTreeSet<(HubId, HubId)>,
    queue: VecDeque<(HubId, HubId, Wire)>,
    pub limits: BridgeLimits,
}

pub(super) fn ids(n: u64) -> Vec<HubId> {
    // Ids out of step with the order hubs are made in, so tie-breaks are not by accident.
    (0..n).map(|i| HubId((i * 7 + 3) % 11 + 100 * i)).collect()
}

pub(super) fn key(a: HubId, b: HubId) -> (HubId, HubId) {
    (a.min(b), a.max(b))
}

impl Net {
    pub fn new(hubs: &[HubId], edges: &[(HubId, HubId)]) -> Net {
        let limits = BridgeLimits::default();
        let mut net = Net {
            hubs: BTreeMap::new(),
            edges: BTreeSet::new(),
            queue: VecDeque::new(),
            limits,
        };
        for &id in hubs {
            net.add_hub(id);
        }
        for &(a, b) in edges {
            net.link_up(a, b);
        }
        net
    }

    pub fn add_hub(&mut self, id: HubId) {
        let hub = Hub {
            router: BridgeRouter::new(id, &self.limits),
            local: LocalInterest::new(id, self.limits.max_interests_per_origin),
        };
        self.hubs.insert(id, hub);
    }

    pub fn neighbors(&self, hub: HubId) -> Vec<HubId> {
        let mut out: Vec<HubId> = self
            .edges
            .iter()
            .filter_map(|&(a, b)| (a == hub).then_some(b).or((b == hub).then_some(a)))
            .collect();
        out.sort_unstable();
        out
    }

    fn readvertise(&mut self, hub: HubId) {
        let neighbors = self.neighbors(hub);
        let advert = self
            .hubs
            .get_mut(&hub)
            .unwrap()
            .router
            .set_neighbors(neighbors.clone());
        for n in neighbors {
            self.queue.push_back((hub, n, Wire::Advert(advert.clone())));
        }
    }

    /// Brings a link up the way the actor does, and runs the network until quiet.
    pub fn link_up(&mut self, a: HubId, b: HubId) {
        self.edges.insert(key(a, b));
        self.readvertise(a);
        self.readvertise(b);
        for (from, to) in [(a, b), (b, a)] {
            let hub = &self.hubs[&from];
            let mut dump: Vec<Wire> = hub
                .router
                .links()
                .all()
                .into_iter()
                .map(Wire::Advert)
                .collect();
            dump.extend(hub.local.full(ITEMS).into_iter().map(Wire::Interest));
            dump.extend(
                hub.router
                    .interest()
                    .full_all(ITEMS)
                    .into_iter()
                    .map(Wire::Interest),
            );
            self.queue.extend(dump.into_iter().map(|w| (from, to, w)));
        }
        self.run();
    }

    /// A hub dies: its links go down and its neighbors advertise that.
    pub fn kill(&mut self, dead: HubId) {
        let neighbors = self.neighbors(dead);
        self.hubs.remove(&dead);
        self.edges.retain(|&(a, b)| a != dead && b != dead);
        for n in neighbors {
            self.readvertise(n);
        }
        self.run();
    }

    pub fn subscribe(&mut self, hub: HubId, pattern: &str, group: Option<&str>) {
        let pattern = Pattern::parse(pattern).unwrap();
        self.hubs
            .get_mut(&hub)
            .unwrap()
            .local
            .subscribe(&pattern, group);
    }

    pub fn unsubscribe(&mut self, hub: HubId, pattern: &str, group: Option<&str>) {
        let pattern = Pattern::parse(pattern).unwrap();
        assert!(self
            .hubs
            .get_mut(&hub)
            .unwrap()
            .local
            .unsubscribe(&pattern, group));
    }

    /// Every hub's timer tick: take all pending updates, flood them, run until quiet.
    pub fn sync_interest(&mut self) {
        let ids: Vec<HubId> = self.hubs.keys().copied().collect();
        for id in ids {
            while let Some(update) = self.hubs.get_mut(&id).unwrap().local.take_update(ITEMS) {
                for n in self.neighbors(id) {
                    self.queue
                        .push_back((id, n, Wire::Interest(update.clone())));
                }
            }
        }
        self.run();
    }

    pub fn prune_all(&mut self, now: Instant) {
        for hub in self.hubs.values_mut() {
            hub.router.prune(now);
        }
    }

    fn flood_on(&mut self, at: HubId, from: HubId, wire: Wire) {
        for n in self.neighbors(at) {
            if n != from {
                self.queue.push_back((at, n, wire.clone()));
            }
        }
    }

    fn run(&mut self) {
        let mut steps = 0;
        while let Some((from, to, wire)) = self.queue.pop_front() {
            steps += 1;
            assert!(steps < 100_000, "control messages keep flooding");
            if !self.edges.contains(&key(from, to)) {
                continue; // the link went down under the message
            }
            let hub = self.hubs.get_mut(&to).unwrap();
            match wire {
                Wire::Advert(advert) => {
                    if hub.router.apply_link_state(&advert) {
                        self.flood_on(to, from, Wire::Advert(advert));
                    }
                }
                Wire::Interest(update) => match hub.router.apply_interest(&update) {
                    Applied::New => self.flood_on(to, from, Wire::Interest(update)),
                    Applied::Gap => self
                        .queue
                        .push_back((to, from, Wire::Resend(update.origin))),
                    Applied::Stale => {}
                    Applied::Invalid(why) => panic!("{update:?} invalid: {why}"),
                },
                Wire::Resend(origin) => {
                    let parts = if origin == to {
                        hub.local.full(ITEMS)
                    } else {
                        hub.router.interest().full(origin, ITEMS)
                    };
                    for part in parts {
                        self.queue.push_back((to, from, Wire::Interest(part)));
                    }
                }
            }
        }
    }
}

pub(super) fn advance(now: Instant, secs: u64) -> Instant {
    now + Duration::from_secs(secs)
}
