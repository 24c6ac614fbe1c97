//! The rules every policy applies before its curve: the attempt limit, the poison rule, custom
//! strategies kept within both, and how a failure is read from an error.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn refused() -> Failure {
    Failure::retryable("connection refused")
}

#[test]
fn max_attempts_gives_up_exactly_after_n_retries() {
    let mut jitter = SplitMix64::new(1);
    let policy = BackoffPolicy::fixed(ms(1)).with_max_attempts(Some(3));
    for attempt in 1..=3 {
        assert_eq!(
            policy.decide(attempt, &refused(), &mut jitter),
            Decision::RetryAfter(ms(1))
        );
    }
    let reason = GiveUpReason::AttemptsExhausted {
        max_attempts: 3,
        last_error: "connection refused".into(),
    };
    assert_eq!(
        policy.decide(4, &refused(), &mut jitter),
        Decision::GiveUp(reason)
    );
    let never = BackoffPolicy::fixed(ms(1)).with_max_attempts(Some(0));
    assert!(matches!(
        never.decide(1, &refused(), &mut jitter),
        Decision::GiveUp(_)
    ));
}

#[test]
fn the_default_limit_is_finite_and_none_is_forever() {
    let mut jitter = SplitMix64::new(1);
    let polynomial = BackoffPolicy::polynomial();
    assert_eq!(polynomial.max_attempts(), Some(DEFAULT_MAX_ATTEMPTS));
    assert!(polynomial
        .decide(25, &refused(), &mut jitter)
        .delay()
        .is_some());
    assert!(polynomial
        .decide(26, &refused(), &mut jitter)
        .delay()
        .is_none());
    let forever = BackoffPolicy::exponential(ms(1), ms(10)).with_max_attempts(None);
    assert!(forever
        .decide(u32::MAX, &refused(), &mut jitter)
        .delay()
        .is_some());
}

#[test]
fn a_failure_that_is_not_retryable_gives_up_at_once() {
    let poison = Failure::permanent("body is not MessagePack");
    let reason = GiveUpReason::NotRetryable {
        message: "body is not MessagePack".into(),
    };
    let calls = Arc::new(AtomicU32::new(0));
    let counted = Arc::clone(&calls);
    let custom = BackoffPolicy::custom(move |_, _| {
        counted.fetch_add(1, Ordering::SeqCst);
        Decision::RetryNow
    });
    let policies = [
        BackoffPolicy::fixed(ms(1)).with_max_attempts(None),
        BackoffPolicy::exponential(ms(1), ms(10)).with_max_attempts(None),
        BackoffPolicy::polynomial(),
        BackoffPolicy::list(vec![ms(1)]),
        custom,
    ];
    for policy in &policies {
        let decision = policy.decide(1, &poison, &mut SplitMix64::new(1));
        assert_eq!(decision, Decision::GiveUp(reason.clone()), "{policy:?}");
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "a custom strategy never sees poison"
    );
}

#[test]
fn a_custom_strategy_decides_within_the_limits() {
    let policy = BackoffPolicy::custom(|attempt, failure| match attempt {
        1 => Decision::RetryNow,
        2 => Decision::RetryAfter(Duration::ZERO),
        3 if failure.message().contains("busy") => Decision::RetryAfter(ms(300)),
        _ => Decision::GiveUp(GiveUpReason::Strategy("enough".into())),
    })
    .with_max_attempts(Some(10));
    let busy = Failure::retryable("peer busy");
    let mut jitter = SplitMix64::new(1);
    assert_eq!(policy.decide(1, &busy, &mut jitter), Decision::RetryNow);
    assert_eq!(policy.decide(2, &busy, &mut jitter), Decision::RetryNow);
    assert_eq!(
        policy.decide(3, &busy, &mut jitter),
        Decision::RetryAfter(ms(300))
    );
    let gave_up = policy.decide(4, &busy, &mut jitter);
    assert_eq!(
        gave_up,
        Decision::GiveUp(GiveUpReason::Strategy("enough".into()))
    );
    assert!(matches!(
        policy.decide(11, &busy, &mut jitter),
        Decision::GiveUp(GiveUpReason::AttemptsExhausted {
            max_attempts: 10,
            ..
        })
    ));
}

#[test]
fn attempt_zero_is_read_as_the_first_retry() {
    let policy = BackoffPolicy::list(vec![ms(10), ms(20)]);
    let mut jitter = SplitMix64::new(1);
    assert_eq!(
        policy.decide(0, &refused(), &mut jitter),
        Decision::RetryAfter(ms(10))
    );
}

#[test]
fn a_failure_from_an_error_keeps_its_causes() {
    #[derive(Debug, thiserror::Error)]
    #[error("handshake failed")]
    struct Handshake(#[source] std::io::Error);
    let error = Handshake(std::io::Error::other("reset by peer"));
    let failure = Failure::from_error(&error, true);
    assert_eq!(failure.message(), "handshake failed: reset by peer");
    assert!(failure.is_retryable());
}
