//! [`MemoryStore`]: the same semantics as the redb store, kept in maps, gone with the process.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;

use super::batch::{apply_op, QueueMeta, Tables};
use super::error::StoreError;
use super::item::{ErroredItem, ItemId, PauseState, PendingItem};
use super::op::{Op, OpOutcome};
use super::pick::Pick;
use super::Store;

/// A store in memory, for tests and for users who choose speed over durability: nothing
/// survives the process. Never fails.
///
/// ```
/// use std::collections::HashSet;
/// use hubwire_core::store::{MemoryStore, Op, OpOutcome, Store};
///
/// let mut store = MemoryStore::new();
/// let enqueue = Op::Enqueue {
///     queue: "dice.roll_times".into(),
///     route: "dice.roll_times".into(),
///     body: vec![0x90].into(),
///     headers: vec![],
///     idempotency_key: None,
///     now_ms: 1_000,
///     max_pending: 10,
///     group: None,
/// };
/// let [OpOutcome::Enqueued(id)] = store.apply(vec![enqueue])?[..] else { panic!() };
/// let ready = store.next_ready("dice.roll_times", 1_000, &HashSet::new(), 8)?;
/// assert_eq!(ready[0].id, id);
/// store.apply(vec![Op::Complete { queue: "dice.roll_times".into(), id }])?;
/// assert_eq!(store.pending_count("dice.roll_times")?, 0);
/// # Ok::<(), hubwire_core::store::StoreError>(())
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    tables: MemoryTables,
    /// Batches applied; "commits" only by analogy, so a benchmark reads both stores alike.
    commits: u64,
}

#[derive(Debug, Default)]
struct MemoryTables {
    last_id: u64,
    queues: BTreeMap<String, MemoryQueue>,
}

#[derive(Debug, Default)]
struct MemoryQueue {
    meta: QueueMeta,
    pending: BTreeMap<ItemId, PendingItem>,
    errors: BTreeMap<ItemId, ErroredItem>,
    keys: HashMap<String, ItemId>,
}

impl MemoryStore {
    /// An empty store; ids start at 1.
    pub fn new() -> Self {
        Self::default()
    }

    fn queue(&self, queue: &str) -> Option<&MemoryQueue> {
        self.tables.queues.get(queue)
    }
}

impl MemoryTables {
    fn queue_mut(&mut self, queue: &str) -> &mut MemoryQueue {
        if !self.queues.contains_key(queue) {
            self.queues.insert(queue.to_owned(), MemoryQueue::default());
        }
        self.queues.get_mut(queue).expect("inserted above")
    }
}

impl Tables for MemoryTables {
    fn take_id(&mut self) -> Result<ItemId, StoreError> {
        self.last_id += 1;
        Ok(ItemId(self.last_id))
    }

    fn meta(&mut self, queue: &str) -> Result<Option<QueueMeta>, StoreError> {
        Ok(self.queues.get(queue).map(|q| q.meta))
    }

    fn put_meta(&mut self, queue: &str, meta: QueueMeta) -> Result<(), StoreError> {
        self.queue_mut(queue).meta = meta;
        Ok(())
    }

    fn put_pending(&mut self, item: PendingItem) -> Result<(), StoreError> {
        self.queue_mut(&item.queue).pending.insert(item.id, item);
        Ok(())
    }

    fn remove_pending(
        &mut self,
        queue: &str,
        id: ItemId,
    ) -> Result<Option<PendingItem>, StoreError> {
        Ok(self
            .queues
            .get_mut(queue)
            .and_then(|q| q.pending.remove(&id)))
    }

    fn put_error(&mut self, item: ErroredItem) -> Result<(), StoreError> {
        let queue = self.queue_mut(&item.item.queue);
        queue.errors.insert(item.item.id, item);
        Ok(())
    }

    fn remove_error(&mut self, queue: &str, id: ItemId) -> Result<Option<ErroredItem>, StoreError> {
        Ok(self
            .queues
            .get_mut(queue)
            .and_then(|q| q.errors.remove(&id)))
    }

    fn error_ids_up_to(&mut self, queue: &str, up_to: ItemId) -> Result<Vec<ItemId>, StoreError> {
        Ok(self.queues.get(queue).map_or_else(Vec::new, |q| {
            q.errors.range(..=up_to).map(|(id, _)| *id).collect()
        }))
    }

    fn idempotent(&mut self, queue: &str, key: &str) -> Result<Option<ItemId>, StoreError> {
        Ok(self
            .queues
            .get(queue)
            .and_then(|q| q.keys.get(key).copied()))
    }

    fn put_idempotent(&mut self, queue: &str, key: &str, id: ItemId) -> Result<(), StoreError> {
        self.queue_mut(queue).keys.insert(key.to_owned(), id);
        Ok(())
    }

    fn remove_idempotent(&mut self, queue: &str, key: &str) -> Result<(), StoreError> {
        if let Some(q) = self.queues.get_mut(queue) {
            q.keys.remove(key);
        }
        Ok(())
    }
}

impl Store for MemoryStore {
    fn apply(&mut self, ops: Vec<Op>) -> Result<Vec<OpOutcome>, StoreError> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        // Every `Tables` method here is infallible, so a batch cannot stop half-way.
        let outcomes = ops
            .into_iter()
            .map(|op| apply_op(&mut self.tables, op))
            .collect::<Result<Vec<_>, _>>()?;
        self.commits += 1;
        Ok(outcomes)
    }

    fn next_ready(
        &self,
        queue: &str,
        now_ms: u64,
        exclude: &HashSet<ItemId>,
        limit: usize,
    ) -> Result<Vec<PendingItem>, StoreError> {
        let Some(q) = self.queue(queue) else {
            return Ok(Vec::new());
        };
        Ok(q.pending
            .values()
            .filter(|item| !exclude.contains(&item.id) && item.not_before_ms <= now_ms)
            .take(limit)
            .cloned()
            .collect())
    }

    fn next_ready_in_groups(
        &self,
        queue: &str,
        now_ms: u64,
        exclude: &HashSet<ItemId>,
        limit: usize,
        errored_blocks: bool,
    ) -> Result<Vec<PendingItem>, StoreError> {
        let Some(q) = self.queue(queue) else {
            return Ok(Vec::new());
        };
        let blocked = if errored_blocks {
            q.errors
                .values()
                .filter_map(|e| e.item.group.clone())
                .collect()
        } else {
            HashSet::new()
        };
        let mut pick = Pick::new(now_ms, exclude, limit).in_groups(blocked);
        if limit > 0 {
            for item in q.pending.values() {
                if !pick.offer(item.id, item.not_before_ms, item.group.as_deref()) {
                    break;
                }
            }
        }
        Ok(pick
            .chosen
            .iter()
            .filter_map(|id| q.pending.get(id).cloned())
            .collect())
    }

    fn pending_count(&self, queue: &str) -> Result<u64, StoreError> {
        Ok(self.queue(queue).map_or(0, |q| q.meta.pending))
    }

    fn retry_count(&self, queue: &str) -> Result<u64, StoreError> {
        Ok(self.queue(queue).map_or(0, |q| q.meta.retrying))
    }

    fn error_count(&self, queue: &str) -> Result<u64, StoreError> {
        Ok(self.queue(queue).map_or(0, |q| q.meta.errors))
    }

    fn errors(
        &self,
        queue: &str,
        after: Option<ItemId>,
        limit: usize,
    ) -> Result<Vec<ErroredItem>, StoreError> {
        let Some(q) = self.queue(queue) else {
            return Ok(Vec::new());
        };
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        let page = q.errors.range((start, Bound::Unbounded)).take(limit);
        Ok(page.map(|(_, item)| item.clone()).collect())
    }

    fn error(&self, queue: &str, id: ItemId) -> Result<Option<ErroredItem>, StoreError> {
        Ok(self.queue(queue).and_then(|q| q.errors.get(&id).cloned()))
    }

    fn pause(&self, queue: &str) -> Result<PauseState, StoreError> {
        Ok(self
            .queue(queue)
            .map_or_else(PauseState::default, |q| q.meta.pause))
    }

    fn queues(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.tables.queues.keys().cloned().collect())
    }

    fn max_error_id(&self, queue: &str) -> Result<Option<ItemId>, StoreError> {
        Ok(self
            .queue(queue)
            .and_then(|q| q.errors.keys().next_back().copied()))
    }

    fn all_pending(&self, queue: &str) -> Result<Vec<PendingItem>, StoreError> {
        Ok(self
            .queue(queue)
            .map_or_else(Vec::new, |q| q.pending.values().cloned().collect()))
    }

    fn commits(&self) -> u64 {
        self.commits
    }
}
