//! The durable store behind queued endpoints: pending and error queues, idempotency keys and
//! pause states of every queue of a process, changed in batches.
//!
//! A [`Store`] is plain code. One store actor per process owns it on its own thread and
//! group-commits: it gathers the [`Op`]s of many connections and queues into one
//! [`Store::apply`] call, one durable transaction (one fsync in [`RedbStore`]), and only then
//! acknowledges each caller with its [`OpOutcome`]. A failed batch stored nothing of itself.
//! Reads need no transaction across calls: each sees the last committed state.
//!
//! Ids come from one [`ItemId`] sequence per store, strictly increasing and never reused (the
//! last one is persisted with every batch that takes one), so FIFO order, cursors and "up to
//! this id" are exact. Workers take [`Store::next_ready`] items (oldest first, whose
//! `not_before_ms` has come) and report back with [`Op::Complete`], [`Op::Retry`] (the actor
//! asks its [`BackoffPolicy`](crate::backoff::BackoffPolicy) when) or [`Op::Fail`]. Bulk
//! operator ops take the largest error id that existed when the operator asked
//! ([`Store::max_error_id`]), so requests failing meanwhile are left alone.
//!
//! [`MemoryStore`] has the same semantics without durability: both run [`Op`]s through one
//! function over a small internal table interface, and every behavioural test runs on both.
//!
//! # The redb file
//! One file, five tables; records are MessagePack (`rmp-serde`, structs as arrays):
//! - `pending`: `(queue: &str, id: u64)` -> [`PendingItem`]. Key order is FIFO per queue.
//! - `errors`: `(queue: &str, id: u64)` -> [`ErroredItem`].
//! - `idempotency`: `(queue: &str, key: &str)` -> `id: u64` of the pending or errored item
//!   holding the key; removed when the item completes, is popped or is cleared.
//! - `queues`: `queue: &str` -> `{pending: u64, errors: u64, pause: PauseState}`, so counts and
//!   the bound check read one record; a queue appears at its first enqueue or pause.
//! - `meta`: `"format_version"` -> 1 (other versions are refused at open), `"last_id"` -> the
//!   last id given.
//!
//! Besides, a [`RedbStore`] keeps every pending item's id, next attempt time and group in
//! memory (read once at open, changed with each commit), so picking ready items walks small
//! in-memory entries and decodes only the items it takes: a backlog of thousands of items
//! waiting for a retry does not turn every fetch into thousands of decodes on the store
//! thread. (A sequenced pick that holds groups behind errored items still reads the error
//! queue.)
//!
//! # Layout
//! - `item.rs`: [`ItemId`], [`PendingItem`], [`ErroredItem`], [`AttemptError`], [`PauseState`].
//! - `op.rs`: [`Op`] and [`OpOutcome`].
//! - `batch.rs`: what each op does, once for both stores.
//! - `memory.rs`: [`MemoryStore`].
//! - `redb_store.rs`: [`RedbStore`]: opening, batches as transactions, reads.
//! - `redb_tables.rs`: the table definitions, the record codec, the write-side tables.
//! - `pending_index.rs`: the redb store's in-memory index of pending items.
//! - `pick.rs`: choosing ready items (plain, or one per group) from ids, times and groups.
//! - `error.rs`: [`StoreError`].

mod batch;
mod error;
mod item;
mod memory;
mod op;
mod pending_index;
mod pick;
mod redb_store;
mod redb_tables;

#[cfg(test)]
mod error_queue_tests;
#[cfg(test)]
mod group_tests;
#[cfg(test)]
mod model_tests;
#[cfg(test)]
mod redb_tests;
#[cfg(test)]
mod store_tests;
#[cfg(test)]
mod test_support;

use std::collections::HashSet;

pub use error::StoreError;
pub use item::{AttemptError, ErroredItem, ItemId, PauseState, PendingItem};
pub use memory::MemoryStore;
pub use op::{Op, OpOutcome};
pub use redb_store::RedbStore;

/// Where queued requests live. Object-safe, so the store actor can hold a `Box<dyn Store>`
/// chosen by configuration; `Send`, so it can be moved to the actor's own thread.
pub trait Store: Send {
    /// Applies `ops` in order in one durable transaction, returning one outcome per op. An
    /// empty batch commits nothing. On `Err` nothing of the batch was stored.
    fn apply(&mut self, ops: Vec<Op>) -> Result<Vec<OpOutcome>, StoreError>;

    /// Up to `limit` pending items of `queue`, oldest first, with `not_before_ms <= now_ms`
    /// and an id not in `exclude` (the ones workers hold already).
    fn next_ready(
        &self,
        queue: &str,
        now_ms: u64,
        exclude: &HashSet<ItemId>,
        limit: usize,
    ) -> Result<Vec<PendingItem>, StoreError>;

    /// [`next_ready`](Self::next_ready) for sequenced queues: an item with a group is taken
    /// only when no older pending item of its group exists (taken, waiting a retry or not);
    /// with `errored_blocks`, also only when no item of its group is in the error queue.
    /// Items without a group are taken as by `next_ready`. It walks the pending items up to
    /// the last one it takes (and, with `errored_blocks`, the whole error queue).
    fn next_ready_in_groups(
        &self,
        queue: &str,
        now_ms: u64,
        exclude: &HashSet<ItemId>,
        limit: usize,
        errored_blocks: bool,
    ) -> Result<Vec<PendingItem>, StoreError>;

    /// Pending items in `queue`, being processed or not (0 for an unknown queue).
    fn pending_count(&self, queue: &str) -> Result<u64, StoreError>;

    /// Pending items in `queue` that failed at least once and wait for another attempt.
    fn retry_count(&self, queue: &str) -> Result<u64, StoreError>;

    /// Items in the error queue of `queue`.
    fn error_count(&self, queue: &str) -> Result<u64, StoreError>;

    /// A page of the error queue, ascending: up to `limit` items with ids after `after` (pass
    /// the last id of the previous page; `None` for the first).
    fn errors(
        &self,
        queue: &str,
        after: Option<ItemId>,
        limit: usize,
    ) -> Result<Vec<ErroredItem>, StoreError>;

    /// One errored item, if it is in the error queue.
    fn error(&self, queue: &str, id: ItemId) -> Result<Option<ErroredItem>, StoreError>;

    /// The queue's pause state (not paused for an unknown queue).
    fn pause(&self, queue: &str) -> Result<PauseState, StoreError>;

    /// Every queue that was ever enqueued to or paused, by name.
    fn queues(&self) -> Result<Vec<String>, StoreError>;

    /// The largest id in the error queue: what bulk requeue and clear pass as `up_to`.
    fn max_error_id(&self, queue: &str) -> Result<Option<ItemId>, StoreError>;

    /// Every pending item of `queue`, oldest first: what a restart resumes with.
    fn all_pending(&self, queue: &str) -> Result<Vec<PendingItem>, StoreError>;

    /// Transactions committed by this instance (fsyncs, for [`RedbStore`]; batches applied,
    /// for [`MemoryStore`]).
    fn commits(&self) -> u64;
}
