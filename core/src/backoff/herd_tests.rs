//! Spokes cut off from one hub together do not come back together: with the spoke's default
//! policy, 150 spokes spread their reconnects over more than a second after an 8 s outage, with
//! no 20 ms window taking more than 5 % of them, for a first outage and for a second one that
//! finds every spoke's back-off already at its cap.

use std::time::{Duration, Instant};

use super::*;
use crate::spoke::SpokeOptions;

/// Spokes of the one hub.
const SPOKES: u64 = 150;
/// How long the hub is away.
const OUTAGE: Duration = Duration::from_secs(8);
/// How long the hub stays up between its two outages: shorter than the spoke's 30 s
/// `reset_after`, so the second outage starts where the first left the attempt count.
const UP_BETWEEN: Duration = Duration::from_secs(10);
/// The window no more than 5 % of the spokes may share.
const WINDOW: Duration = Duration::from_millis(20);
/// 5 % of the spokes.
const MOST_IN_ONE_WINDOW: usize = (SPOKES * 5 / 100) as usize;
/// The least time from the first spoke's reconnect to the last one's.
const LEAST_SPREAD: Duration = Duration::from_secs(1);

/// One spoke: its attempt count and its own generator, as `SpokeActor` keeps them.
struct Spoke {
    state: BackoffState,
    jitter: SplitMix64,
}

/// When `spoke`, cut off at `down` from a hub that refuses every connect until `down +
/// OUTAGE`, connects again: its first attempt at or after that instant.
fn reconnect(spoke: &mut Spoke, policy: &BackoffPolicy, down: Instant) -> Instant {
    let back = down + OUTAGE;
    let refused = Failure::retryable("connection refused");
    let mut now = down;
    loop {
        let decision = spoke
            .state
            .on_failure(policy, &refused, now, &mut spoke.jitter);
        now += decision.delay().expect("a spoke reconnects forever");
        if now >= back {
            return now;
        }
    }
}

/// Fails unless the reconnects (offsets from the hub's return) spread over `LEAST_SPREAD` and
/// no `WINDOW` holds more than `MOST_IN_ONE_WINDOW`.
fn assert_spread_out(mut reconnects: Vec<Duration>, outage: &str) {
    reconnects.sort();
    let spread = reconnects[reconnects.len() - 1] - reconnects[0];
    assert!(
        spread >= LEAST_SPREAD,
        "{outage}: reconnects spread over {spread:?} only"
    );
    let (crowd, at) = (0..reconnects.len())
        .map(|i| {
            let end = reconnects[i] + WINDOW;
            let count = reconnects[i..].iter().take_while(|&&t| t < end).count();
            (count, reconnects[i])
        })
        .max()
        .expect("spokes");
    assert!(
        crowd <= MOST_IN_ONE_WINDOW,
        "{outage}: {crowd} of {SPOKES} spokes reconnect within {WINDOW:?} of {at:?} after the \
         hub's return (at most {MOST_IN_ONE_WINDOW} allowed)"
    );
}

#[test]
fn spokes_cut_off_together_spread_their_reconnects_even_at_the_cap() {
    let policy = SpokeOptions::default().backoff;
    let mut spokes: Vec<Spoke> = (0..SPOKES)
        .map(|seed| Spoke {
            state: BackoffState::new(),
            jitter: SplitMix64::new(seed),
        })
        .collect();
    let first_down = Instant::now();
    let first: Vec<Instant> = spokes
        .iter_mut()
        .map(|spoke| reconnect(spoke, &policy, first_down))
        .collect();
    let back = first_down + OUTAGE;
    assert_spread_out(first.iter().map(|t| *t - back).collect(), "first outage");

    // The hub fails again while every spoke still counts its attempts from the first outage:
    // each starts this one at the cap, where a capped draw used to be exactly the cap.
    let second_down = back + UP_BETWEEN;
    assert!(first.iter().all(|t| *t < second_down), "all were back");
    let counted: Vec<u32> = spokes.iter().map(|s| s.state.attempts()).collect();
    let second: Vec<Duration> = spokes
        .iter_mut()
        .map(|spoke| reconnect(spoke, &policy, second_down) - (second_down + OUTAGE))
        .collect();
    for (spoke, before) in spokes.iter().zip(counted) {
        // At least two refusals in 8 s of delays of at most 5 s, counted on from before.
        assert!(
            spoke.state.attempts() >= before + 2,
            "the count carried over"
        );
    }
    assert_spread_out(second, "second outage");
}
