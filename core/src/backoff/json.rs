//! How a preset policy is written in configuration files: a JSON object tagged by `kind`, with
//! durations as whole milliseconds in keys ending `_ms` (the convention of `Config`).

use std::time::Duration;

use serde::{de, ser, Deserialize, Deserializer, Serialize, Serializer};

use super::curve::Curve;
use super::policy::{check_exponential, InvalidBackoff};
use super::{BackoffPolicy, DEFAULT_FACTOR, DEFAULT_JITTER};
use super::{DEFAULT_MAX_ATTEMPTS, DEFAULT_POLYNOMIAL_EXPONENT};

/// The JSON shape; one variant per preset, each with the limit keys (flattening them into a
/// shared struct would cost `deny_unknown_fields`, and a misspelt key must not pass silently).
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum Wire {
    Fixed {
        delay_ms: u64,
        #[serde(default = "default_max_attempts")]
        max_attempts: Option<u32>,
        #[serde(default)]
        reset_after_ms: Option<u64>,
    },
    Exponential {
        min_ms: u64,
        max_ms: u64,
        #[serde(default = "default_factor")]
        factor: f64,
        #[serde(default = "default_jitter")]
        jitter: f64,
        #[serde(default = "default_max_attempts")]
        max_attempts: Option<u32>,
        #[serde(default)]
        reset_after_ms: Option<u64>,
    },
    Polynomial {
        #[serde(default = "default_exponent")]
        exponent: u32,
        #[serde(default = "default_max_attempts")]
        max_attempts: Option<u32>,
        #[serde(default)]
        reset_after_ms: Option<u64>,
    },
    List {
        delays_ms: Vec<u64>,
        #[serde(default = "default_max_attempts")]
        max_attempts: Option<u32>,
        #[serde(default)]
        reset_after_ms: Option<u64>,
    },
}

fn default_max_attempts() -> Option<u32> {
    Some(DEFAULT_MAX_ATTEMPTS)
}

fn default_factor() -> f64 {
    DEFAULT_FACTOR
}

fn default_jitter() -> f64 {
    DEFAULT_JITTER
}

fn default_exponent() -> u32 {
    DEFAULT_POLYNOMIAL_EXPONENT
}

/// Whole milliseconds; finer parts are dropped, longer than `u64::MAX` ms saturates.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl Serialize for BackoffPolicy {
    /// Fails for a custom strategy: it is code, and a configuration file cannot hold it.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let max_attempts = self.max_attempts;
        let reset_after_ms = self.reset_after.map(millis);
        let wire = match &self.curve {
            Curve::Fixed(delay) => Wire::Fixed {
                delay_ms: millis(*delay),
                max_attempts,
                reset_after_ms,
            },
            Curve::Exponential {
                min,
                max,
                factor,
                jitter,
            } => Wire::Exponential {
                min_ms: millis(*min),
                max_ms: millis(*max),
                factor: *factor,
                jitter: *jitter,
                max_attempts,
                reset_after_ms,
            },
            Curve::Polynomial { exponent } => Wire::Polynomial {
                exponent: *exponent,
                max_attempts,
                reset_after_ms,
            },
            Curve::List(delays) => Wire::List {
                delays_ms: delays.iter().copied().map(millis).collect(),
                max_attempts,
                reset_after_ms,
            },
            Curve::Custom(_) => {
                return Err(ser::Error::custom(
                    "a custom back-off strategy cannot be serialized",
                ))
            }
        };
        wire.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for BackoffPolicy {
    /// Rejects parameters the constructors would panic on, with an [`InvalidBackoff`] message.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        BackoffPolicy::try_from(Wire::deserialize(deserializer)?).map_err(de::Error::custom)
    }
}

impl TryFrom<Wire> for BackoffPolicy {
    type Error = InvalidBackoff;

    fn try_from(wire: Wire) -> Result<Self, InvalidBackoff> {
        let (policy, max_attempts, reset_after_ms) = match wire {
            Wire::Fixed {
                delay_ms,
                max_attempts,
                reset_after_ms,
            } => (
                BackoffPolicy::fixed(Duration::from_millis(delay_ms)),
                max_attempts,
                reset_after_ms,
            ),
            Wire::Exponential {
                min_ms,
                max_ms,
                factor,
                jitter,
                max_attempts,
                reset_after_ms,
            } => {
                let (min, max) = (Duration::from_millis(min_ms), Duration::from_millis(max_ms));
                check_exponential(min, max, factor, jitter)?;
                let policy = BackoffPolicy::exponential_with(min, max, factor, jitter);
                (policy, max_attempts, reset_after_ms)
            }
            Wire::Polynomial {
                exponent,
                max_attempts,
                reset_after_ms,
            } => (
                BackoffPolicy::polynomial_with_exponent(exponent),
                max_attempts,
                reset_after_ms,
            ),
            Wire::List {
                delays_ms,
                max_attempts,
                reset_after_ms,
            } => {
                if delays_ms.is_empty() {
                    return Err(InvalidBackoff::EmptyList);
                }
                let delays = delays_ms.into_iter().map(Duration::from_millis).collect();
                (BackoffPolicy::list(delays), max_attempts, reset_after_ms)
            }
        };
        Ok(policy
            .with_max_attempts(max_attempts)
            .with_reset_after(reset_after_ms.map(Duration::from_millis)))
    }
}
