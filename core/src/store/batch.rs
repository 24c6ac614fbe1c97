//! What each [`Op`] does, written once over [`Tables`] so the redb and memory stores cannot
//! drift: each store only says how to get, put and remove records inside its transaction.

use serde::{Deserialize, Serialize};

use super::error::StoreError;
use super::item::{AttemptError, ErroredItem, ItemId, PauseState, PendingItem};
use super::op::{Op, OpOutcome};

/// What a store keeps per queue besides its items: sizes (so the bound check and the counts
/// never scan) and the pause state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct QueueMeta {
    pub pending: u64,
    pub errors: u64,
    pub pause: PauseState,
    /// Pending items that failed at least once (attempts > 0): the retry queue.
    #[serde(default)]
    pub retrying: u64,
}

/// The records of one store, seen from inside one write transaction.
pub(crate) trait Tables {
    /// The next id of the store's sequence (the last one given + 1).
    fn take_id(&mut self) -> Result<ItemId, StoreError>;
    fn meta(&mut self, queue: &str) -> Result<Option<QueueMeta>, StoreError>;
    fn put_meta(&mut self, queue: &str, meta: QueueMeta) -> Result<(), StoreError>;
    fn put_pending(&mut self, item: PendingItem) -> Result<(), StoreError>;
    fn remove_pending(
        &mut self,
        queue: &str,
        id: ItemId,
    ) -> Result<Option<PendingItem>, StoreError>;
    fn put_error(&mut self, item: ErroredItem) -> Result<(), StoreError>;
    fn remove_error(&mut self, queue: &str, id: ItemId) -> Result<Option<ErroredItem>, StoreError>;
    /// Ids of the queue's errored items with `id <= up_to`, ascending.
    fn error_ids_up_to(&mut self, queue: &str, up_to: ItemId) -> Result<Vec<ItemId>, StoreError>;
    fn idempotent(&mut self, queue: &str, key: &str) -> Result<Option<ItemId>, StoreError>;
    fn put_idempotent(&mut self, queue: &str, key: &str, id: ItemId) -> Result<(), StoreError>;
    fn remove_idempotent(&mut self, queue: &str, key: &str) -> Result<(), StoreError>;
}

/// Applies `op`; an `Err` means the whole transaction must be dropped.
pub(crate) fn apply_op<T: Tables>(t: &mut T, op: Op) -> Result<OpOutcome, StoreError> {
    match op {
        Op::Enqueue {
            queue,
            route,
            body,
            headers,
            idempotency_key,
            now_ms,
            max_pending,
            group,
        } => {
            if let Some(key) = &idempotency_key {
                if let Some(existing) = t.idempotent(&queue, key)? {
                    return Ok(OpOutcome::Duplicate(existing));
                }
            }
            let mut meta = t.meta(&queue)?.unwrap_or_default();
            if meta.pending >= max_pending as u64 {
                return Ok(OpOutcome::Full);
            }
            let id = t.take_id()?;
            if let Some(key) = &idempotency_key {
                t.put_idempotent(&queue, key, id)?;
            }
            meta.pending += 1;
            t.put_meta(&queue, meta)?;
            t.put_pending(PendingItem {
                id,
                queue,
                route,
                body,
                headers,
                idempotency_key,
                enqueued_at_ms: now_ms,
                attempts: 0,
                errors: Vec::new(),
                not_before_ms: 0,
                requeue_count: 0,
                group,
            })?;
            Ok(OpOutcome::Enqueued(id))
        }
        Op::Complete { queue, id } => {
            let Some(item) = t.remove_pending(&queue, id)? else {
                return Ok(OpOutcome::NotFound);
            };
            release_key(t, &item)?;
            change_counts(t, &queue, -1, 0)?;
            if item.attempts > 0 {
                change_retrying(t, &queue, -1)?;
            }
            Ok(OpOutcome::Done)
        }
        Op::Retry {
            queue,
            id,
            error,
            now_ms,
            not_before_ms,
        } => {
            let Some(mut item) = t.remove_pending(&queue, id)? else {
                return Ok(OpOutcome::NotFound);
            };
            let first_failure = item.attempts == 0;
            record_failure(&mut item, error, now_ms);
            item.not_before_ms = not_before_ms;
            t.put_pending(item)?;
            if first_failure {
                change_retrying(t, &queue, 1)?;
            }
            Ok(OpOutcome::Done)
        }
        Op::Fail {
            queue,
            id,
            error,
            now_ms,
        } => {
            let Some(mut item) = t.remove_pending(&queue, id)? else {
                return Ok(OpOutcome::NotFound);
            };
            let was_retrying = item.attempts > 0;
            record_failure(&mut item, error, now_ms);
            t.put_error(ErroredItem {
                item,
                failed_at_ms: now_ms,
            })?;
            change_counts(t, &queue, -1, 1)?;
            if was_retrying {
                change_retrying(t, &queue, -1)?;
            }
            Ok(OpOutcome::Done)
        }
        Op::Requeue { queue, id, now_ms } => {
            if !requeue(t, &queue, id, now_ms)? {
                return Ok(OpOutcome::NotFound);
            }
            change_counts(t, &queue, 1, -1)?;
            Ok(OpOutcome::Done)
        }
        Op::RequeueAll {
            queue,
            up_to,
            now_ms,
        } => {
            let mut n = 0;
            for id in t.error_ids_up_to(&queue, up_to)? {
                n += u64::from(requeue(t, &queue, id, now_ms)?);
            }
            change_counts(t, &queue, n as i64, -(n as i64))?;
            Ok(OpOutcome::Count(n))
        }
        Op::ClearErrors { queue, up_to } => {
            let mut n = 0;
            for id in t.error_ids_up_to(&queue, up_to)? {
                if let Some(errored) = t.remove_error(&queue, id)? {
                    release_key(t, &errored.item)?;
                    n += 1;
                }
            }
            change_counts(t, &queue, 0, -(n as i64))?;
            Ok(OpOutcome::Count(n))
        }
        Op::PopError { queue, id } => {
            let Some(errored) = t.remove_error(&queue, id)? else {
                return Ok(OpOutcome::NotFound);
            };
            release_key(t, &errored.item)?;
            change_counts(t, &queue, 0, -1)?;
            Ok(OpOutcome::Popped(Box::new(errored)))
        }
        Op::SetPause { queue, pause } => {
            let mut meta = t.meta(&queue)?.unwrap_or_default();
            meta.pause = pause;
            t.put_meta(&queue, meta)?;
            Ok(OpOutcome::Done)
        }
    }
}

fn record_failure(item: &mut PendingItem, message: String, now_ms: u64) {
    item.attempts = item.attempts.saturating_add(1);
    item.errors.push(AttemptError {
        at_ms: now_ms,
        message,
    });
}

/// Moves one errored item back to pending; false if it is not in the error queue. The caller
/// adjusts the counts (once for a bulk requeue).
fn requeue<T: Tables>(t: &mut T, queue: &str, id: ItemId, now_ms: u64) -> Result<bool, StoreError> {
    let Some(ErroredItem { mut item, .. }) = t.remove_error(queue, id)? else {
        return Ok(false);
    };
    item.attempts = 0;
    item.requeue_count = item.requeue_count.saturating_add(1);
    item.not_before_ms = now_ms;
    t.put_pending(item)?;
    Ok(true)
}

/// Frees the item's idempotency key, unless the index points elsewhere (it never should).
fn release_key<T: Tables>(t: &mut T, item: &PendingItem) -> Result<(), StoreError> {
    if let Some(key) = &item.idempotency_key {
        if t.idempotent(&item.queue, key)? == Some(item.id) {
            t.remove_idempotent(&item.queue, key)?;
        }
    }
    Ok(())
}

fn change_retrying<T: Tables>(t: &mut T, queue: &str, by: i64) -> Result<(), StoreError> {
    let mut meta = t.meta(queue)?.unwrap_or_default();
    meta.retrying = meta.retrying.saturating_add_signed(by);
    t.put_meta(queue, meta)
}

fn change_counts<T: Tables>(
    t: &mut T,
    queue: &str,
    pending: i64,
    errors: i64,
) -> Result<(), StoreError> {
    if pending == 0 && errors == 0 {
        return Ok(());
    }
    let mut meta = t.meta(queue)?.unwrap_or_default();
    meta.pending = meta.pending.saturating_add_signed(pending);
    meta.errors = meta.errors.saturating_add_signed(errors);
    t.put_meta(queue, meta)
}
