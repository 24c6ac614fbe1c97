//! [`BackoffPolicy`]: the one retry policy: a preset curve, an attempt limit and a reset period.

use std::sync::Arc;
use std::time::Duration;

use super::curve::{Curve, CustomStrategy};
use super::{Decision, Failure, GiveUpReason, Jitter};

/// Retries a policy allows before it gives up, unless told otherwise: Sidekiq's 25, a finite
/// default so that a failure nobody marked permanent still ends in the error queue.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 25;
/// How much each exponential delay is multiplied by per attempt, unless told otherwise.
pub const DEFAULT_FACTOR: f64 = 2.0;
/// The exponential random factor unless told otherwise: delays spread over ±20 % so that peers
/// cut off together do not all come back at the same instant.
pub const DEFAULT_JITTER: f64 = 0.2;
/// Sidekiq's exponent: `attempt^4`.
pub const DEFAULT_POLYNOMIAL_EXPONENT: u32 = 4;

/// A parameter that no policy can be built from; a configuration file that holds one is
/// rejected with this error instead of retrying in some surprising way.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum InvalidBackoff {
    /// An exponential policy whose floor is above its cap.
    #[error("exponential back-off min {min:?} is above max {max:?}")]
    MinAboveMax {
        /// The floor given.
        min: Duration,
        /// The cap given.
        max: Duration,
    },
    /// A factor below 1.0 (or not finite) would shrink the delays.
    #[error("exponential back-off factor {0} must be finite and at least 1.0")]
    Factor(f64),
    /// A random factor outside `0.0..=1.0` could make a delay negative.
    #[error("back-off jitter {0} must be within 0.0..=1.0")]
    Jitter(f64),
    /// A list policy needs at least one delay to repeat.
    #[error("list back-off needs at least one delay")]
    EmptyList,
}

/// When and whether to try again after a failure; one type for supervisor restarts, queue
/// retries, the queued sender, reconnecting spokes and bridges.
///
/// It is pure: [`decide`](Self::decide) takes the attempt number, the failure and a source of
/// randomness and reads no clock. Every policy first gives up on a failure that is not
/// retryable, then gives up once `max_attempts` retries are used, and only then asks its curve.
/// Presets (all but [`custom`](Self::custom)) read and write as JSON; see the module docs.
#[derive(Clone, Debug, PartialEq)]
pub struct BackoffPolicy {
    /// How the delay grows with the attempt number.
    pub(super) curve: Curve,
    /// The most retries, so attempt `max + 1` gives up; `None` retries forever, which suits
    /// reconnecting links that must come back whenever the peer does.
    pub(super) max_attempts: Option<u32>,
    /// How long things must go well before the count starts again from 1; read by
    /// [`BackoffState`](super::BackoffState), so that a supervisor whose child crashes once a
    /// day does not drift towards giving up.
    pub(super) reset_after: Option<Duration>,
}

impl BackoffPolicy {
    fn from_curve(curve: Curve) -> Self {
        BackoffPolicy {
            curve,
            max_attempts: Some(DEFAULT_MAX_ATTEMPTS),
            reset_after: None,
        }
    }

    /// The same `delay` before every retry.
    pub fn fixed(delay: Duration) -> Self {
        Self::from_curve(Curve::Fixed(delay))
    }

    /// `min` doubling per attempt up to `max`, spread by [`DEFAULT_JITTER`].
    ///
    /// # Panics
    /// If `min > max`.
    pub fn exponential(min: Duration, max: Duration) -> Self {
        Self::exponential_with(min, max, DEFAULT_FACTOR, DEFAULT_JITTER)
    }

    /// `d = min * factor^(attempt - 1)` capped at `max / (1 + r)`, then, with random factor
    /// `jitter` = r, drawn uniformly from `[d(1-r), d(1+r)]`: never above `max`, and still spread
    /// over `[max(1-r)/(1+r), max]` at the cap (capping each draw instead would send about half
    /// of the peers at the cap back at the same instant). Like Akka's
    /// `restartWithBackoff(min, max, randomFactor)`, except that the cap holds after the jitter.
    ///
    /// # Panics
    /// If `min > max`, `factor` is below 1.0 or not finite, or `jitter` is outside `0.0..=1.0`.
    pub fn exponential_with(min: Duration, max: Duration, factor: f64, jitter: f64) -> Self {
        check_exponential(min, max, factor, jitter).unwrap_or_else(|invalid| panic!("{invalid}"));
        Self::from_curve(Curve::Exponential {
            min,
            max,
            factor,
            jitter,
        })
    }

    /// Sidekiq's curve: `attempt^4 + 15 + rand(0..30) * (attempt + 1)` seconds.
    pub fn polynomial() -> Self {
        Self::polynomial_with_exponent(DEFAULT_POLYNOMIAL_EXPONENT)
    }

    /// Sidekiq's curve with another exponent: `attempt^exponent + 15 + rand(0..30) *
    /// (attempt + 1)` seconds, saturating at `u64::MAX` seconds.
    pub fn polynomial_with_exponent(exponent: u32) -> Self {
        Self::from_curve(Curve::Polynomial { exponent })
    }

    /// Attempt n waits `delays[n - 1]`; past the end the last delay repeats (JetStream's
    /// `BackOff`).
    ///
    /// # Panics
    /// If `delays` is empty.
    pub fn list(delays: Vec<Duration>) -> Self {
        assert!(!delays.is_empty(), "{}", InvalidBackoff::EmptyList);
        Self::from_curve(Curve::List(delays))
    }

    /// A strategy written in code (BullMQ's custom back-off): it sees only retryable failures
    /// within `max_attempts`, so the poison and limit rules hold for it too. Not serializable.
    pub fn custom(strategy: impl Fn(u32, &Failure) -> Decision + Send + Sync + 'static) -> Self {
        Self::from_custom(Arc::new(strategy))
    }

    /// [`custom`](Self::custom) for a strategy already shared behind an `Arc`.
    pub fn from_custom(strategy: CustomStrategy) -> Self {
        Self::from_curve(Curve::Custom(strategy))
    }

    /// This policy with another retry limit; `None` retries forever.
    pub fn with_max_attempts(mut self, max_attempts: Option<u32>) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    /// This policy with a healthy period after which the attempt count starts again.
    pub fn with_reset_after(mut self, reset_after: Option<Duration>) -> Self {
        self.reset_after = reset_after;
        self
    }

    /// The most retries before giving up; `None` is forever.
    pub fn max_attempts(&self) -> Option<u32> {
        self.max_attempts
    }

    /// The healthy period after which [`BackoffState`](super::BackoffState) starts counting
    /// from 1 again; `None` never resets.
    pub fn reset_after(&self) -> Option<Duration> {
        self.reset_after
    }

    /// The longest delay this policy returns, for callers that size timeouts around it;
    /// `None` for the polynomial curve (it grows without a cap) and custom strategies.
    pub fn max_delay(&self) -> Option<Duration> {
        self.curve.max_delay()
    }

    /// What to do after failed attempt `attempt` (1 for the first retry; 0 is read as 1).
    ///
    /// In order: a failure that is not retryable gives up at once; an attempt past
    /// `max_attempts` gives up; otherwise the curve picks the delay, and a zero delay is
    /// `RetryNow`.
    pub fn decide(&self, attempt: u32, failure: &Failure, jitter: &mut dyn Jitter) -> Decision {
        if !failure.is_retryable() {
            let message = failure.message().to_owned();
            return Decision::GiveUp(GiveUpReason::NotRetryable { message });
        }
        let attempt = attempt.max(1);
        if let Some(max_attempts) = self.max_attempts.filter(|max| attempt > *max) {
            let last_error = failure.message().to_owned();
            return Decision::GiveUp(GiveUpReason::AttemptsExhausted {
                max_attempts,
                last_error,
            });
        }
        self.curve.decide(attempt, failure, jitter)
    }
}

/// The rules an exponential curve's parameters must follow; shared by the constructors (which
/// panic) and by deserialization (which reports).
pub(super) fn check_exponential(
    min: Duration,
    max: Duration,
    factor: f64,
    jitter: f64,
) -> Result<(), InvalidBackoff> {
    if min > max {
        Err(InvalidBackoff::MinAboveMax { min, max })
    } else if !(factor.is_finite() && factor >= 1.0) {
        Err(InvalidBackoff::Factor(factor))
    } else if !(0.0..=1.0).contains(&jitter) {
        Err(InvalidBackoff::Jitter(jitter))
    } else {
        Ok(())
    }
}
