//! The rules of the dispatch bookkeeping, one case each.

use bytes::Bytes;

use super::*;

const Q: &str = "jobs";

fn dispatch(config: QueueConfig) -> Dispatch {
    let mut d = Dispatch::new(Box::new(LeastInFlight), DispatchLimits::default());
    d.declare_queue(Q, config);
    d
}

fn item(id: u64) -> WorkItem {
    WorkItem::new(id, Bytes::from(format!("body {id}")))
}

fn worker(d: &mut Dispatch, id: u64, credit: u32, now: u64) -> WorkerId {
    let w = WorkerId(id);
    d.join(w, format!("w{id}"), now);
    d.take(w, vec![Q.into()], credit, now).unwrap();
    w
}

#[test]
fn items_go_out_oldest_first_within_credit() {
    let mut d = dispatch(QueueConfig::default());
    for id in 1..=5 {
        d.add_item(Q, item(id), 0).unwrap();
    }
    let w = worker(&mut d, 1, 2, 0);
    let out = d.poll_deliveries(0);
    assert_eq!(out.iter().map(|x| x.id).collect::<Vec<_>>(), [1, 2]);
    assert!(out.iter().all(|x| x.worker == w && x.delivery == 1));
    assert!(d.poll_deliveries(0).is_empty(), "credit 2 is used up");
    d.ack(w, out[0].lease).unwrap();
    assert_eq!(d.poll_deliveries(0)[0].id, 3);
}

#[test]
fn an_ack_settles_once_and_a_late_answer_is_refused() {
    let mut d = dispatch(QueueConfig::default());
    d.add_item(Q, item(1), 0).unwrap();
    let w = worker(&mut d, 1, 1, 0);
    let lease = d.poll_deliveries(0)[0].lease;
    assert_eq!(
        d.ack(w, lease),
        Ok(Settled::Acked {
            queue: Q.into(),
            id: 1
        })
    );
    assert_eq!(d.ack(w, lease), Err(LeaseError::Unknown(lease)));
    assert!(d.nack(w, lease, 0, "late", 0).is_err());
}

#[test]
fn a_lost_worker_gives_its_items_back_uncounted() {
    let mut d = dispatch(QueueConfig {
        max_deliveries: 1,
        ..QueueConfig::default()
    });
    d.add_item(Q, item(1), 0).unwrap();
    let a = worker(&mut d, 1, 1, 0);
    let first = d.poll_deliveries(0).remove(0);
    assert_eq!(first.worker, a);
    let released = d.leave(a, 10);
    assert_eq!(
        released,
        [Settled::Released {
            queue: Q.into(),
            id: 1
        }]
    );
    let b = worker(&mut d, 2, 1, 10);
    let again = d.poll_deliveries(10).remove(0);
    assert_eq!((again.worker, again.id, again.delivery), (b, 1, 2));
    // Even with max_deliveries 1, the loss did not count: a nack now is the first failure.
    assert!(matches!(
        d.nack(b, again.lease, 0, "no", 10),
        Ok(Settled::Dead { .. })
    ));
}

#[test]
fn a_silent_worker_is_taken_for_lost_at_the_heartbeat_timeout() {
    let mut d = dispatch(QueueConfig::default());
    let limits = DispatchLimits::default();
    d.add_item(Q, item(1), 0).unwrap();
    let a = worker(&mut d, 1, 1, 0);
    let lease = d.poll_deliveries(0)[0].lease;
    d.heard(a, 1_000);
    assert!(d.tick(limits.heartbeat_timeout_ms).lost.is_empty());
    let tick = d.tick(1_000 + limits.heartbeat_timeout_ms);
    assert_eq!(tick.lost.len(), 1);
    assert_eq!(tick.lost[0].0, a);
    assert!(tick.lapsed.is_empty());
    assert_eq!(d.ack(a, lease), Err(LeaseError::Unknown(lease)));
    assert_eq!(d.pending(Q), 1);
}

#[test]
fn a_lapsed_lease_counts_and_the_limit_dead_letters() {
    let mut d = dispatch(QueueConfig {
        visibility_ms: 100,
        max_deliveries: 2,
        ..QueueConfig::default()
    });
    d.add_item(Q, item(1), 0).unwrap();
    let w = worker(&mut d, 1, 1, 0);
    d.poll_deliveries(0);
    d.heard(w, 100);
    let tick = d.tick(100);
    assert!(matches!(tick.lapsed[..], [Settled::Retry { id: 1, .. }]));
    let second = d.poll_deliveries(100).remove(0);
    assert_eq!(second.delivery, 2);
    d.heard(w, 200);
    let tick = d.tick(200);
    assert!(matches!(tick.lapsed[..], [Settled::Dead { id: 1, .. }]));
    assert_eq!(d.pending(Q), 0);
    assert!(d.poll_deliveries(200).is_empty());
}

#[test]
fn progress_extends_a_lease_up_to_the_cap() {
    let mut d = dispatch(QueueConfig {
        visibility_ms: 100,
        max_lease_ms: 1_000,
        max_deliveries: 5,
    });
    d.add_item(Q, item(1), 0).unwrap();
    let w = worker(&mut d, 1, 1, 0);
    let lease = d.poll_deliveries(0)[0].lease;
    for now in (50..900).step_by(50) {
        d.heard(w, now);
        assert_eq!(d.extend(w, lease, 0, now), Ok(now + 100));
        assert!(d.tick(now).lapsed.is_empty());
    }
    assert_eq!(d.extend(w, lease, 5_000, 950), Ok(1_000), "capped");
    d.heard(w, 1_000);
    assert_eq!(d.tick(1_000).lapsed.len(), 1);
}

#[test]
fn a_nack_delays_and_a_reject_dead_letters() {
    let mut d = dispatch(QueueConfig::default());
    d.add_item(Q, item(1), 0).unwrap();
    d.add_item(Q, item(2), 0).unwrap();
    let w = worker(&mut d, 1, 2, 0);
    let out = d.poll_deliveries(0);
    let retry = d.nack(w, out[0].lease, 500, "later", 10).unwrap();
    assert!(matches!(
        retry,
        Settled::Retry {
            not_before_ms: 510,
            ..
        }
    ));
    let dead = d.reject(w, out[1].lease, "bad input").unwrap();
    assert!(matches!(dead, Settled::Dead { id: 2, .. }));
    assert!(d.poll_deliveries(509).is_empty(), "delayed");
    assert_eq!(d.poll_deliveries(510)[0].id, 1);
}

#[test]
fn lowered_credit_drains_and_a_paused_queue_holds_its_items() {
    let mut d = dispatch(QueueConfig::default());
    for id in 1..=3 {
        d.add_item(Q, item(id), 0).unwrap();
    }
    let w = worker(&mut d, 1, 2, 0);
    let out = d.poll_deliveries(0);
    d.take(w, vec![Q.into()], 0, 0).unwrap();
    d.ack(w, out[0].lease).unwrap();
    assert!(d.poll_deliveries(0).is_empty(), "draining");
    d.take(w, vec![Q.into()], 5, 0).unwrap();
    d.set_paused(Q, true).unwrap();
    assert!(d.poll_deliveries(0).is_empty(), "paused");
    d.set_paused(Q, false).unwrap();
    assert_eq!(d.poll_deliveries(0)[0].id, 3);
}

#[test]
fn send_all_gives_every_worker_a_copy_within_its_credit() {
    let mut d = dispatch(QueueConfig::default());
    let a = worker(&mut d, 1, 1, 0);
    let b = worker(&mut d, 2, 1, 0);
    let c = WorkerId(3);
    d.join(c, "other".into(), 0);
    assert_eq!(d.send_all(Q, 7, Bytes::from_static(b"x")), Ok(2));
    assert_eq!(d.send_all(Q, 8, Bytes::from_static(b"y")), Ok(2));
    let out = d.poll_deliveries(0);
    let mut got: Vec<(WorkerId, u64)> = out.iter().map(|x| (x.worker, x.id)).collect();
    got.sort();
    assert_eq!(got, [(a, 7), (b, 7)]);
    assert!(out.iter().all(|x| x.broadcast));
    d.ack(a, out.iter().find(|x| x.worker == a).unwrap().lease)
        .unwrap();
    let next = d.poll_deliveries(0);
    assert_eq!((next[0].worker, next[0].id), (a, 8));
}

#[test]
fn unknown_queues_and_duplicate_items_are_refused() {
    let mut d = dispatch(QueueConfig::default());
    assert_eq!(
        d.add_item("nope", item(1), 0),
        Err(WorkError::UnknownQueue("nope".into()))
    );
    d.add_item(Q, item(1), 0).unwrap();
    assert!(matches!(
        d.add_item(Q, item(1), 0),
        Err(WorkError::DuplicateItem { .. })
    ));
    let w = WorkerId(1);
    d.join(w, "w".into(), 0);
    assert!(d.take(w, vec![Q.into(), "nope".into()], 1, 0).is_err());
    d.take(w, vec![Q.into()], 1, 0).unwrap();
    d.poll_deliveries(0);
    assert!(
        d.add_item(Q, item(1), 0).is_err(),
        "a leased id is still in the queue"
    );
}

#[derive(Debug)]
struct Panicky;

impl DispatchPolicy for Panicky {
    fn choose(&mut self, _: ItemView<'_>, _: &[WorkerView<'_>]) -> Option<usize> {
        panic!("a user's policy went wrong")
    }
}

#[test]
fn a_policy_that_panics_is_counted_and_least_in_flight_chooses() {
    let mut d = Dispatch::new(Box::new(Panicky), DispatchLimits::default());
    d.declare_queue(Q, QueueConfig::default());
    d.add_item(Q, item(1), 0).unwrap();
    worker(&mut d, 1, 1, 0);
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let out = d.poll_deliveries(0);
    std::panic::set_hook(hook);
    assert_eq!(out.len(), 1);
    assert_eq!(d.policy_faults(), 1);
}

#[test]
fn a_busy_worker_is_steered_around_by_weighted_by_status() {
    let mut d = Dispatch::new(Box::new(WeightedByStatus), DispatchLimits::default());
    d.declare_queue(Q, QueueConfig::default());
    let busy = worker(&mut d, 1, 10, 0);
    let free = worker(&mut d, 2, 10, 0);
    let status = WorkerStatus {
        busy: true,
        ..WorkerStatus::default()
    };
    d.set_status(busy, status, 0).unwrap();
    for id in 1..=6 {
        d.add_item(Q, item(id), 0).unwrap();
    }
    let out = d.poll_deliveries(0);
    assert_eq!(out.len(), 6);
    assert!(out.iter().all(|x| x.worker == free));
}

#[test]
fn a_dead_item_carries_its_body_and_every_earlier_failure() {
    let mut d = dispatch(QueueConfig {
        max_deliveries: 3,
        ..QueueConfig::default()
    });
    d.add_item(Q, item(1).enqueued_at(5), 0).unwrap();
    let w = worker(&mut d, 1, 1, 0);
    let first = d.poll_deliveries(0).remove(0);
    d.nack(w, first.lease, 0, "disk full", 10).unwrap();
    let second = d.poll_deliveries(10).remove(0);
    d.nack(w, second.lease, 0, "still full", 20).unwrap();
    let third = d.poll_deliveries(20).remove(0);
    let Ok(Settled::Dead { reason, item, .. }) = d.nack(w, third.lease, 0, "gave up", 30) else {
        panic!("the third counted failure is the last");
    };
    assert_eq!(reason, "gave up (failure 3 of at most 3)");
    assert_eq!(item.body, Bytes::from("body 1"));
    assert_eq!((item.enqueued_at_ms, item.failures), (5, 3));
    let earlier: Vec<(u64, &str)> = item
        .errors
        .iter()
        .map(|e| (e.at_ms, e.message.as_str()))
        .collect();
    assert_eq!(earlier, [(10, "disk full"), (20, "still full")]);
}
