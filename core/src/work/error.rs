//! Why a call on the dispatch bookkeeping was refused.

use super::{LeaseId, WorkerId};

/// Why an item or a worker's declaration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkError {
    /// No queue of that name is served here.
    #[error("no work queue named {0:?} is served here; declare it on the dispatcher")]
    UnknownQueue(String),
    /// An item id already waiting or leased in the queue.
    #[error("item {id} is already in queue {queue:?}")]
    DuplicateItem {
        /// The queue.
        queue: String,
        /// The id given twice.
        id: u64,
    },
    /// The worker is not connected (it left, or was never joined).
    #[error("{0} is not connected")]
    UnknownWorker(WorkerId),
}

/// Why an answer about a lease was refused. The lease is left as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeaseError {
    /// No such lease is held: it was settled already, it lapsed, or its worker was taken for
    /// lost (the item may be with another worker now).
    #[error("{0} is not held (settled, lapsed, or its worker was taken for lost)")]
    Unknown(LeaseId),
    /// The lease is held by another worker.
    #[error("{lease} is held by another worker than {worker}")]
    NotYours {
        /// The lease.
        lease: LeaseId,
        /// The worker that named it.
        worker: WorkerId,
    },
}
