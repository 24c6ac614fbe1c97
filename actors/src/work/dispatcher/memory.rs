//! The dispatcher's in-memory queues as an operator sees them: each has an error queue (a
//! bounded [`ErrorList`]) and a pause state of its own, and [`MemoryQueueOp`] carries the
//! `hubwire.queue.*` operations (through [`QueueAdmin`](crate::queue::QueueAdmin)) to them,
//! with the same answers a durable queue's store gives.

use std::collections::HashMap;

use actix::{Context, Handler, Message};
use hubwire_core::store::{ErroredItem, ItemId, PauseState, PendingItem};
use hubwire_core::work::{ErrorList, WorkItem};

use super::{now_ms, Dispatcher};
use crate::queue::{PauseChange, QueueData, QueueError};
use crate::work::options::WorkQueue;

/// One in-memory queue's operator state.
struct MemoryQueue {
    errors: ErrorList,
    pause: PauseState,
    /// Counted failures that send an item to the error queue (to tell them from rejects).
    max_deliveries: u32,
}

/// Every in-memory queue of a dispatcher, by name.
pub(super) struct MemoryQueues {
    queues: HashMap<String, MemoryQueue>,
}

impl MemoryQueues {
    pub(super) fn new(queues: &[WorkQueue]) -> Self {
        let queues = queues
            .iter()
            .filter(|q| !q.durable)
            .map(|q| {
                let state = MemoryQueue {
                    errors: ErrorList::new(q.error_bound),
                    pause: PauseState::default(),
                    max_deliveries: q.config.max_deliveries,
                };
                (q.name.clone(), state)
            })
            .collect();
        MemoryQueues { queues }
    }

    pub(super) fn receiving_paused(&self, queue: &str) -> bool {
        self.queues
            .get(queue)
            .is_some_and(|q| q.pause.receiving_paused)
    }

    pub(super) fn set_processing_paused(&mut self, queue: &str, paused: bool) {
        if let Some(q) = self.queues.get_mut(queue) {
            q.pause.processing_paused = paused;
        }
    }

    /// Errored items dropped from the error queue of `queue` to keep within its bound.
    pub(super) fn dropped(&self, queue: &str) -> u64 {
        self.queues.get(queue).map_or(0, |q| q.errors.dropped())
    }

    /// An item of an in-memory queue went to the error queue, `reason` its last failure.
    pub(super) fn dead(&mut self, queue: &str, reason: &str, item: WorkItem, now_ms: u64) {
        let Some(q) = self.queues.get_mut(queue) else {
            return;
        };
        // As the store counts: every recorded failure since the last requeue, a reject too.
        let attempts = if item.failures >= q.max_deliveries {
            item.failures
        } else {
            item.failures + 1
        };
        let mut errors = item.errors;
        errors.push(hubwire_core::store::AttemptError {
            at_ms: now_ms,
            message: reason.to_owned(),
        });
        let errored = ErroredItem {
            item: PendingItem {
                id: ItemId(item.id),
                queue: queue.to_owned(),
                route: queue.to_owned(),
                body: item.body,
                headers: Vec::new(),
                idempotency_key: None,
                enqueued_at_ms: item.enqueued_at_ms,
                attempts,
                errors,
                not_before_ms: 0,
                requeue_count: item.requeue_count,
                group: None,
            },
            failed_at_ms: now_ms,
        };
        let dropped = q.errors.push(errored);
        if dropped > 0 {
            tracing::warn!(
                queue,
                dropped,
                kept = q.errors.len(),
                "in-memory work queue's error queue full (max_errors, max_error_bytes): the first errored items were dropped (dead_dropped)"
            );
        }
    }
}

/// An errored item sent back: delivered again at once, its counted failures reset.
fn requeued(errored: ErroredItem) -> WorkItem {
    let item = errored.item;
    WorkItem {
        id: item.id.0,
        body: item.body,
        deliveries: 0,
        failures: 0,
        not_before_ms: 0,
        enqueued_at_ms: item.enqueued_at_ms,
        errors: item.errors,
        requeue_count: item.requeue_count.saturating_add(1),
    }
}

/// An operator operation on an in-memory work queue of a dispatcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryOp {
    /// Its figures.
    Data,
    /// Up to `limit` error ids after `after`.
    ErrorIds {
        /// The cursor.
        after: Option<ItemId>,
        /// Ids at most.
        limit: usize,
    },
    /// One errored item.
    Inspect(ItemId),
    /// Takes one errored item out.
    Pop(ItemId),
    /// Sends one errored item back.
    Requeue(ItemId),
    /// Sends every errored item with an id up to this one back.
    RequeueUpTo(ItemId),
    /// Deletes every errored item with an id up to this one.
    ClearUpTo(ItemId),
    /// The largest errored id.
    ErrorBound,
    /// Pauses or unpauses receiving and processing.
    Pause(PauseChange),
}

/// What a [`MemoryOp`] answers.
#[derive(Debug, Clone, PartialEq)]
pub enum MemoryAnswer {
    /// For [`MemoryOp::Data`].
    Data(QueueData),
    /// Error ids, ascending.
    Ids(Vec<ItemId>),
    /// An errored item.
    Item(Box<ErroredItem>),
    /// Items requeued or deleted.
    Count(u64),
    /// The largest errored id.
    Bound(Option<ItemId>),
    /// The new pause state.
    Pause(PauseState),
    /// Done.
    Done,
}

/// Runs `op` on the in-memory work queue `queue`.
#[derive(Message, Debug)]
#[rtype(result = "Result<MemoryAnswer, QueueError>")]
pub struct MemoryQueueOp {
    /// The queue.
    pub queue: String,
    /// The operation.
    pub op: MemoryOp,
}

impl Handler<MemoryQueueOp> for Dispatcher {
    type Result = Result<MemoryAnswer, QueueError>;

    fn handle(&mut self, msg: MemoryQueueOp, _: &mut Context<Self>) -> Self::Result {
        let MemoryQueueOp { queue, op } = msg;
        let unknown = || QueueError::UnknownQueue {
            queue: queue.clone(),
        };
        let no_such = |id| QueueError::NoSuchError {
            queue: queue.clone(),
            id,
        };
        let Some(q) = self.memory.queues.get_mut(&queue) else {
            return Err(unknown());
        };
        let answer = match op {
            MemoryOp::Data => {
                let figures = self
                    .dispatch
                    .queue_figures()
                    .into_iter()
                    .find(|(name, _)| *name == queue)
                    .map(|(_, f)| f)
                    .unwrap_or_default();
                MemoryAnswer::Data(QueueData {
                    pending: figures.pending + figures.in_flight,
                    retrying: self.dispatch.retrying(&queue) as u64,
                    errors: q.errors.len() as u64,
                    pause: q.pause,
                    processed: figures.acked,
                    failed: figures.dead_lettered,
                })
            }
            MemoryOp::ErrorIds { after, limit } => {
                let ids = q.errors.ids_after(after.map(|id| id.0), limit);
                MemoryAnswer::Ids(ids.into_iter().map(ItemId).collect())
            }
            MemoryOp::Inspect(id) => {
                let item = q.errors.get(id.0).cloned().ok_or_else(|| no_such(id))?;
                MemoryAnswer::Item(Box::new(item))
            }
            MemoryOp::Pop(id) => {
                let item = q.errors.remove(id.0).ok_or_else(|| no_such(id))?;
                MemoryAnswer::Item(Box::new(item))
            }
            MemoryOp::Requeue(id) => {
                let item = q.errors.remove(id.0).ok_or_else(|| no_such(id))?;
                let _ = self.dispatch.add_item(&queue, requeued(item), now_ms());
                self.pump();
                MemoryAnswer::Done
            }
            MemoryOp::RequeueUpTo(up_to) => {
                let items = q.errors.take_up_to(up_to.0);
                let (count, now) = (items.len() as u64, now_ms());
                for item in items {
                    let _ = self.dispatch.add_item(&queue, requeued(item), now);
                }
                self.pump();
                MemoryAnswer::Count(count)
            }
            MemoryOp::ClearUpTo(up_to) => {
                MemoryAnswer::Count(q.errors.take_up_to(up_to.0).len() as u64)
            }
            MemoryOp::ErrorBound => MemoryAnswer::Bound(q.errors.max_id().map(ItemId)),
            MemoryOp::Pause(change) => {
                let pause = &mut q.pause;
                pause.receiving_paused = change.receiving.unwrap_or(pause.receiving_paused);
                pause.processing_paused = change.processing.unwrap_or(pause.processing_paused);
                let pause = *pause;
                let _ = self.dispatch.set_paused(&queue, pause.processing_paused);
                self.pump();
                MemoryAnswer::Pause(pause)
            }
        };
        Ok(answer)
    }
}
