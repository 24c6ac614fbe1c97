//! No preset returns a delay above its cap, or panics, for any attempt up to `u32::MAX`.

use std::time::Duration;

use proptest::prelude::*;

use super::curve::Curve;
use super::presets_tests::Constant;
use super::*;

fn any_preset() -> impl Strategy<Value = BackoffPolicy> {
    let ms = |n: u64| Duration::from_millis(n);
    prop_oneof![
        (0..u64::MAX).prop_map(move |d| BackoffPolicy::fixed(ms(d))),
        (0..1_000_000u64, 0..u64::MAX, 1.0..1000.0f64, 0.0..=1.0f64).prop_map(
            move |(min, extra, factor, jitter)| {
                let max = min.saturating_add(extra);
                BackoffPolicy::exponential_with(ms(min), ms(max), factor, jitter)
            }
        ),
        (0..64u32).prop_map(BackoffPolicy::polynomial_with_exponent),
        prop::collection::vec(0..u64::MAX, 1..8)
            .prop_map(move |list| BackoffPolicy::list(list.into_iter().map(ms).collect())),
    ]
    .prop_map(|policy| policy.with_max_attempts(None))
}

/// The polynomial bounds, computed wide so that saturation shows as `u64::MAX` seconds.
fn polynomial_bounds(attempt: u32, exponent: u32) -> (Duration, Duration) {
    let n = u128::from(attempt);
    let base = n
        .checked_pow(exponent)
        .unwrap_or(u128::MAX)
        .saturating_add(15);
    let top = base.saturating_add(29 * (n + 1));
    let secs = |s: u128| Duration::from_secs(u64::try_from(s).unwrap_or(u64::MAX));
    (secs(base), secs(top))
}

proptest! {
    #[test]
    fn no_preset_exceeds_its_cap(
        policy in any_preset(),
        attempt in prop_oneof![1..64u32, any::<u32>(), Just(u32::MAX)],
        seed in any::<u64>(),
        unit in prop_oneof![0.0..1.0f64, Just(0.0), Just(1.0), Just(f64::NAN), Just(-3.0)],
    ) {
        let failure = Failure::retryable("refused");
        for jitter in [&mut SplitMix64::new(seed) as &mut dyn Jitter, &mut Constant(unit)] {
            let decision = policy.decide(attempt, &failure, jitter);
            let delay = decision.delay().expect("max_attempts is None: never gives up");
            if let Some(cap) = policy.max_delay() {
                prop_assert!(delay <= cap, "{policy:?} attempt {attempt}: {delay:?} > {cap:?}");
            } else if let Curve::Polynomial { exponent } = policy.curve {
                let (low, high) = polynomial_bounds(attempt, exponent);
                prop_assert!(low <= delay && delay <= high, "{delay:?} not in {low:?}..={high:?}");
            }
        }
    }
}
