//! The delays each preset produces, the attempt limit and the poison rule.

use std::time::Duration;

use super::*;

/// A jitter source that always draws the same number, to pin the random part of a curve.
pub(super) struct Constant(pub(super) f64);

impl Jitter for Constant {
    fn unit(&mut self) -> f64 {
        self.0
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn refused() -> Failure {
    Failure::retryable("connection refused")
}

fn delay(policy: &BackoffPolicy, attempt: u32, jitter: &mut dyn Jitter) -> Duration {
    match policy.decide(attempt, &refused(), jitter) {
        Decision::RetryAfter(delay) => delay,
        other => panic!("attempt {attempt}: expected a delay, got {other:?}"),
    }
}

#[test]
fn fixed_waits_the_same_every_time() {
    let policy = BackoffPolicy::fixed(ms(250)).with_max_attempts(None);
    let mut jitter = SplitMix64::new(1);
    for attempt in [1, 2, 3, 10, 1000, u32::MAX] {
        assert_eq!(delay(&policy, attempt, &mut jitter), ms(250));
    }
}

#[test]
fn a_zero_delay_is_retry_now() {
    let mut jitter = SplitMix64::new(1);
    let fixed = BackoffPolicy::fixed(Duration::ZERO);
    assert_eq!(fixed.decide(1, &refused(), &mut jitter), Decision::RetryNow);
    let list = BackoffPolicy::list(vec![Duration::ZERO, ms(5)]);
    assert_eq!(list.decide(1, &refused(), &mut jitter), Decision::RetryNow);
    assert_eq!(
        list.decide(2, &refused(), &mut jitter),
        Decision::RetryAfter(ms(5))
    );
}

#[test]
fn exponential_without_jitter_doubles_exactly_up_to_the_cap() {
    // A back-off that claims to be exponential must be.
    let policy = BackoffPolicy::exponential_with(ms(100), ms(30_000), 2.0, 0.0);
    let mut jitter = SplitMix64::new(1);
    let delays: Vec<u64> = (1..=12)
        .map(|n| delay(&policy, n, &mut jitter).as_millis() as u64)
        .collect();
    let expected = [
        100, 200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000, 30_000,
    ];
    assert_eq!(delays, expected);
    assert_eq!(delay(&policy, 25, &mut jitter), ms(30_000));
}

#[test]
fn exponential_with_another_factor_multiplies_by_it() {
    let policy = BackoffPolicy::exponential_with(ms(100), ms(10_000), 3.0, 0.0);
    let mut jitter = SplitMix64::new(1);
    let delays: Vec<u64> = (1..=6)
        .map(|n| delay(&policy, n, &mut jitter).as_millis() as u64)
        .collect();
    assert_eq!(delays, [100, 300, 900, 2700, 8100, 10_000]);
}

#[test]
fn exponential_jitter_stays_within_its_band_and_under_the_cap() {
    let (min, max, spread) = (ms(100), ms(30_000), 0.2);
    let policy = BackoffPolicy::exponential_with(min, max, 2.0, spread);
    let mut jitter = SplitMix64::new(42);
    for attempt in 1..=20u32 {
        // The centre stops at 25 s, where the band's top touches the 30 s cap.
        let d = (100.0 * 2f64.powi(attempt as i32 - 1)).min(30_000.0 / (1.0 + spread));
        // A microsecond of slack for float rounding at the low end.
        let (low, high) = (d * (1.0 - spread) - 0.001, d * (1.0 + spread));
        for _ in 0..50 {
            let got = delay(&policy, attempt, &mut jitter);
            let got_ms = got.as_secs_f64() * 1000.0;
            assert!(
                low <= got_ms && got_ms <= high,
                "attempt {attempt}: {got:?} off {low}..={high}"
            );
            assert!(got <= max, "attempt {attempt}: {got:?} above the cap");
        }
    }
}

#[test]
fn a_thousand_spokes_do_not_reconnect_in_step() {
    // Attempt 3 of min 100 ms: d = 400 ms, r = 0.5, so the band is 200..=600 ms (below the cap).
    let policy = BackoffPolicy::exponential_with(ms(100), ms(30_000), 2.0, 0.5);
    let mut jitter = SplitMix64::new(7);
    let draws: Vec<f64> = (0..1000)
        .map(|_| delay(&policy, 3, &mut jitter).as_secs_f64() * 1000.0)
        .collect();
    assert!(draws.iter().all(|&d| (200.0..=600.0).contains(&d)));
    let mut tenths = [0u32; 10];
    for d in &draws {
        tenths[(((d - 200.0) / 40.0) as usize).min(9)] += 1;
    }
    // Uniform: about 100 per tenth of the band; none empty, none crowded.
    assert!(
        tenths.iter().all(|&n| (50..=150).contains(&n)),
        "{tenths:?}"
    );
}

#[test]
fn exponential_jitter_keeps_its_spread_at_the_cap() {
    // Deep past the cap (5 s, r = 0.2) the band is [5 s * 0.8 / 1.2, 5 s] = [3333.3, 5000] ms.
    // Capping each draw instead made every draw above 5 s exactly 5 s: half the peers in step.
    let policy = BackoffPolicy::exponential_with(ms(100), ms(5_000), 2.0, 0.2);
    let mut jitter = SplitMix64::new(11);
    let draws: Vec<f64> = (0..1000)
        .map(|_| delay(&policy, 20, &mut jitter).as_secs_f64() * 1000.0)
        .collect();
    let (low, high) = (5000.0 * 0.8 / 1.2, 5000.0);
    assert!(draws.iter().all(|&d| low - 0.001 <= d && d <= high));
    let at_the_cap = draws.iter().filter(|&&d| d == high).count();
    assert!(
        at_the_cap <= 1,
        "{at_the_cap} of 1000 draws exactly at the cap"
    );
    let mut tenths = [0u32; 10];
    for d in &draws {
        tenths[(((d - low) / ((high - low) / 10.0)) as usize).min(9)] += 1;
    }
    assert!(
        tenths.iter().all(|&n| (50..=150).contains(&n)),
        "{tenths:?}"
    );
}

#[test]
fn polynomial_follows_sidekiqs_formula() {
    let policy = BackoffPolicy::polynomial();
    for attempt in 1..=25u32 {
        let n = u64::from(attempt);
        let lowest = delay(&policy, attempt, &mut Constant(0.0));
        assert_eq!(lowest, Duration::from_secs(n.pow(4) + 15));
        let highest = delay(&policy, attempt, &mut Constant(0.999_999));
        assert_eq!(highest, Duration::from_secs(n.pow(4) + 15 + 29 * (n + 1)));
        let middle = delay(&policy, attempt, &mut Constant(0.5));
        assert_eq!(middle, Duration::from_secs(n.pow(4) + 15 + 15 * (n + 1)));
    }
    let cubic = BackoffPolicy::polynomial_with_exponent(3);
    assert_eq!(
        delay(&cubic, 5, &mut Constant(0.0)),
        Duration::from_secs(125 + 15)
    );
}

#[test]
fn list_repeats_its_last_delay() {
    let policy = BackoffPolicy::list(vec![ms(10), ms(50), ms(200)]).with_max_attempts(None);
    let mut jitter = SplitMix64::new(1);
    let delays: Vec<Duration> = (1..=6).map(|n| delay(&policy, n, &mut jitter)).collect();
    assert_eq!(delays, [ms(10), ms(50), ms(200), ms(200), ms(200), ms(200)]);
    assert_eq!(delay(&policy, u32::MAX, &mut jitter), ms(200));
}

#[test]
#[should_panic(expected = "above max")]
fn exponential_rejects_a_floor_above_its_cap() {
    let _ = BackoffPolicy::exponential(ms(10), ms(1));
}

#[test]
fn same_seed_same_delays() {
    let policy = BackoffPolicy::exponential(ms(100), ms(30_000));
    let run = |seed| -> Vec<Decision> {
        let mut jitter = SplitMix64::new(seed);
        (1..=10)
            .map(|n| policy.decide(n, &refused(), &mut jitter))
            .collect()
    };
    assert_eq!(run(9), run(9));
    assert_ne!(run(9), run(10));
}
