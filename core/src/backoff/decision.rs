//! [`Decision`]: what to do after a failure, and [`GiveUpReason`]: why not to retry.

use std::time::Duration;

/// What a [`BackoffPolicy`](super::BackoffPolicy) answers after a failed attempt.
///
/// `RetryAfter` always carries a non-zero delay: a zero delay is reported as `RetryNow`, so a
/// caller can skip arming a timer without checking for zero itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Try again once this much time has passed.
    RetryAfter(Duration),
    /// Try again at once.
    RetryNow,
    /// Stop trying: a queue moves the entry to its error queue, a supervisor stops (or
    /// escalates), a spoke reports the link down. The reason goes into that record.
    GiveUp(GiveUpReason),
}

impl Decision {
    /// The wait before the next attempt (`RetryNow` is zero), or `None` when giving up; for
    /// callers that only arm a timer.
    pub fn delay(&self) -> Option<Duration> {
        match self {
            Decision::RetryAfter(delay) => Some(*delay),
            Decision::RetryNow => Some(Duration::ZERO),
            Decision::GiveUp(_) => None,
        }
    }

    /// `RetryAfter(delay)`, or `RetryNow` when `delay` is zero: the one place the non-zero rule
    /// of `RetryAfter` is kept.
    pub fn after(delay: Duration) -> Self {
        if delay.is_zero() {
            Decision::RetryNow
        } else {
            Decision::RetryAfter(delay)
        }
    }
}

/// Why a policy gave up, kept with the failed entry so that an operator can tell a poison
/// message from a peer that stayed down.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GiveUpReason {
    /// The failure was marked not retryable: the same input fails the same way.
    #[error("not retryable: {message}")]
    NotRetryable {
        /// The failure's message.
        message: String,
    },
    /// The policy's `max_attempts` retries were all used.
    #[error("gave up after {max_attempts} retries, last error: {last_error}")]
    AttemptsExhausted {
        /// The limit that was reached.
        max_attempts: u32,
        /// The message of the failure that found the limit.
        last_error: String,
    },
    /// A custom strategy decided to stop, for the reason it gives.
    #[error("the strategy gave up: {0}")]
    Strategy(String),
}
