//! The configuration-file form: each preset round-trips, defaults fill gaps, nonsense is refused.

use std::time::Duration;

use serde_json::json;

use super::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn round_trip(policy: &BackoffPolicy, expected: serde_json::Value) {
    let written = serde_json::to_value(policy).unwrap();
    assert_eq!(written, expected);
    let read: BackoffPolicy = serde_json::from_value(written).unwrap();
    assert_eq!(&read, policy);
}

#[test]
fn fixed_round_trips() {
    let policy = BackoffPolicy::fixed(ms(500)).with_reset_after(Some(ms(60_000)));
    let expected =
        json!({"kind": "fixed", "delay_ms": 500, "max_attempts": 25, "reset_after_ms": 60000});
    round_trip(&policy, expected);
}

#[test]
fn exponential_round_trips() {
    let policy =
        BackoffPolicy::exponential_with(ms(100), ms(30_000), 2.0, 0.2).with_max_attempts(None);
    let expected = json!({
        "kind": "exponential", "min_ms": 100, "max_ms": 30000, "factor": 2.0, "jitter": 0.2,
        "max_attempts": null, "reset_after_ms": null
    });
    round_trip(&policy, expected);
}

#[test]
fn polynomial_round_trips() {
    let policy = BackoffPolicy::polynomial_with_exponent(3).with_max_attempts(Some(10));
    let expected =
        json!({"kind": "polynomial", "exponent": 3, "max_attempts": 10, "reset_after_ms": null});
    round_trip(&policy, expected);
}

#[test]
fn list_round_trips() {
    let policy = BackoffPolicy::list(vec![ms(1000), ms(5000), ms(30_000)]);
    let expected = json!({
        "kind": "list", "delays_ms": [1000, 5000, 30000], "max_attempts": 25, "reset_after_ms": null
    });
    round_trip(&policy, expected);
}

#[test]
fn missing_keys_take_the_documented_defaults() {
    let read: BackoffPolicy =
        serde_json::from_value(json!({"kind": "exponential", "min_ms": 100, "max_ms": 1000}))
            .unwrap();
    assert_eq!(read, BackoffPolicy::exponential(ms(100), ms(1000)));
    let read: BackoffPolicy = serde_json::from_value(json!({"kind": "polynomial"})).unwrap();
    assert_eq!(read, BackoffPolicy::polynomial());
    assert_eq!(read.max_attempts(), Some(DEFAULT_MAX_ATTEMPTS));
}

#[test]
fn invalid_policies_are_refused_with_a_reason() {
    let refused = |value: serde_json::Value| {
        serde_json::from_value::<BackoffPolicy>(value)
            .unwrap_err()
            .to_string()
    };
    let above = refused(json!({"kind": "exponential", "min_ms": 10, "max_ms": 1}));
    assert!(above.contains("above max"), "{above}");
    let jitter = refused(json!({"kind": "exponential", "min_ms": 1, "max_ms": 2, "jitter": 1.5}));
    assert!(jitter.contains("jitter"), "{jitter}");
    let factor = refused(json!({"kind": "exponential", "min_ms": 1, "max_ms": 2, "factor": 0.5}));
    assert!(factor.contains("factor"), "{factor}");
    let empty = refused(json!({"kind": "list", "delays_ms": []}));
    assert!(empty.contains("at least one delay"), "{empty}");
    let typo = refused(json!({"kind": "fixed", "delay_ms": 5, "max_attempt": 3}));
    assert!(typo.contains("max_attempt"), "{typo}");
    let kind = refused(json!({"kind": "linear", "delay_ms": 5}));
    assert!(kind.contains("linear"), "{kind}");
}

#[test]
fn a_custom_strategy_does_not_serialize() {
    let policy = BackoffPolicy::custom(|_, _| Decision::RetryNow);
    let error = serde_json::to_string(&policy).unwrap_err().to_string();
    assert!(error.contains("custom"), "{error}");
}
