//! [`BackoffState`]: the attempt count of one retrying thing, reset after a healthy period.

use std::time::Instant;

use super::{BackoffPolicy, Decision, Failure, Jitter};

/// The attempt count and failure times of one retrying thing (a supervised child, a spoke's
/// link), so that the caller does not keep its own counter; time is passed in, never read.
///
/// The count starts again from 1 when the thing ran healthily for the policy's `reset_after`.
/// The healthy period is measured from when the retry was due (the failure time plus the delay
/// granted), not from the failure itself: otherwise any delay longer than `reset_after` would
/// reset the count on every failure and the back-off would never grow.
///
/// ```
/// use std::time::{Duration, Instant};
/// use hubwire_core::backoff::{BackoffPolicy, BackoffState, Decision, Failure, SplitMix64};
///
/// let policy = BackoffPolicy::fixed(Duration::from_secs(1))
///     .with_reset_after(Some(Duration::from_secs(60)));
/// let mut state = BackoffState::new();
/// let mut jitter = SplitMix64::new(1);
/// let crash = Failure::retryable("child panicked");
/// let start = Instant::now();
///
/// state.on_failure(&policy, &crash, start, &mut jitter);
/// state.on_failure(&policy, &crash, start + Duration::from_secs(2), &mut jitter);
/// assert_eq!(state.attempts(), 2);
/// // Restarted at 3 s, healthy until 70 s: the count starts again.
/// let decision = state.on_failure(&policy, &crash, start + Duration::from_secs(70), &mut jitter);
/// assert_eq!(decision, Decision::RetryAfter(Duration::from_secs(1)));
/// assert_eq!(state.attempts(), 1);
/// ```
#[derive(Clone, Debug, Default)]
pub struct BackoffState {
    /// Failures since the last reset; the attempt number handed to the policy.
    attempts: u32,
    /// When the last failure was recorded, for callers that report it.
    last_failure: Option<Instant>,
    /// When the retry after the last failure was due; the healthy period counts from here.
    retry_due: Option<Instant>,
}

impl BackoffState {
    /// A state with no failures yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a failure at `now` and asks `policy` what to do, after starting the count again
    /// if the thing was healthy for the policy's `reset_after` since its last retry was due.
    pub fn on_failure(
        &mut self,
        policy: &BackoffPolicy,
        failure: &Failure,
        now: Instant,
        jitter: &mut dyn Jitter,
    ) -> Decision {
        if let (Some(reset_after), Some(retry_due)) = (policy.reset_after(), self.retry_due) {
            if now.saturating_duration_since(retry_due) >= reset_after {
                self.attempts = 0;
            }
        }
        self.attempts = self.attempts.saturating_add(1);
        self.last_failure = Some(now);
        let decision = policy.decide(self.attempts, failure, jitter);
        // A delay too far out to represent means the retry never comes: never reset then.
        self.retry_due = match &decision {
            Decision::RetryAfter(delay) => now.checked_add(*delay),
            Decision::RetryNow | Decision::GiveUp(_) => Some(now),
        };
        decision
    }

    /// Failures since the last reset, i.e. the attempt number of the latest failure.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// When the latest failure was recorded; `None` before the first.
    pub fn last_failure(&self) -> Option<Instant> {
        self.last_failure
    }

    /// Starts the count again at once, for callers that know of a success (a message
    /// acknowledged, a handshake completed) before the healthy period is over.
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}
