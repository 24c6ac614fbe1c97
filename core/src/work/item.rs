//! Items, their deliveries, and what each end of a lease means for the store.

use bytes::Bytes;

use super::{LeaseId, WorkerId};
use crate::store::AttemptError;

/// An item waiting in a queue or leased to a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkItem {
    /// The item's id: the store's id for stored items.
    pub id: u64,
    /// The body, opaque to the dispatcher.
    pub body: Bytes,
    /// Times delivered so far, all of them.
    pub deliveries: u32,
    /// Deliveries that ended in a nack or a lapsed lease: what `max_deliveries` bounds.
    pub failures: u32,
    /// Not delivered before this time (a nack's delay).
    pub not_before_ms: u64,
    /// When it was enqueued (ms since the Unix epoch; 0 when unknown).
    pub enqueued_at_ms: u64,
    /// Every counted failure's time and reason, oldest first (a requeue keeps them): what an
    /// in-memory error queue shows, as the store does for durable items.
    pub errors: Vec<AttemptError>,
    /// How many times an operator sent it back from the error queue.
    pub requeue_count: u32,
}

impl WorkItem {
    /// A new item, ready at once, never delivered.
    pub fn new(id: u64, body: Bytes) -> Self {
        WorkItem {
            id,
            body,
            deliveries: 0,
            failures: 0,
            not_before_ms: 0,
            enqueued_at_ms: 0,
            errors: Vec::new(),
            requeue_count: 0,
        }
    }

    /// The same item, enqueued at `ms`.
    pub fn enqueued_at(mut self, ms: u64) -> Self {
        self.enqueued_at_ms = ms;
        self
    }
}

/// One item handed to one worker under a lease: what goes out in a DELIVER frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The worker it goes to.
    pub worker: WorkerId,
    /// The lease the worker answers about.
    pub lease: LeaseId,
    /// The item's queue.
    pub queue: String,
    /// The item's id.
    pub id: u64,
    /// This delivery's number for the item, from 1.
    pub delivery: u32,
    /// The lease's deadline, unless extended.
    pub deadline_ms: u64,
    /// The visibility time the deadline was set from.
    pub visibility_ms: u64,
    /// A copy sent to every worker (`send_all`), not a shared item.
    pub broadcast: bool,
    /// The body.
    pub body: Bytes,
}

/// How a lease ended, and what the store must record of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Acked: the item is done (store: complete it).
    Acked {
        /// The queue.
        queue: String,
        /// The item.
        id: u64,
    },
    /// A counted failure below the limit: the item waits until `not_before_ms` (store: retry,
    /// one more attempt, the reason kept).
    Retry {
        /// The queue.
        queue: String,
        /// The item.
        id: u64,
        /// Why: the nack's reason, or that the lease lapsed.
        reason: String,
        /// When it may be delivered again.
        not_before_ms: u64,
    },
    /// Rejected, or a counted failure at the limit: the item goes to the error queue (store:
    /// fail it).
    Dead {
        /// The queue.
        queue: String,
        /// The item.
        id: u64,
        /// Why.
        reason: String,
        /// The item as it was at its last delivery (body and earlier failures), for an
        /// in-memory error queue.
        item: Box<WorkItem>,
    },
    /// Back in its queue at once, not counted (its worker was lost), or a broadcast copy ended:
    /// nothing for the store.
    Released {
        /// The queue.
        queue: String,
        /// The item.
        id: u64,
    },
}

impl Settled {
    /// The item's queue and id.
    pub fn item(&self) -> (&str, u64) {
        match self {
            Settled::Acked { queue, id }
            | Settled::Retry { queue, id, .. }
            | Settled::Dead { queue, id, .. }
            | Settled::Released { queue, id } => (queue, *id),
        }
    }
}
