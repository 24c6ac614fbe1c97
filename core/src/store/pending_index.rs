//! [`PendingIndex`]: what [`RedbStore`](super::RedbStore) keeps in memory about its pending
//! items (id, next attempt time, group), so picking ready items never decodes the ones it
//! passes over: a backlog of items waiting for a retry costs a walk over small in-memory
//! entries, not a decode of each record on the store thread.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::item::{ItemId, PendingItem};
use super::pick::Pick;

#[derive(Debug, Clone)]
struct Entry {
    not_before_ms: u64,
    group: Option<Arc<str>>,
}

/// A change to the index, made by a write transaction and applied once it commits.
#[derive(Debug, Clone)]
pub(crate) enum IndexChange {
    Put {
        queue: String,
        id: ItemId,
        not_before_ms: u64,
        group: Option<String>,
    },
    Remove {
        queue: String,
        id: ItemId,
    },
}

impl IndexChange {
    pub(crate) fn put(item: &PendingItem) -> Self {
        IndexChange::Put {
            queue: item.queue.clone(),
            id: item.id,
            not_before_ms: item.not_before_ms,
            group: item.group.clone(),
        }
    }
}

/// Every queue's pending items, by id.
#[derive(Debug, Default)]
pub(crate) struct PendingIndex {
    queues: HashMap<String, BTreeMap<u64, Entry>>,
}

impl PendingIndex {
    /// Applies committed changes, in order.
    pub(crate) fn apply(&mut self, changes: Vec<IndexChange>) {
        for change in changes {
            match change {
                IndexChange::Put {
                    queue,
                    id,
                    not_before_ms,
                    group,
                } => {
                    let entry = Entry {
                        not_before_ms,
                        group: group.map(Arc::from),
                    };
                    self.queues.entry(queue).or_default().insert(id.0, entry);
                }
                IndexChange::Remove { queue, id } => {
                    if let Some(items) = self.queues.get_mut(&queue) {
                        items.remove(&id.0);
                        if items.is_empty() {
                            self.queues.remove(&queue);
                        }
                    }
                }
            }
        }
    }

    /// Runs `pick` over `queue`'s items, oldest first.
    pub(crate) fn pick(&self, queue: &str, pick: &mut Pick<'_>) {
        let Some(items) = self.queues.get(queue) else {
            return;
        };
        for (id, entry) in items {
            if !pick.offer(ItemId(*id), entry.not_before_ms, entry.group.as_deref()) {
                break;
            }
        }
    }

    /// The ids of `queue`'s pending items (for tests: the index must agree with the table).
    #[cfg(test)]
    pub(crate) fn ids(&self, queue: &str) -> Vec<ItemId> {
        self.queues
            .get(queue)
            .map(|items| items.keys().map(|id| ItemId(*id)).collect())
            .unwrap_or_default()
    }
}
