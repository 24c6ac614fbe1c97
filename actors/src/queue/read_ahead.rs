//! [`ReadAhead`]: the items a queue's workers (or a sender's keeper) have fetched and not yet
//! settled, and when to fetch more. Shared by queued routes and senders.
//!
//! A fetch reads the store's committed state ([`StoreHandle::read_committed`]), leaving out
//! every id held here: fetched and waiting, being processed, or whose result is not committed
//! yet. Items are fetched ahead, up to `depth` beyond the idle slots, so a slot that frees
//! starts its next item at once; a new fetch goes out only when the buffer has drained to half,
//! so a busy queue makes a few large fetches instead of many small ones, one at a time.
//!
//! [`StoreHandle::read_committed`]: super::StoreHandle::read_committed

use std::collections::{HashSet, VecDeque};

use hubwire_core::store::{ItemId, PendingItem};

/// Fetched items and held ids of one queue's consumer.
#[derive(Debug)]
pub(crate) struct ReadAhead {
    ready: VecDeque<PendingItem>,
    held: HashSet<ItemId>,
    depth: usize,
    fetching: bool,
    fetch_again: bool,
}

/// A fetch to make: at most `limit` items, none of the `exclude`d ids.
#[derive(Debug)]
pub(crate) struct Fetch {
    pub(crate) limit: usize,
    pub(crate) exclude: HashSet<ItemId>,
}

impl ReadAhead {
    /// Read-ahead of `depth` items beyond the idle slots (at least 1).
    pub(crate) fn new(depth: usize) -> Self {
        ReadAhead {
            ready: VecDeque::new(),
            held: HashSet::new(),
            depth: depth.max(1),
            fetching: false,
            fetch_again: false,
        }
    }

    /// The next fetched item, oldest first.
    pub(crate) fn next(&mut self) -> Option<PendingItem> {
        self.ready.pop_front()
    }

    /// The fetch to make for `idle` idle slots, if one is due. While one is out, remembers to
    /// fetch again when it returns.
    pub(crate) fn fetch(&mut self, idle: usize) -> Option<Fetch> {
        if self.fetching {
            self.fetch_again = true;
            return None;
        }
        // Enough on hand: wait until the buffer drains to half of the read-ahead.
        if self.ready.len() > idle + self.depth / 2 {
            return None;
        }
        let limit = (idle + self.depth).saturating_sub(self.ready.len());
        if limit == 0 {
            return None;
        }
        self.fetching = true;
        Some(Fetch {
            limit,
            exclude: self.held.clone(),
        })
    }

    /// Takes a fetch's items; answers whether to fetch again at once (a full page, or more
    /// was asked for meanwhile).
    pub(crate) fn fetched(&mut self, items: Vec<PendingItem>, limit: usize) -> bool {
        self.fetching = false;
        let full = items.len() == limit;
        for item in items {
            if self.held.insert(item.id) {
                self.ready.push_back(item);
            }
        }
        std::mem::take(&mut self.fetch_again) || full
    }

    /// A fetch failed: allows the next.
    pub(crate) fn fetch_failed(&mut self) {
        self.fetching = false;
    }

    /// The result of `id` is committed: it may be fetched again (a retry, a requeue).
    pub(crate) fn release(&mut self, id: ItemId) {
        self.held.remove(&id);
    }

    /// Holds `id` (an item taken outside a fetch).
    pub(crate) fn hold(&mut self, id: ItemId) {
        self.held.insert(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn item(id: u64) -> PendingItem {
        PendingItem {
            id: ItemId(id),
            queue: "q".into(),
            route: "q".into(),
            body: Bytes::new(),
            headers: vec![],
            idempotency_key: None,
            enqueued_at_ms: 0,
            attempts: 0,
            errors: vec![],
            not_before_ms: 0,
            requeue_count: 0,
            group: None,
        }
    }

    #[test]
    fn one_fetch_at_a_time_and_held_ids_are_left_out() {
        let mut ahead = ReadAhead::new(4);
        let fetch = ahead.fetch(2).expect("a first fetch");
        assert_eq!(fetch.limit, 6);
        assert!(ahead.fetch(2).is_none(), "one at a time");
        assert!(
            ahead.fetched(vec![item(1), item(2)], 6),
            "asked again meanwhile"
        );
        let fetch = ahead.fetch(0).expect("below half");
        assert_eq!(fetch.exclude, [ItemId(1), ItemId(2)].into());
        assert!(!ahead.fetched(vec![], fetch.limit));
        assert_eq!(ahead.next().unwrap().id, ItemId(1));
        ahead.release(ItemId(1));
        let fetch = ahead.fetch(0).unwrap();
        assert_eq!(fetch.exclude, [ItemId(2)].into());
    }

    #[test]
    fn a_full_buffer_waits_until_it_drains_to_half() {
        let mut ahead = ReadAhead::new(4);
        let fetch = ahead.fetch(0).unwrap();
        assert!(
            ahead.fetched((1..=4).map(item).collect(), fetch.limit),
            "a full page"
        );
        assert!(ahead.fetch(0).is_none(), "4 on hand, more than half of 4");
        ahead.next();
        assert!(ahead.fetch(0).is_none(), "3 on hand");
        ahead.next();
        assert_eq!(ahead.fetch(0).unwrap().limit, 2, "2 on hand: top up to 4");
    }

    #[test]
    fn an_item_fetched_twice_is_kept_once() {
        let mut ahead = ReadAhead::new(2);
        let fetch = ahead.fetch(0).unwrap();
        ahead.fetched(vec![item(7)], fetch.limit);
        let fetch = ahead.fetch(0).unwrap();
        ahead.fetched(vec![item(7)], fetch.limit);
        assert_eq!(ahead.next().unwrap().id, ItemId(7));
        assert!(ahead.next().is_none());
    }
}
