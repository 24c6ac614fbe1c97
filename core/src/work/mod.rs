//! The bookkeeping of a network work queue, without I/O: which items wait, which worker holds
//! which item under which lease until when, how much credit each worker has left, and what
//! becomes of an item when its lease ends. The dispatcher actor (`hubwire_actors::work`) owns a
//! [`Dispatch`] and turns frames and timer ticks into calls on it; the time is always passed in
//! (milliseconds, the same clock as the store's `now_ms`).
//!
//! ```text
//!  add_item / send_all ─▶ queues (ready, delayed)   ─┐
//!  join / take / status ─▶ workers (credit, status)  ├─▶ poll_deliveries(now) ─▶ Vec<Delivery>
//!  ack / nack / reject / extend ─▶ leases ───────────┘      (the DispatchPolicy picks a worker)
//!  tick(now) ─▶ lapsed leases, workers lost to a missing heartbeat
//!  every end of a lease ─▶ Settled (what the store must record: acked, retry, dead, nothing)
//! ```
//!
//! # The rules
//! - A worker holds at most `credit` leases at once (broadcast copies included); a worker whose
//!   credit is lowered gets nothing new until it is under the new credit.
//! - Every delivery has its own [`LeaseId`]; acks, nacks, rejects and extensions name the lease,
//!   so a worker whose lease ended (lapsed, or it was taken for lost) cannot settle the item a
//!   second time: its late answer is refused ([`LeaseError::Unknown`]).
//! - An item is redelivered only after its lease ended without an ack: its worker left or went
//!   silent (not counted against the item), its lease lapsed or it was nacked (counted). A
//!   counted failure at `max_deliveries` sends the item to the error queue ([`Settled::Dead`]).
//! - A lease lasts `visibility_ms` and is extended by progress, up to `max_lease_ms` after it
//!   was taken, so a long job is not cut off and a stuck one is not held for ever.
//!
//! # Layout
//! - `client/`: the [`Producer`] and the [`Worker`] (plain tokio).
//! - `ids.rs`: [`WorkerId`], [`LeaseId`].
//! - `config.rs`: [`QueueConfig`], [`DispatchLimits`].
//! - `item.rs`: [`WorkItem`], [`Delivery`], [`Settled`].
//! - `status.rs`: [`WorkerStatus`], what a worker reports about itself.
//! - `policy.rs`: [`DispatchPolicy`] and the built-ins [`LeastInFlight`], [`RoundRobin`],
//!   [`WeightedByStatus`].
//! - `queue.rs`: one queue's waiting items, ready and delayed.
//! - `dispatch.rs`: [`Dispatch`], the whole state machine; `error.rs`: [`WorkError`],
//!   [`LeaseError`]; `stats.rs`: [`QueueFigures`], [`WorkerFigures`].
//! - `error_list.rs`: [`ErrorList`], the bounded error queue of an in-memory queue.

mod client;
mod config;
mod deadlines;
mod dispatch;
mod error;
mod error_list;
mod ids;
mod item;
mod policy;
mod queue;
mod stats;
mod status;

#[cfg(test)]
mod dispatch_tests;
#[cfg(test)]
mod error_list_tests;
#[cfg(test)]
mod model_tests;

pub use client::{
    DrainHandle, Job, JobOutcome, LinkOptions, Producer, WorkClientError, Worker, WorkerOptions,
};
pub use config::{DispatchLimits, QueueConfig};
pub use dispatch::{Dispatch, Tick};
pub use error::{LeaseError, WorkError};
pub use error_list::{
    ErrorBound, ErrorList, DEFAULT_MAX_ERRORS, DEFAULT_MAX_ERROR_BYTES, ENTRY_OVERHEAD_BYTES,
};
pub use ids::{LeaseId, WorkerId};
pub use item::{Delivery, Settled, WorkItem};
pub use policy::{
    policy_by_name, DispatchPolicy, ItemView, LeastInFlight, RoundRobin, WeightedByStatus,
    WorkerView,
};
pub use stats::{QueueFigures, WorkerFigures};
pub use status::WorkerStatus;
