//! Random runs of the dispatch bookkeeping against a simple model: credit is never exceeded,
//! every item is acked at most once, nothing is lost, and an item is delivered again only after
//! its lease ended without an ack (its worker lost, the lease lapsed, a nack).

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use proptest::prelude::*;

use super::*;

const Q: &str = "q";
const VISIBILITY: u64 = 100;
const HEARTBEAT: u64 = 300;

#[derive(Debug, Clone)]
enum Step {
    Enqueue,
    Join(u64),
    Take(u64, u32),
    Leave(u64),
    Heard(u64),
    Ack(usize),
    Nack(usize, u64),
    Reject(usize),
    Extend(usize, u64),
    Advance(u64),
    Poll,
}

fn step() -> impl Strategy<Value = Step> {
    let w = 0u64..3;
    let k = 0usize..12;
    prop_oneof![
        4 => Just(Step::Enqueue),
        2 => w.clone().prop_map(Step::Join),
        2 => (w.clone(), 0u32..4).prop_map(|(w, c)| Step::Take(w, c)),
        1 => w.clone().prop_map(Step::Leave),
        3 => w.prop_map(Step::Heard),
        4 => k.clone().prop_map(Step::Ack),
        2 => (k.clone(), 0u64..200).prop_map(|(k, d)| Step::Nack(k, d)),
        1 => k.clone().prop_map(Step::Reject),
        2 => (k, 0u64..300).prop_map(|(k, e)| Step::Extend(k, e)),
        3 => (1u64..150).prop_map(Step::Advance),
        5 => Just(Step::Poll),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Leased(LeaseId),
    Acked,
    Dead,
}

#[derive(Default)]
struct Model {
    items: BTreeMap<u64, State>,
    /// Every lease ever given, in order: `(lease, worker, item)`.
    leases: Vec<(LeaseId, WorkerId, u64)>,
    active: BTreeSet<LeaseId>,
    credit: BTreeMap<WorkerId, u32>,
    in_flight: BTreeMap<WorkerId, u32>,
    acks: BTreeMap<u64, u32>,
    next_id: u64,
}

impl Model {
    /// A lease ended: the item left `Leased`.
    fn ended(&mut self, lease: LeaseId, settled: &Settled) {
        assert!(self.active.remove(&lease), "{lease} ended twice");
        let &(_, worker, item) = self.leases.iter().find(|l| l.0 == lease).unwrap();
        *self.in_flight.get_mut(&worker).unwrap() -= 1;
        assert_eq!(settled.item(), (Q, item));
        assert_eq!(self.items[&item], State::Leased(lease));
        let next = match settled {
            Settled::Acked { .. } => {
                *self.acks.entry(item).or_default() += 1;
                State::Acked
            }
            Settled::Dead { .. } => State::Dead,
            Settled::Retry { .. } | Settled::Released { .. } => State::Waiting,
        };
        self.items.insert(item, next);
    }

    fn lease_of(&self, worker: WorkerId) -> Vec<LeaseId> {
        self.leases
            .iter()
            .filter(|l| l.1 == worker && self.active.contains(&l.0))
            .map(|l| l.0)
            .collect()
    }
}

fn run(steps: Vec<Step>) {
    let limits = DispatchLimits {
        heartbeat_timeout_ms: HEARTBEAT,
        ..DispatchLimits::default()
    };
    let mut d = Dispatch::new(Box::new(LeastInFlight), limits);
    let config = QueueConfig {
        visibility_ms: VISIBILITY,
        max_lease_ms: 1_000,
        max_deliveries: 3,
    };
    d.declare_queue(Q, config);
    let mut m = Model::default();
    let mut now = 0u64;
    for step in steps {
        apply(&mut d, &mut m, &mut now, step);
        check(&d, &m);
    }
    // Drain: the others leave, and one fresh worker with plenty of credit acks everything;
    // every item must end acked or dead-lettered.
    let others: Vec<u64> = m.credit.keys().map(|w| w.0).collect();
    for w in others {
        apply(&mut d, &mut m, &mut now, Step::Leave(w));
    }
    let last = WorkerId(99);
    d.join(last, "drain".into(), now);
    m.credit.insert(last, 1_000);
    m.in_flight.insert(last, 0);
    d.take(last, vec![Q.into()], 1_000, now).unwrap();
    for _ in 0..3 {
        now += HEARTBEAT;
        d.heard(last, now);
        apply(&mut d, &mut m, &mut now, Step::Poll);
        for lease in m.lease_of(last) {
            let settled = d.ack(last, lease).unwrap();
            m.ended(lease, &settled);
        }
        apply(&mut d, &mut m, &mut now, Step::Advance(VISIBILITY));
    }
    for (id, state) in &m.items {
        assert!(
            matches!(state, State::Acked | State::Dead),
            "item {id} left {state:?}"
        );
    }
    assert!(m.acks.values().all(|&n| n == 1), "acked at most once");
}

fn check(d: &Dispatch, m: &Model) {
    let held: Vec<(String, u64)> = m
        .items
        .iter()
        .filter(|(_, s)| matches!(s, State::Waiting | State::Leased(_)))
        .map(|(id, _)| (Q.to_owned(), *id))
        .collect();
    assert_eq!(d.item_keys(), held, "nothing lost, nothing extra");
    assert_eq!(d.leases_held(), m.active.len());
    // The kept in-flight count (the ENQUEUE bound and the figures read it) is the leases'.
    let leased = m
        .items
        .values()
        .filter(|s| matches!(s, State::Leased(_)))
        .count();
    assert_eq!(d.in_flight(Q), leased, "in flight");
    let figures = d.queue_figures();
    assert_eq!(figures[0].1.in_flight as usize, leased);
}

fn pick(m: &Model, k: usize) -> Option<(LeaseId, WorkerId)> {
    m.leases.get(k % m.leases.len().max(1)).map(|l| (l.0, l.1))
}

fn apply(d: &mut Dispatch, m: &mut Model, now: &mut u64, step: Step) {
    match step {
        Step::Enqueue => {
            m.next_id += 1;
            d.add_item(Q, WorkItem::new(m.next_id, Bytes::new()), *now)
                .unwrap();
            m.items.insert(m.next_id, State::Waiting);
        }
        Step::Join(w) => {
            let w = WorkerId(w);
            if let std::collections::btree_map::Entry::Vacant(e) = m.credit.entry(w) {
                e.insert(0);
                d.join(w, "w".into(), *now);
                m.in_flight.insert(w, 0);
            }
        }
        Step::Take(w, credit) => {
            let w = WorkerId(w);
            let taken = d.take(w, vec![Q.into()], credit, *now);
            assert_eq!(taken.is_ok(), m.credit.contains_key(&w));
            if taken.is_ok() {
                m.credit.insert(w, credit);
            }
        }
        Step::Leave(w) => {
            let w = WorkerId(w);
            let mine = m.lease_of(w);
            let released = d.leave(w, *now);
            assert_eq!(released.len(), mine.len());
            for (lease, settled) in mine.into_iter().zip(&released) {
                assert!(matches!(settled, Settled::Released { .. }));
                m.ended(lease, settled);
            }
            m.credit.remove(&w);
            m.in_flight.remove(&w);
        }
        Step::Heard(w) => d.heard(WorkerId(w), *now),
        Step::Ack(k) | Step::Nack(k, _) | Step::Reject(k) => {
            let Some((lease, worker)) = pick(m, k) else {
                return;
            };
            let answer = match step {
                Step::Ack(_) => d.ack(worker, lease),
                Step::Nack(_, delay) => d.nack(worker, lease, delay, "no", *now),
                _ => d.reject(worker, lease, "never"),
            };
            assert_eq!(answer.is_ok(), m.active.contains(&lease), "{lease}");
            if let Ok(settled) = answer {
                m.ended(lease, &settled);
            }
        }
        Step::Extend(k, by) => {
            if let Some((lease, worker)) = pick(m, k) {
                let extended = d.extend(worker, lease, by, *now);
                assert_eq!(extended.is_ok(), m.active.contains(&lease));
            }
        }
        Step::Advance(ms) => {
            *now += ms;
            let tick = d.tick(*now);
            for (worker, released) in tick.lost {
                let mine = m.lease_of(worker);
                assert_eq!(released.len(), mine.len());
                for (lease, settled) in mine.into_iter().zip(&released) {
                    m.ended(lease, settled);
                }
                m.credit.remove(&worker);
                m.in_flight.remove(&worker);
            }
            // Lapsed leases come in lease order; match them by item.
            for settled in tick.lapsed {
                let (_, id) = settled.item();
                let State::Leased(lease) = m.items[&id] else {
                    panic!("item {id} lapsed while {:?}", m.items[&id]);
                };
                m.ended(lease, &settled);
            }
        }
        Step::Poll => {
            for delivery in d.poll_deliveries(*now) {
                let w = delivery.worker;
                let in_flight = m.in_flight.get_mut(&w).expect("a connected worker");
                assert!(*in_flight < m.credit[&w], "credit exceeded");
                *in_flight += 1;
                assert_eq!(
                    m.items[&delivery.id],
                    State::Waiting,
                    "delivered only when its last lease ended without an ack"
                );
                m.items.insert(delivery.id, State::Leased(delivery.lease));
                m.leases.push((delivery.lease, w, delivery.id));
                m.active.insert(delivery.lease);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn dispatch_keeps_credit_and_loses_nothing(steps in proptest::collection::vec(step(), 1..80)) {
        run(steps);
    }
}
