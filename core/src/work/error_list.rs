//! [`ErrorList`]: the error queue of an in-memory work queue. It holds errored items by id for
//! an operator to list, inspect, pop, requeue or clear, and it is bounded in items and in
//! bytes, so that what failing peers send cannot decide how much memory the server spends:
//! past a bound the item that went to the error queue first is dropped, and counted.

use std::collections::BTreeMap;

use crate::store::ErroredItem;

/// Default errored items an in-memory work queue keeps.
pub const DEFAULT_MAX_ERRORS: usize = 10_000;
/// Default bytes (bodies, reasons, and [`ENTRY_OVERHEAD_BYTES`] each) an in-memory work
/// queue's error queue keeps: 64 MiB.
pub const DEFAULT_MAX_ERROR_BYTES: usize = 64 * 1024 * 1024;
/// What an entry is counted for besides its body and its reasons: its id, times, counts and
/// the two map entries that hold it.
pub const ENTRY_OVERHEAD_BYTES: usize = 128;

/// How much an error queue keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorBound {
    /// Items at most.
    pub max_items: usize,
    /// Bytes at most, each item counted by [`ErrorList::cost`].
    pub max_bytes: usize,
}

impl Default for ErrorBound {
    fn default() -> Self {
        ErrorBound {
            max_items: DEFAULT_MAX_ERRORS,
            max_bytes: DEFAULT_MAX_ERROR_BYTES,
        }
    }
}

/// A bounded error queue: items by id, dropped oldest-errored first past its bound.
#[derive(Debug, Default)]
pub struct ErrorList {
    bound: ErrorBound,
    /// Every item by id, with its arrival number.
    items: BTreeMap<u64, (u64, ErroredItem)>,
    /// Ids by arrival number: the first one is the next to drop.
    arrivals: BTreeMap<u64, u64>,
    next_arrival: u64,
    bytes: usize,
    dropped: u64,
}

impl ErrorList {
    /// An empty list keeping at most `bound`.
    pub fn new(bound: ErrorBound) -> Self {
        ErrorList {
            bound,
            ..ErrorList::default()
        }
    }

    /// What `item` is counted for against the byte bound.
    pub fn cost(item: &ErroredItem) -> usize {
        let reasons: usize = item.item.errors.iter().map(|e| e.message.len()).sum();
        item.item.body.len() + item.item.route.len() + reasons + ENTRY_OVERHEAD_BYTES
    }

    /// Adds an item (replacing one with its id), then drops the oldest-errored items until the
    /// list is within its bound; an item bigger than the whole byte bound is dropped itself.
    /// Answers how many were dropped.
    pub fn push(&mut self, item: ErroredItem) -> u64 {
        let id = item.id().0;
        self.remove(id);
        self.bytes += Self::cost(&item);
        let arrival = self.next_arrival;
        self.next_arrival += 1;
        self.items.insert(id, (arrival, item));
        self.arrivals.insert(arrival, id);
        let mut dropped = 0;
        while self.items.len() > self.bound.max_items || self.bytes > self.bound.max_bytes {
            let Some((_, oldest)) = self.arrivals.first_key_value() else {
                break;
            };
            self.remove(*oldest);
            dropped += 1;
        }
        self.dropped += dropped;
        dropped
    }

    /// Items held.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Bytes held, as [`cost`](Self::cost) counts them.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Items dropped to keep within the bound, since it was made.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The item with id `id`.
    pub fn get(&self, id: u64) -> Option<&ErroredItem> {
        self.items.get(&id).map(|(_, item)| item)
    }

    /// Takes out the item with id `id`.
    pub fn remove(&mut self, id: u64) -> Option<ErroredItem> {
        let (arrival, item) = self.items.remove(&id)?;
        self.arrivals.remove(&arrival);
        self.bytes -= Self::cost(&item);
        Some(item)
    }

    /// Up to `limit` ids after `after` (from the first when `None`), ascending.
    pub fn ids_after(&self, after: Option<u64>, limit: usize) -> Vec<u64> {
        let from = match after {
            None => 0,
            Some(u64::MAX) => return Vec::new(),
            Some(id) => id + 1,
        };
        self.items
            .range(from..)
            .map(|(id, _)| *id)
            .take(limit)
            .collect()
    }

    /// Takes out every item with an id up to `up_to`, ascending.
    pub fn take_up_to(&mut self, up_to: u64) -> Vec<ErroredItem> {
        let ids: Vec<u64> = self.items.range(..=up_to).map(|(id, _)| *id).collect();
        ids.into_iter().filter_map(|id| self.remove(id)).collect()
    }

    /// The largest id held.
    pub fn max_id(&self) -> Option<u64> {
        self.items.last_key_value().map(|(id, _)| *id)
    }
}
