//! Reply routes answer the caller's hub until the last answer, the age bound or the count
//! bound, and agree with a plain model under any sequence of calls, answers and time.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;
use crate::pubsub::Channel;

fn inbox(n: u32) -> Channel {
    Channel::parse(&format!("_inbox/t/{n}")).unwrap()
}

#[test]
fn answers_follow_the_call_until_the_last_one() {
    let now = Instant::now();
    let mut routes = ReplyRoutes::default();
    routes.remember(&inbox(1), HubId(3), now);
    assert_eq!(routes.route(&inbox(1), false, now), Some(HubId(3)), "ack");
    assert_eq!(routes.route(&inbox(1), true, now), Some(HubId(3)), "reply");
    assert_eq!(routes.route(&inbox(1), true, now), None, "the call is over");
    assert_eq!(routes.route(&inbox(2), false, now), None, "never a call");
    assert!(routes.is_empty());
}

#[test]
fn old_routes_are_forgotten() {
    let start = Instant::now();
    let mut routes = ReplyRoutes::new(8, Duration::from_secs(1));
    routes.remember(&inbox(1), HubId(3), start);
    let later = start + Duration::from_millis(1500);
    assert_eq!(routes.route(&inbox(1), false, later), None);
    routes.remember(&inbox(2), HubId(4), start);
    routes.remember(&inbox(3), HubId(4), later);
    assert_eq!(routes.len(), 1, "remembering expires the old ones");
}

#[test]
fn the_oldest_goes_at_the_bound() {
    let now = Instant::now();
    let mut routes = ReplyRoutes::new(2, Duration::from_secs(60));
    routes.remember(&inbox(1), HubId(3), now);
    routes.remember(&inbox(2), HubId(4), now);
    routes.remember(&inbox(3), HubId(3), now);
    assert_eq!(routes.len(), 2);
    assert_eq!(routes.route(&inbox(1), false, now), None, "the oldest went");
    assert_eq!(routes.route(&inbox(3), false, now), Some(HubId(3)));
    assert_eq!(routes.route(&inbox(2), false, now), Some(HubId(4)));
}

#[test]
fn answered_calls_do_not_pile_up_behind_a_long_one() {
    let now = Instant::now();
    let mut routes = ReplyRoutes::new(4, Duration::from_secs(60));
    routes.remember(&inbox(0), HubId(1), now);
    for n in 1..10_000 {
        routes.remember(&inbox(n), HubId(2), now);
        routes.route(&inbox(n), true, now);
    }
    assert!(
        routes.order.len() <= 8,
        "{} order entries",
        routes.order.len()
    );
    assert_eq!(routes.route(&inbox(0), false, now), Some(HubId(1)));
}

#[derive(Debug, Clone)]
enum Op {
    Call(u32, u64),
    Answer(u32, bool),
    Wait(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..12u32, 1..4u64).prop_map(|(n, hub)| Op::Call(n, hub)),
        (0..12u32, any::<bool>()).prop_map(|(n, last)| Op::Answer(n, last)),
        (0..400u64).prop_map(Op::Wait),
    ]
}

/// The model: a list of (reply-to, hub, when), oldest first.
fn model_route(
    model: &mut VecDeque<(u32, u64, u64)>,
    n: u32,
    last: bool,
    now: u64,
    age: u64,
) -> Option<HubId> {
    let at = model.iter().position(|(m, _, _)| *m == n)?;
    let (_, hub, when) = model[at];
    let fresh = now - when <= age;
    if last || !fresh {
        model.remove(at);
    }
    fresh.then_some(HubId(hub))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn agrees_with_a_plain_list(ops in prop::collection::vec(op(), 0..200)) {
        const CAPACITY: usize = 5;
        const AGE: u64 = 1000;
        let start = Instant::now();
        let mut routes = ReplyRoutes::new(CAPACITY, Duration::from_millis(AGE));
        let mut model: VecDeque<(u32, u64, u64)> = VecDeque::new();
        let mut now = 0u64;
        for op in ops {
            let at = start + Duration::from_millis(now);
            match op {
                Op::Call(n, hub) => {
                    routes.remember(&inbox(n), HubId(hub), at);
                    model.retain(|(_, _, when)| now - when <= AGE);
                    model.retain(|(m, _, _)| *m != n);
                    while model.len() >= CAPACITY {
                        model.pop_front();
                    }
                    model.push_back((n, hub, now));
                }
                Op::Answer(n, last) => {
                    let want = model_route(&mut model, n, last, now, AGE);
                    prop_assert_eq!(routes.route(&inbox(n), last, at), want);
                }
                Op::Wait(ms) => now += ms,
            }
            prop_assert!(routes.len() <= CAPACITY);
            prop_assert!(routes.order.len() <= 2 * CAPACITY + 1);
        }
    }
}
