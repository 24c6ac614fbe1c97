//! A back-off policy in its JSON form (`supervisor_backoff`, `bridge_backoff` and every other
//! retry setting): parsing, the round trip, and the delays it then decides, which must never
//! panic and never pass the policy's own cap.
//!
//! Input: JSON text.
#![no_main]

use std::hash::{DefaultHasher, Hash, Hasher};

use hubwire_core::backoff::{BackoffPolicy, Decision, Failure, SplitMix64};
use hubwire_fuzz::assert_same_json;
use libfuzzer_sys::fuzz_target;

/// Attempt numbers tried: the first few, and the extremes.
const ATTEMPTS: [u32; 8] = [0, 1, 2, 3, 10, 64, 1 << 20, u32::MAX];

fuzz_target!(|data: &[u8]| {
    let policy: BackoffPolicy = match serde_json::from_slice(data) {
        Ok(policy) => policy,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let text = serde_json::to_string(&policy).expect("a preset writes as JSON");
    let again: BackoffPolicy = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("a policy wrote JSON it cannot read ({e}): {text}"));
    if again != policy {
        let (a, b) = (serde_json::to_value(&policy), serde_json::to_value(&again));
        assert_same_json(&a.unwrap(), &b.unwrap());
    }

    // The same input draws the same jitter, so a crash reproduces.
    let mut hasher = DefaultHasher::new();
    data.hash(&mut hasher);
    let mut jitter = SplitMix64::new(hasher.finish());
    let failure = Failure::retryable("connection refused");
    for attempt in ATTEMPTS {
        match policy.decide(attempt, &failure, &mut jitter) {
            Decision::RetryAfter(delay) => {
                assert!(!delay.is_zero(), "a zero delay is RetryNow");
                if let Some(max) = policy.max_delay() {
                    assert!(
                        delay <= max,
                        "attempt {attempt} waits {delay:?}, over {max:?}"
                    );
                }
            }
            Decision::RetryNow => {}
            Decision::GiveUp(reason) => {
                let limit = policy
                    .max_attempts()
                    .expect("a policy without a limit gave up");
                assert!(
                    attempt.max(1) > limit,
                    "gave up within the limit: {reason:?}"
                );
            }
        }
    }
    let poison = Failure::permanent("not MessagePack");
    assert!(matches!(
        policy.decide(1, &poison, &mut jitter),
        Decision::GiveUp(_)
    ));
});
