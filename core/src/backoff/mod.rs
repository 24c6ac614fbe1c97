//! One back-off policy for every retry in hubwire: supervisor restarts, queue retries, the
//! queued sender, reconnecting spokes and bridges.
//!
//! [`BackoffPolicy::decide`] turns an attempt number (1 for the first retry) and a [`Failure`]
//! into a [`Decision`]: retry after a delay, retry now, or give up with a [`GiveUpReason`]. It
//! reads no clock and owns no generator: randomness comes from a [`Jitter`] the caller passes
//! (a seeded [`SplitMix64`] in tests), and [`BackoffState`] takes `now` as an argument.
//!
//! # Layout
//! - `policy.rs`: [`BackoffPolicy`], its presets, limits and [`InvalidBackoff`].
//! - `curve.rs`: the delay arithmetic of each preset and the [`CustomStrategy`] type.
//! - `decision.rs`: [`Decision`] and [`GiveUpReason`].
//! - `failure.rs`: [`Failure`], a message and whether retrying can help.
//! - `jitter.rs`: the [`Jitter`] trait and [`SplitMix64`].
//! - `state.rs`: [`BackoffState`], the attempt count with its healthy-period reset.
//! - `json.rs`: the configuration-file form.
//!
//! # Presets
//! Every policy first gives up on a failure that is not retryable (a poison message goes to the
//! error queue on its first failure), then after `max_attempts` retries (default
//! [`DEFAULT_MAX_ATTEMPTS`]; `None` is forever, for reconnects). Then, for attempt n:
//! - `fixed(d)`: d.
//! - `exponential(min, max)` / `exponential_with(min, max, factor, r)`: d = min * factor^(n-1)
//!   capped at max / (1 + r); then drawn uniformly from `[d(1-r), d(1+r)]`, which never passes
//!   max. The band is capped, not the draw, so at the cap the delays still spread over
//!   `[max(1-r)/(1+r), max]` and peers cut off together do not come back in step (r = 0
//!   doubles exactly up to max; r = 1 is full jitter, `[0, max]`, at the cap).
//! - `polynomial()`: Sidekiq's n^4 + 15 + rand(0..30) * (n+1) seconds (exponent configurable).
//! - `list(delays)`: `delays[n-1]`, the last one repeating (JetStream's `BackOff`).
//! - `custom(f)`: `f(n, &failure)` decides.
//!
//! A zero delay is always reported as [`Decision::RetryNow`].
//!
//! # JSON
//! Presets serialize as an object tagged by `kind`; durations are whole milliseconds in keys
//! ending `_ms`. Keys left out take the defaults shown; unknown keys are rejected; `null` for
//! `max_attempts` means forever and for `reset_after_ms` means never. A custom strategy fails
//! to serialize.
//! ```json
//! {"kind": "fixed", "delay_ms": 500, "max_attempts": 25, "reset_after_ms": null}
//! {"kind": "exponential", "min_ms": 100, "max_ms": 30000, "factor": 2.0, "jitter": 0.2,
//!  "max_attempts": null, "reset_after_ms": 60000}
//! {"kind": "polynomial", "exponent": 4, "max_attempts": 25, "reset_after_ms": null}
//! {"kind": "list", "delays_ms": [1000, 5000, 30000], "max_attempts": 25, "reset_after_ms": null}
//! ```
//!
//! # Example
//! ```
//! use std::time::Duration;
//! use hubwire_core::backoff::{BackoffPolicy, Decision, Failure, SplitMix64};
//!
//! let policy: BackoffPolicy = serde_json::from_str(
//!     r#"{"kind": "exponential", "min_ms": 100, "max_ms": 1000, "jitter": 0.0, "max_attempts": 5}"#,
//! )
//! .unwrap();
//! let mut jitter = SplitMix64::from_entropy();
//! let refused = Failure::retryable("connection refused");
//!
//! let delays: Vec<_> = (1..=5).map(|n| policy.decide(n, &refused, &mut jitter)).collect();
//! let ms = |n| Decision::RetryAfter(Duration::from_millis(n));
//! assert_eq!(delays, [ms(100), ms(200), ms(400), ms(800), ms(1000)]);
//! assert!(matches!(policy.decide(6, &refused, &mut jitter), Decision::GiveUp(_)));
//!
//! let poison = Failure::permanent("body is not MessagePack");
//! assert!(matches!(policy.decide(1, &poison, &mut jitter), Decision::GiveUp(_)));
//! ```

mod curve;
mod decision;
mod failure;
mod jitter;
mod json;
mod policy;
mod state;

#[cfg(test)]
mod bounds_tests;
#[cfg(test)]
mod herd_tests;
#[cfg(test)]
mod json_tests;
#[cfg(test)]
mod limits_tests;
#[cfg(test)]
mod presets_tests;
#[cfg(test)]
mod state_tests;

pub use curve::CustomStrategy;
pub use decision::{Decision, GiveUpReason};
pub use failure::Failure;
pub use jitter::{Jitter, SplitMix64};
pub use policy::{BackoffPolicy, InvalidBackoff};
pub use policy::{
    DEFAULT_FACTOR, DEFAULT_JITTER, DEFAULT_MAX_ATTEMPTS, DEFAULT_POLYNOMIAL_EXPONENT,
};
pub use state::BackoffState;
