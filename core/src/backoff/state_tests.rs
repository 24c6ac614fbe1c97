//! `BackoffState`: the count grows with failures and starts again after a healthy period.

use std::time::{Duration, Instant};

use super::*;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn crash() -> Failure {
    Failure::retryable("child panicked")
}

#[test]
fn the_count_grows_while_failures_come_close_together() {
    let policy = BackoffPolicy::exponential_with(secs(1), secs(60), 2.0, 0.0)
        .with_reset_after(Some(secs(30)));
    let mut state = BackoffState::new();
    let mut jitter = SplitMix64::new(1);
    let start = Instant::now();
    let mut now = start;
    let mut delays = Vec::new();
    for _ in 0..5 {
        let decision = state.on_failure(&policy, &crash(), now, &mut jitter);
        let delay = decision.delay().unwrap();
        delays.push(delay);
        now += delay + secs(1); // restarted when due, crashed a second later
    }
    assert_eq!(delays, [secs(1), secs(2), secs(4), secs(8), secs(16)]);
    assert_eq!(state.attempts(), 5);
    assert_eq!(state.last_failure(), Some(now - secs(17)));
}

#[test]
fn the_count_starts_again_after_the_healthy_period() {
    let policy = BackoffPolicy::exponential_with(secs(1), secs(60), 2.0, 0.0)
        .with_reset_after(Some(secs(30)));
    let mut state = BackoffState::new();
    let mut jitter = SplitMix64::new(1);
    let t0 = Instant::now();
    state.on_failure(&policy, &crash(), t0, &mut jitter); // retry due at 1 s
    state.on_failure(&policy, &crash(), t0 + secs(2), &mut jitter); // retry due at 4 s
                                                                    // Healthy from 4 s to 33 s: 29 s, one short of the period.
    let early = state.on_failure(&policy, &crash(), t0 + secs(33), &mut jitter);
    assert_eq!(
        (early, state.attempts()),
        (Decision::RetryAfter(secs(4)), 3)
    );
    // Retry due at 37 s; healthy until 67 s: exactly the period.
    let reset = state.on_failure(&policy, &crash(), t0 + secs(67), &mut jitter);
    assert_eq!(
        (reset, state.attempts()),
        (Decision::RetryAfter(secs(1)), 1)
    );
}

#[test]
fn a_delay_longer_than_the_healthy_period_does_not_reset_the_count() {
    // Measured from the failure instead of the retry, every failure here would look healthy.
    let policy = BackoffPolicy::fixed(secs(60)).with_reset_after(Some(secs(10)));
    let mut state = BackoffState::new();
    let mut jitter = SplitMix64::new(1);
    let t0 = Instant::now();
    for n in 0..4 {
        state.on_failure(&policy, &crash(), t0 + secs(61 * n), &mut jitter);
    }
    assert_eq!(state.attempts(), 4);
}

#[test]
fn without_reset_after_the_count_never_resets() {
    let policy = BackoffPolicy::fixed(secs(1)).with_max_attempts(Some(2));
    let mut state = BackoffState::new();
    let mut jitter = SplitMix64::new(1);
    let t0 = Instant::now();
    state.on_failure(&policy, &crash(), t0, &mut jitter);
    state.on_failure(&policy, &crash(), t0 + secs(3600), &mut jitter);
    let third = state.on_failure(&policy, &crash(), t0 + secs(86_400), &mut jitter);
    assert!(matches!(
        third,
        Decision::GiveUp(GiveUpReason::AttemptsExhausted { .. })
    ));
}

#[test]
fn reset_forgets_everything() {
    let policy = BackoffPolicy::fixed(secs(1));
    let mut state = BackoffState::new();
    state.on_failure(&policy, &crash(), Instant::now(), &mut SplitMix64::new(1));
    state.reset();
    assert_eq!((state.attempts(), state.last_failure()), (0, None));
}
