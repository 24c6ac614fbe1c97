//! [`QueueAdmin`]: the operator's operations on queues, as plain async methods. The standard
//! `hubwire.queue.*` endpoints and the `hubwire queue` command wrap them.

use hubwire_core::store::{ErroredItem, ItemId, Op, OpOutcome, PauseState};
use serde::{Deserialize, Serialize};

use super::endpoint::now_ms;
use super::store_actor::StoreHandle;
use super::QueueError;
use crate::work::{MemoryAnswer, MemoryOp, WorkQueueDirectory};

/// The largest error-id page an operator can ask for; bigger asks get this many.
pub const MAX_PAGE: usize = 1000;

/// A queue's figures at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueData {
    /// Items waiting or being processed.
    pub pending: u64,
    /// Of those, items that failed at least once and wait for another attempt.
    #[serde(default)]
    pub retrying: u64,
    /// Items in the error queue.
    pub errors: u64,
    /// Whether receiving and processing are paused.
    pub pause: PauseState,
    /// Items processed since this process started.
    pub processed: u64,
    /// Items moved to the error queue since this process started.
    pub failed: u64,
}

/// One page of error ids, ascending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorIdPage {
    /// The ids.
    pub ids: Vec<ItemId>,
    /// The cursor for the next page (the last id here), or `None` when this page is the last.
    pub next: Option<ItemId>,
}

/// What to change of a queue's pause state; `None` leaves that half as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseChange {
    /// Pause (`true`) or unpause (`false`) receiving.
    pub receiving: Option<bool>,
    /// Pause (`true`) or unpause (`false`) processing.
    pub processing: Option<bool>,
}

/// The operator's handle on every queue of the process (cheap to clone).
///
/// Each operation names its queue (the queued route's key, or a work queue's name) and fails
/// with [`QueueError::UnknownQueue`] when no queue has that name in this process. Durable work
/// queues are queues of the store; in-memory ones are reached through the
/// [`WorkQueueDirectory`] given with [`with_work_queues`](Self::with_work_queues).
#[derive(Debug, Clone)]
pub struct QueueAdmin {
    store: StoreHandle,
    family: Family,
    work: WorkQueueDirectory,
}

/// Whose queues an admin handle works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// Queued routes, named by route key.
    Routes,
    /// Senders, named by sender name (stored as `sender:<name>`).
    Senders,
}

impl QueueAdmin {
    /// The operations on the queued routes' queues `store` keeps.
    pub fn new(store: StoreHandle) -> Self {
        QueueAdmin {
            store,
            family: Family::Routes,
            work: WorkQueueDirectory::default(),
        }
    }

    /// The same, reaching the in-memory work queues of `work` by name too.
    pub fn with_work_queues(mut self, work: WorkQueueDirectory) -> Self {
        if self.family == Family::Routes {
            self.work = work;
        }
        self
    }

    /// Runs `op` on an in-memory work queue, when `queue` names one.
    async fn memory(&self, queue: &str, op: MemoryOp) -> Option<Result<MemoryAnswer, QueueError>> {
        self.work.run(queue, op).await
    }

    /// The same operations on the senders' queues (outgoing and retry as pending, errored as
    /// the error queue, sending paused as processing paused), named by sender name.
    pub fn senders(store: StoreHandle) -> Self {
        QueueAdmin {
            store,
            family: Family::Senders,
            work: WorkQueueDirectory::default(),
        }
    }

    /// The store's name of queue `name`.
    fn stored(&self, name: &str) -> String {
        match self.family {
            Family::Routes => name.to_owned(),
            Family::Senders => crate::sender::sender_queue(name),
        }
    }

    /// Whether `name` can name one of this family's queues: a route key has no `:`, so a
    /// sender's stored queue (`sender:<name>`) is not reachable as a queued route.
    fn names_its_own(&self, name: &str) -> bool {
        !name.contains(':')
    }

    fn unknown(&self, name: &str) -> QueueError {
        match self.family {
            Family::Routes => QueueError::UnknownQueue {
                queue: name.to_owned(),
            },
            Family::Senders => QueueError::UnknownSender {
                name: name.to_owned(),
            },
        }
    }

    fn no_such(&self, name: &str, id: ItemId) -> QueueError {
        let queue = match self.family {
            Family::Routes => name.to_owned(),
            Family::Senders => format!("sender {name}"),
        };
        QueueError::NoSuchError { queue, id }
    }

    /// Refuses a queue no queued route has registered.
    async fn known(&self, queue: &str) -> Result<(), QueueError> {
        if !self.names_its_own(queue) {
            return Err(self.unknown(queue));
        }
        let name = self.stored(queue);
        let known = self
            .store
            .read(move |view| Ok(view.is_registered(&name)))
            .await?;
        if known {
            Ok(())
        } else {
            Err(self.unknown(queue))
        }
    }

    async fn one(&self, op: Op, what: &'static str) -> Result<OpOutcome, QueueError> {
        let mut outcomes = self.store.submit(vec![op]).await?;
        outcomes.pop().ok_or(QueueError::Unexpected { what })
    }

    /// The keys of every queued route (or the names of every sender) of this process, sorted.
    pub async fn queues(&self) -> Result<Vec<String>, QueueError> {
        let family = self.family;
        let names = self.store.read(|view| Ok(view.registered())).await?;
        let prefix = crate::sender::sender_queue("");
        let mut names: Vec<String> = names
            .into_iter()
            .filter_map(|name| match family {
                Family::Routes => (!name.starts_with(&prefix)).then_some(name),
                Family::Senders => name.strip_prefix(&prefix).map(str::to_owned),
            })
            .chain(self.work.names().cloned())
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// Pending and error sizes, pause state, and totals processed and failed.
    pub async fn data(&self, queue: &str) -> Result<QueueData, QueueError> {
        if let Some(answer) = self.memory(queue, MemoryOp::Data).await {
            return match answer? {
                MemoryAnswer::Data(data) => Ok(data),
                _ => Err(QueueError::Unexpected { what: "figures" }),
            };
        }
        let (name, own) = (self.stored(queue), self.names_its_own(queue));
        let data = self.store.read(move |view| {
            let store = view.store();
            let totals = view.totals(&name);
            Ok((own && view.is_registered(&name)).then_some(QueueData {
                pending: store.pending_count(&name)?,
                retrying: store.retry_count(&name)?,
                errors: store.error_count(&name)?,
                pause: store.pause(&name)?,
                processed: totals.processed,
                failed: totals.failed,
            }))
        });
        data.await?.ok_or_else(|| self.unknown(queue))
    }

    /// Up to `limit` (at most [`MAX_PAGE`]) error ids after `after`, ascending.
    pub async fn error_ids(
        &self,
        queue: &str,
        after: Option<ItemId>,
        limit: usize,
    ) -> Result<ErrorIdPage, QueueError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let ids: Vec<ItemId> = match self
            .memory(queue, MemoryOp::ErrorIds { after, limit })
            .await
        {
            Some(answer) => match answer? {
                MemoryAnswer::Ids(ids) => ids,
                _ => return Err(QueueError::Unexpected { what: "error ids" }),
            },
            None => {
                self.known(queue).await?;
                let name = self.stored(queue);
                let page = self
                    .store
                    .read(move |view| view.store().errors(&name, after, limit));
                page.await?.iter().map(ErroredItem::id).collect()
            }
        };
        let next = if ids.len() == limit {
            ids.last().copied()
        } else {
            None
        };
        Ok(ErrorIdPage { ids, next })
    }

    /// One errored item, with its attempts, every error message and timestamps.
    pub async fn inspect(&self, queue: &str, id: ItemId) -> Result<ErroredItem, QueueError> {
        if let Some(answer) = self.memory(queue, MemoryOp::Inspect(id)).await {
            return item(answer?, "an inspect");
        }
        self.known(queue).await?;
        let name = self.stored(queue);
        let item = self.store.read(move |view| view.store().error(&name, id));
        item.await?.ok_or_else(|| self.no_such(queue, id))
    }

    /// Removes one errored item and hands it back.
    pub async fn pop(&self, queue: &str, id: ItemId) -> Result<ErroredItem, QueueError> {
        if let Some(answer) = self.memory(queue, MemoryOp::Pop(id)).await {
            return item(answer?, "a pop");
        }
        self.known(queue).await?;
        let op = Op::PopError {
            queue: self.stored(queue),
            id,
        };
        match self.one(op, "a pop").await? {
            OpOutcome::Popped(item) => Ok(*item),
            OpOutcome::NotFound => Err(self.no_such(queue, id)),
            _ => Err(QueueError::Unexpected { what: "a pop" }),
        }
    }

    /// Sends one errored item back to pending, ready at once, its attempts reset.
    pub async fn requeue(&self, queue: &str, id: ItemId) -> Result<(), QueueError> {
        if let Some(answer) = self.memory(queue, MemoryOp::Requeue(id)).await {
            return answer.map(|_| ());
        }
        self.known(queue).await?;
        let op = Op::Requeue {
            queue: self.stored(queue),
            id,
            now_ms: now_ms(),
        };
        match self.one(op, "a requeue").await? {
            OpOutcome::Done => Ok(()),
            OpOutcome::NotFound => Err(self.no_such(queue, id)),
            _ => Err(QueueError::Unexpected { what: "a requeue" }),
        }
    }

    /// Requeues every item the error queue holds when the store applies this operation (one
    /// atomic step, so an item that fails after it is not touched). Answers how many.
    pub async fn requeue_all(&self, queue: &str) -> Result<u64, QueueError> {
        self.requeue_up_to(queue, ItemId(u64::MAX)).await
    }

    /// Requeues every errored item with an id up to `up_to`. Answers how many.
    pub async fn requeue_up_to(&self, queue: &str, up_to: ItemId) -> Result<u64, QueueError> {
        if let Some(answer) = self.memory(queue, MemoryOp::RequeueUpTo(up_to)).await {
            return memory_count(answer?, "a requeue-all");
        }
        self.known(queue).await?;
        let op = Op::RequeueAll {
            queue: self.stored(queue),
            up_to,
            now_ms: now_ms(),
        };
        count(self.one(op, "a requeue-all").await?, "a requeue-all")
    }

    /// Deletes every item the error queue holds when the store applies this operation (one
    /// atomic step, so an item that fails after it is not touched). Answers how many.
    pub async fn clear_all(&self, queue: &str) -> Result<u64, QueueError> {
        self.clear_up_to(queue, ItemId(u64::MAX)).await
    }

    /// Deletes every errored item with an id up to `up_to`. Answers how many.
    pub async fn clear_up_to(&self, queue: &str, up_to: ItemId) -> Result<u64, QueueError> {
        if let Some(answer) = self.memory(queue, MemoryOp::ClearUpTo(up_to)).await {
            return memory_count(answer?, "a clear");
        }
        self.known(queue).await?;
        let op = Op::ClearErrors {
            queue: self.stored(queue),
            up_to,
        };
        count(self.one(op, "a clear").await?, "a clear")
    }

    /// The largest id in the error queue now. Pass it to
    /// [`requeue_up_to`](Self::requeue_up_to) or [`clear_up_to`](Self::clear_up_to) to act on
    /// what you listed and nothing enqueued later.
    pub async fn error_bound(&self, queue: &str) -> Result<Option<ItemId>, QueueError> {
        if let Some(answer) = self.memory(queue, MemoryOp::ErrorBound).await {
            return match answer? {
                MemoryAnswer::Bound(bound) => Ok(bound),
                _ => Err(QueueError::Unexpected {
                    what: "an error bound",
                }),
            };
        }
        self.known(queue).await?;
        let name = self.stored(queue);
        self.store
            .read(move |view| view.store().max_error_id(&name))
            .await
    }

    /// Pauses or unpauses receiving and processing; answers the new state. Persisted: it holds
    /// across a restart (an in-memory work queue's is not: it is lost with the process). Two
    /// changes of the same queue at the same instant: the last one committed decides both
    /// halves.
    pub async fn pause(&self, queue: &str, change: PauseChange) -> Result<PauseState, QueueError> {
        if let Some(answer) = self.memory(queue, MemoryOp::Pause(change)).await {
            return match answer? {
                MemoryAnswer::Pause(pause) => Ok(pause),
                _ => Err(QueueError::Unexpected { what: "a pause" }),
            };
        }
        self.known(queue).await?;
        let name = self.stored(queue);
        let mut pause = self
            .store
            .read(move |view| view.store().pause(&name))
            .await?;
        pause.receiving_paused = change.receiving.unwrap_or(pause.receiving_paused);
        pause.processing_paused = change.processing.unwrap_or(pause.processing_paused);
        let op = Op::SetPause {
            queue: self.stored(queue),
            pause,
        };
        match self.one(op, "a pause").await? {
            OpOutcome::Done => Ok(pause),
            _ => Err(QueueError::Unexpected { what: "a pause" }),
        }
    }
}

fn item(answer: MemoryAnswer, what: &'static str) -> Result<ErroredItem, QueueError> {
    match answer {
        MemoryAnswer::Item(item) => Ok(*item),
        _ => Err(QueueError::Unexpected { what }),
    }
}

fn memory_count(answer: MemoryAnswer, what: &'static str) -> Result<u64, QueueError> {
    match answer {
        MemoryAnswer::Count(n) => Ok(n),
        _ => Err(QueueError::Unexpected { what }),
    }
}

fn count(outcome: OpOutcome, what: &'static str) -> Result<u64, QueueError> {
    match outcome {
        OpOutcome::Count(n) => Ok(n),
        _ => Err(QueueError::Unexpected { what }),
    }
}
