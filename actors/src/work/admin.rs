//! [`WorkQueueDirectory`]: which dispatcher serves each in-memory work queue of an app, so that
//! the operator's [`QueueAdmin`](crate::queue::QueueAdmin) (and with it the `hubwire.queue.*`
//! endpoints and `hubwire queue`) reaches those queues by name, as it reaches durable ones in
//! the store.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix::Addr;

use super::dispatcher::{Dispatcher, MemoryAnswer, MemoryOp, MemoryQueueOp};
use super::DispatcherHandle;
use crate::queue::QueueError;

/// The in-memory work queues of an app and their dispatchers: an immutable snapshot, cheap to
/// clone, made while the app is set up.
#[derive(Debug, Clone, Default)]
pub struct WorkQueueDirectory {
    queues: Arc<BTreeMap<String, Addr<Dispatcher>>>,
}

impl WorkQueueDirectory {
    /// The directory with the in-memory queues of `dispatcher` added.
    pub fn with(&self, dispatcher: &DispatcherHandle) -> Self {
        let mut queues = (*self.queues).clone();
        for name in &dispatcher.in_memory {
            queues.insert(name.clone(), dispatcher.addr.clone());
        }
        WorkQueueDirectory {
            queues: Arc::new(queues),
        }
    }

    /// Whether `queue` is an in-memory work queue listed here.
    pub fn contains(&self, queue: &str) -> bool {
        self.queues.contains_key(queue)
    }

    /// The names listed, sorted.
    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.queues.keys()
    }

    /// Runs `op` on in-memory work queue `queue`; `None` when it is not listed here.
    pub async fn run(&self, queue: &str, op: MemoryOp) -> Option<Result<MemoryAnswer, QueueError>> {
        let addr = self.queues.get(queue)?;
        let message = MemoryQueueOp {
            queue: queue.to_owned(),
            op,
        };
        let stopped = || QueueError::DispatcherStopped {
            queue: queue.to_owned(),
        };
        Some(addr.send(message).await.unwrap_or_else(|_| Err(stopped())))
    }
}
