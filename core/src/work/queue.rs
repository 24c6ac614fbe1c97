//! One queue's waiting items: ready ones in id order (FIFO), delayed ones by time.

use std::collections::{BTreeSet, HashMap};

use super::{QueueConfig, QueueFigures, WorkItem};

#[derive(Debug)]
pub(super) struct WaitingItems {
    pub(super) config: QueueConfig,
    pub(super) paused: bool,
    /// Every waiting item (not leased), by id.
    items: HashMap<u64, WorkItem>,
    /// Ids of waiting items whose `not_before_ms` has come, oldest first.
    ready: BTreeSet<u64>,
    /// `(not_before_ms, id)` of waiting items still delayed.
    delayed: BTreeSet<(u64, u64)>,
    /// Items of this queue leased now (not broadcast copies): its in-flight figure, kept
    /// rather than counted so the ENQUEUE bound costs nothing.
    pub(super) leased: usize,
    pub(super) figures: QueueFigures,
}

impl WaitingItems {
    pub(super) fn new(config: QueueConfig) -> Self {
        WaitingItems {
            config,
            paused: false,
            items: HashMap::new(),
            ready: BTreeSet::new(),
            delayed: BTreeSet::new(),
            leased: 0,
            figures: QueueFigures::default(),
        }
    }

    pub(super) fn contains(&self, id: u64) -> bool {
        self.items.contains_key(&id)
    }

    pub(super) fn len(&self) -> usize {
        self.items.len()
    }

    /// Puts an item back (or in for the first time), ready or delayed as its time says.
    pub(super) fn put(&mut self, item: WorkItem, now_ms: u64) {
        if item.not_before_ms > now_ms {
            self.delayed.insert((item.not_before_ms, item.id));
        } else {
            self.ready.insert(item.id);
        }
        self.items.insert(item.id, item);
    }

    /// Moves the delayed items whose time has come to the ready set.
    pub(super) fn promote(&mut self, now_ms: u64) {
        while let Some(&(at, id)) = self.delayed.first() {
            if at > now_ms {
                break;
            }
            self.delayed.pop_first();
            self.ready.insert(id);
        }
    }

    /// The oldest ready item, left in place.
    pub(super) fn peek_ready(&self) -> Option<&WorkItem> {
        self.ready.first().and_then(|id| self.items.get(id))
    }

    /// Takes the oldest ready item out.
    pub(super) fn take_ready(&mut self) -> Option<WorkItem> {
        let id = self.ready.pop_first()?;
        self.items.remove(&id)
    }

    /// Waiting items that failed at least once.
    pub(super) fn retrying(&self) -> usize {
        self.items.values().filter(|i| i.failures > 0).count()
    }

    /// Every waiting item's id (for checks and figures).
    pub(super) fn ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.items.keys().copied()
    }
}
