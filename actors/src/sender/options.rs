//! [`SenderOptions`]: how a queued sender works: workers, attempts, back-off, bound, order.

use std::time::Duration;

use hubwire_core::backoff::BackoffPolicy;
use hubwire_core::sender::RetryRule;

/// Deliveries in flight at once, unless told otherwise.
pub const DEFAULT_SENDER_WORKERS: usize = 8;
/// Attempts (the first included) before a message goes to errored, unless told otherwise:
/// with the default back-off (200 ms doubling to 60 s) about 20 minutes of retrying, so a
/// destination restarting or briefly down parks nothing.
pub const DEFAULT_SENDER_MAX_ATTEMPTS: u32 = 25;
/// Messages a sender holds (outgoing and retrying) before `send` answers full.
pub const DEFAULT_SENDER_MAX_PENDING: usize = 100_000;
/// How long one delivery attempt waits for the remote's answer, unless told otherwise.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// What a sequenced sender does with a group whose message moved to errored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GroupOnError {
    /// The group goes on with its next message; the errored one waits for an operator (the
    /// default: one bad message does not stop a customer's whole stream).
    #[default]
    Continue,
    /// The group waits until an operator requeues, pops or clears the errored message, so
    /// nothing of the group is ever delivered out of order.
    Hold,
}

/// Whether a sender keeps order, and how.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Ordering {
    /// Messages are delivered by several workers at once, in any order.
    #[default]
    Unordered,
    /// Messages with the same group key are delivered one at a time, in the order they were
    /// sent; other groups (and messages without a group) keep flowing. A message that fails
    /// holds its group through its retries.
    Groups(GroupOnError),
}

/// The settings of one sender.
#[derive(Debug, Clone)]
pub struct SenderOptions {
    /// Deliveries in flight at once (worker actors).
    pub workers: usize,
    /// Attempts in all, the first included; then the message goes to errored.
    pub max_attempts: u32,
    /// How long to wait before each retry (its own attempt limit is replaced by
    /// `max_attempts`).
    pub backoff: BackoffPolicy,
    /// Which failures are retried.
    pub retry: RetryRule,
    /// Messages held (outgoing and retrying); over it `send` answers full and stores nothing.
    pub max_pending: usize,
    /// How long one attempt waits for the remote's answer (also sent as its deadline).
    pub call_timeout: Duration,
    /// Delivery order.
    pub ordering: Ordering,
    /// Give each message an `idempotency-key` header (a UUIDv7 minted at send time and stored
    /// with it) unless it carries one, so a remote queued route that still holds the first
    /// copy stores a resent message once.
    pub idempotency_keys: bool,
}

impl Default for SenderOptions {
    fn default() -> Self {
        SenderOptions {
            workers: DEFAULT_SENDER_WORKERS,
            max_attempts: DEFAULT_SENDER_MAX_ATTEMPTS,
            backoff: BackoffPolicy::exponential(
                Duration::from_millis(200),
                Duration::from_secs(60),
            ),
            retry: RetryRule::default(),
            max_pending: DEFAULT_SENDER_MAX_PENDING,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            ordering: Ordering::Unordered,
            idempotency_keys: true,
        }
    }
}
