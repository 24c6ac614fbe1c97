//! The delay curves behind the presets: pure arithmetic from an attempt number to a delay.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::jitter::draw;
use super::{Decision, Failure, Jitter};

/// A user-supplied strategy: given the attempt number (1 for the first retry) and the failure,
/// it decides. Shared behind an `Arc` so that a policy clones cheaply into every spoke.
pub type CustomStrategy = Arc<dyn Fn(u32, &Failure) -> Decision + Send + Sync>;

/// Sidekiq's `rand(30)`: the random part of the polynomial curve is `0..30` seconds times
/// `attempt + 1`.
pub(super) const POLYNOMIAL_SPREAD_SECS: u64 = 30;
/// Sidekiq's constant `+ 15` seconds, so even the first retry waits a little.
pub(super) const POLYNOMIAL_BASE_SECS: u64 = 15;

/// How the delay grows with the attempt number; one variant per preset.
#[derive(Clone)]
pub(super) enum Curve {
    Fixed(Duration),
    Exponential {
        min: Duration,
        max: Duration,
        factor: f64,
        jitter: f64,
    },
    Polynomial {
        exponent: u32,
    },
    List(Vec<Duration>),
    Custom(CustomStrategy),
}

impl Curve {
    /// The decision for a retryable failure within the attempt limit; `attempt` is at least 1.
    pub(super) fn decide(
        &self,
        attempt: u32,
        failure: &Failure,
        jitter: &mut dyn Jitter,
    ) -> Decision {
        let delay = match self {
            Curve::Fixed(delay) => *delay,
            Curve::Exponential {
                min,
                max,
                factor,
                jitter: spread,
            } => {
                let base = exponential(*min, *max, *factor, attempt);
                spread_under_cap(base, *max, *spread, draw(jitter))
            }
            Curve::Polynomial { exponent } => polynomial(attempt, *exponent, draw(jitter)),
            Curve::List(delays) => {
                let index = (attempt as usize - 1).min(delays.len() - 1);
                delays[index]
            }
            Curve::Custom(strategy) => {
                return match strategy(attempt, failure) {
                    Decision::RetryAfter(delay) => Decision::after(delay),
                    other => other,
                }
            }
        };
        Decision::after(delay)
    }

    /// The longest delay the curve can return, where there is one.
    pub(super) fn max_delay(&self) -> Option<Duration> {
        match self {
            Curve::Fixed(delay) => Some(*delay),
            Curve::Exponential { max, .. } => Some(*max),
            Curve::List(delays) => delays.iter().max().copied(),
            Curve::Polynomial { .. } | Curve::Custom(_) => None,
        }
    }
}

/// `min * factor^(attempt - 1)`, capped at `max`. Computed on nanoseconds as `f64`, which is
/// exact for doubling (100 ms, 200 ms, 400 ms, ...) until the cap; overflow to infinity caps too.
pub(super) fn exponential(min: Duration, max: Duration, factor: f64, attempt: u32) -> Duration {
    if min.is_zero() {
        return Duration::ZERO; // 0 * inf would be NaN
    }
    let nanos = min.as_nanos() as f64 * factor.powf(f64::from(attempt - 1));
    if nanos >= max.as_nanos() as f64 {
        max
    } else {
        from_nanos(nanos)
    }
}

/// With random factor `spread` = r and a unit draw u: `c * (1 - r + 2 r u)`, uniform over
/// `[c(1-r), c(1+r)]`, where the centre c is `delay` lowered to `max / (1 + r)` when the band
/// would reach past `max`.
///
/// The band is capped, not the draw: capping each draw at `max` would turn every draw above it
/// into exactly `max`, so about half of the peers at the cap would retry at the same instant.
/// Here the band stops growing once its top touches the cap, and a peer at the cap still waits
/// anywhere in `[max(1-r)/(1+r), max]` (with r = 1, anywhere in `[0, max]`: full jitter).
pub(super) fn spread_under_cap(delay: Duration, max: Duration, spread: f64, unit: f64) -> Duration {
    if spread == 0.0 {
        return delay.min(max);
    }
    let centre = (delay.as_nanos() as f64).min(max.as_nanos() as f64 / (1.0 + spread));
    // Float rounding may land a hair above the cap: the cap is a promise.
    from_nanos(centre * (1.0 - spread + 2.0 * spread * unit)).min(max)
}

/// Sidekiq's curve: `attempt^exponent + 15 + rand(0..30) * (attempt + 1)` seconds, saturating at
/// `u64::MAX` seconds instead of overflowing.
pub(super) fn polynomial(attempt: u32, exponent: u32, unit: f64) -> Duration {
    let random = (unit * POLYNOMIAL_SPREAD_SECS as f64) as u64; // 0..=29
    let secs = u64::from(attempt)
        .saturating_pow(exponent)
        .saturating_add(POLYNOMIAL_BASE_SECS)
        .saturating_add(random.saturating_mul(u64::from(attempt) + 1));
    Duration::from_secs(secs)
}

/// A non-negative nanosecond count as a `Duration`, saturating rather than panicking.
fn from_nanos(nanos: f64) -> Duration {
    if nanos.is_nan() || nanos <= 0.0 {
        Duration::ZERO
    } else if nanos < u64::MAX as f64 {
        Duration::from_nanos(nanos as u64)
    } else {
        Duration::try_from_secs_f64(nanos / 1e9).unwrap_or(Duration::MAX)
    }
}

impl fmt::Debug for Curve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Curve::Fixed(delay) => f.debug_tuple("Fixed").field(delay).finish(),
            Curve::Exponential {
                min,
                max,
                factor,
                jitter,
            } => f
                .debug_struct("Exponential")
                .field("min", min)
                .field("max", max)
                .field("factor", factor)
                .field("jitter", jitter)
                .finish(),
            Curve::Polynomial { exponent } => f
                .debug_struct("Polynomial")
                .field("exponent", exponent)
                .finish(),
            Curve::List(delays) => f.debug_tuple("List").field(delays).finish(),
            Curve::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

impl PartialEq for Curve {
    /// Presets compare by value; custom strategies are equal only if they are the same `Arc`.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Curve::Fixed(a), Curve::Fixed(b)) => a == b,
            (
                Curve::Exponential {
                    min,
                    max,
                    factor,
                    jitter,
                },
                Curve::Exponential {
                    min: min2,
                    max: max2,
                    factor: factor2,
                    jitter: jitter2,
                },
            ) => min == min2 && max == max2 && factor == factor2 && jitter == jitter2,
            (Curve::Polynomial { exponent: a }, Curve::Polynomial { exponent: b }) => a == b,
            (Curve::List(a), Curve::List(b)) => a == b,
            (Curve::Custom(a), Curve::Custom(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}
