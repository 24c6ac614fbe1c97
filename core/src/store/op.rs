//! The changes a batch carries ([`Op`]) and what each one did ([`OpOutcome`]).

use bytes::Bytes;

use super::item::{ErroredItem, ItemId, PauseState};
use crate::backoff::Decision;

/// One change to the store. A batch of them, from many callers and queues, is applied in one
/// durable transaction by [`Store::apply`](super::Store::apply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Accept a request: [`OpOutcome::Enqueued`], [`OpOutcome::Duplicate`] or [`OpOutcome::Full`].
    Enqueue {
        /// The queue to add it to.
        queue: String,
        /// The route key it was addressed to.
        route: String,
        /// The request body.
        body: Bytes,
        /// The request's header pairs.
        headers: Vec<(String, String)>,
        /// A key already pending or errored in this queue answers with that item's id instead.
        idempotency_key: Option<String>,
        /// Stored as the item's `enqueued_at_ms`.
        now_ms: u64,
        /// The queue's bound: with this many items pending, the answer is [`OpOutcome::Full`]
        /// and nothing is stored (errored items do not count).
        max_pending: usize,
        /// The item's ordering group, for sequenced queues (`None`: unordered).
        group: Option<String>,
    },
    /// A pending item was processed: remove it and release its idempotency key.
    /// [`OpOutcome::Done`] or [`OpOutcome::NotFound`].
    Complete {
        /// The item's queue.
        queue: String,
        /// The item.
        id: ItemId,
    },
    /// An attempt failed and will be retried: attempts + 1, the error appended, not taken again
    /// before `not_before_ms`. [`OpOutcome::Done`] or [`OpOutcome::NotFound`].
    Retry {
        /// The item's queue.
        queue: String,
        /// The item.
        id: ItemId,
        /// The handler's error message.
        error: String,
        /// When the attempt failed.
        now_ms: u64,
        /// Earliest next attempt, as the back-off policy decided.
        not_before_ms: u64,
    },
    /// An attempt failed for good: attempts + 1, the error appended, moved to the error queue.
    /// [`OpOutcome::Done`] or [`OpOutcome::NotFound`].
    Fail {
        /// The item's queue.
        queue: String,
        /// The item.
        id: ItemId,
        /// The handler's error message.
        error: String,
        /// When the attempt failed; also the item's `failed_at_ms`.
        now_ms: u64,
    },
    /// Send one errored item back to pending, in its old place (ids keep FIFO order): attempts
    /// reset to 0, requeue count + 1, errors kept, ready at once. [`OpOutcome::Done`] or
    /// [`OpOutcome::NotFound`]. The queue bound does not apply to an operator's requeue.
    Requeue {
        /// The item's queue.
        queue: String,
        /// The errored item.
        id: ItemId,
        /// Becomes the item's `not_before_ms`: ready from now.
        now_ms: u64,
    },
    /// [`Op::Requeue`] for every errored item with an id up to `up_to`. [`OpOutcome::Count`].
    RequeueAll {
        /// The queue.
        queue: String,
        /// The largest id that existed when the operator asked ([`Store::max_error_id`]
        /// then), so items failing meanwhile are left alone.
        ///
        /// [`Store::max_error_id`]: super::Store::max_error_id
        up_to: ItemId,
        /// As in [`Op::Requeue`].
        now_ms: u64,
    },
    /// Delete every errored item with an id up to `up_to`, releasing their idempotency keys.
    /// [`OpOutcome::Count`].
    ClearErrors {
        /// The queue.
        queue: String,
        /// As in [`Op::RequeueAll`].
        up_to: ItemId,
    },
    /// Remove one errored item and hand it back, releasing its idempotency key.
    /// [`OpOutcome::Popped`] or [`OpOutcome::NotFound`].
    PopError {
        /// The queue.
        queue: String,
        /// The errored item.
        id: ItemId,
    },
    /// Pause or unpause receiving and processing. [`OpOutcome::Done`].
    SetPause {
        /// The queue (remembered even while it holds nothing).
        queue: String,
        /// The new state, replacing the old one.
        pause: PauseState,
    },
}

impl Op {
    /// What becomes of a failed attempt as the back-off policy decided: [`Op::Fail`] when it
    /// gives up, else [`Op::Retry`] not before `now_ms` plus the decided delay.
    pub fn after_failure(
        queue: String,
        id: ItemId,
        error: String,
        now_ms: u64,
        decision: &Decision,
    ) -> Op {
        match decision {
            Decision::GiveUp(_) => Op::Fail {
                queue,
                id,
                error,
                now_ms,
            },
            decision => {
                let delay = decision.delay().unwrap_or_default().as_millis() as u64;
                Op::Retry {
                    queue,
                    id,
                    error,
                    now_ms,
                    not_before_ms: now_ms.saturating_add(delay),
                }
            }
        }
    }

    /// The queue this op acts on.
    pub fn queue(&self) -> &str {
        match self {
            Op::Enqueue { queue, .. }
            | Op::Complete { queue, .. }
            | Op::Retry { queue, .. }
            | Op::Fail { queue, .. }
            | Op::Requeue { queue, .. }
            | Op::RequeueAll { queue, .. }
            | Op::ClearErrors { queue, .. }
            | Op::PopError { queue, .. }
            | Op::SetPause { queue, .. } => queue,
        }
    }
}

/// What one [`Op`] did, in the order of the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpOutcome {
    /// Stored under this new id.
    Enqueued(ItemId),
    /// Not stored: the idempotency key belongs to this pending or errored item.
    Duplicate(ItemId),
    /// Not stored: the queue holds `max_pending` items already.
    Full,
    /// The change was made.
    Done,
    /// No such item in the place the op looks (pending, or the error queue).
    NotFound,
    /// A bulk op touched this many items.
    Count(u64),
    /// The errored item [`Op::PopError`] removed.
    Popped(Box<ErroredItem>),
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_failure_is_retried_after_the_delay_or_moved_to_errors() {
        let retry = Op::after_failure(
            "q".into(),
            ItemId(3),
            "down".into(),
            1_000,
            &Decision::RetryAfter(Duration::from_millis(250)),
        );
        assert!(matches!(
            retry,
            Op::Retry {
                not_before_ms: 1_250,
                now_ms: 1_000,
                ..
            }
        ));
        let fail = Op::after_failure(
            "q".into(),
            ItemId(3),
            "down".into(),
            1_000,
            &Decision::GiveUp(crate::backoff::GiveUpReason::NotRetryable {
                message: "enough".into(),
            }),
        );
        assert!(matches!(fail, Op::Fail { now_ms: 1_000, .. }));
    }
}
