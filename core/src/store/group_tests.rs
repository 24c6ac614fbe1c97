//! Both stores: sequenced picks keep each group in order, and the retry count.

use std::collections::HashSet;

use super::test_support::*;
use super::*;

fn in_group(queue: &str, group: Option<&str>, now_ms: u64) -> Op {
    let mut op = enqueue(queue, None, now_ms);
    if let Op::Enqueue { group: g, .. } = &mut op {
        *g = group.map(Into::into);
    }
    op
}

fn enqueue_groups(store: &mut dyn Store, groups: &[Option<&str>]) -> Vec<ItemId> {
    let ops = groups
        .iter()
        .enumerate()
        .map(|(i, g)| in_group("q", *g, i as u64))
        .collect();
    store
        .apply(ops)
        .unwrap()
        .into_iter()
        .map(enqueued)
        .collect()
}

#[test]
fn only_the_oldest_item_of_each_group_is_ready() {
    on_both(|store| {
        let ids = enqueue_groups(store, &[Some("a"), Some("b"), Some("a"), None, Some("b")]);
        let none = HashSet::new();
        let ready = store
            .next_ready_in_groups("q", 0, &none, 10, false)
            .unwrap();
        assert_eq!(ids_of(&ready), [ids[0], ids[1], ids[3]]);
        assert_eq!(ready[0].group.as_deref(), Some("a"));

        // Taken by a worker, the first of a group still holds the group back.
        let taken: HashSet<_> = [ids[0]].into();
        let ready = store
            .next_ready_in_groups("q", 0, &taken, 10, false)
            .unwrap();
        assert_eq!(ids_of(&ready), [ids[1], ids[3]]);

        // Waiting for a retry, too.
        apply_one(store, retry("q", ids[1], "down", 1, 500));
        let ready = store
            .next_ready_in_groups("q", 10, &none, 10, false)
            .unwrap();
        assert_eq!(ids_of(&ready), [ids[0], ids[3]]);

        // Done, the next of the group is ready.
        apply_one(store, complete("q", ids[0]));
        let ready = store
            .next_ready_in_groups("q", 10, &none, 10, false)
            .unwrap();
        assert_eq!(ids_of(&ready), [ids[2], ids[3]]);
        let ready = store
            .next_ready_in_groups("q", 10, &none, 1, false)
            .unwrap();
        assert_eq!(ids_of(&ready), [ids[2]]);
        assert!(store
            .next_ready_in_groups("q", 10, &none, 0, false)
            .unwrap()
            .is_empty());
    });
}

#[test]
fn an_errored_item_blocks_its_group_only_when_asked() {
    on_both(|store| {
        let ids = enqueue_groups(store, &[Some("a"), Some("a"), Some("b")]);
        apply_one(store, fail("q", ids[0], "gone", 1));
        let none = HashSet::new();
        let skip = store
            .next_ready_in_groups("q", 0, &none, 10, false)
            .unwrap();
        assert_eq!(ids_of(&skip), [ids[1], ids[2]]);
        let block = store.next_ready_in_groups("q", 0, &none, 10, true).unwrap();
        assert_eq!(ids_of(&block), [ids[2]]);
        // Popped by an operator, the group flows again.
        store
            .apply(vec![Op::PopError {
                queue: "q".into(),
                id: ids[0],
            }])
            .unwrap();
        let block = store.next_ready_in_groups("q", 0, &none, 10, true).unwrap();
        assert_eq!(ids_of(&block), [ids[1], ids[2]]);
    });
}

#[test]
fn the_retry_count_follows_items_that_failed_and_wait() {
    on_both(|store| {
        let ids = enqueue_n(store, "q", 3);
        assert_eq!(store.retry_count("q").unwrap(), 0);
        apply_one(store, retry("q", ids[0], "1", 1, 2));
        apply_one(store, retry("q", ids[0], "2", 3, 4));
        apply_one(store, retry("q", ids[1], "1", 1, 2));
        assert_eq!(store.retry_count("q").unwrap(), 2);
        apply_one(store, complete("q", ids[0]));
        assert_eq!(store.retry_count("q").unwrap(), 1);
        apply_one(store, fail("q", ids[1], "gone", 5));
        apply_one(store, fail("q", ids[2], "gone", 5));
        assert_eq!(store.retry_count("q").unwrap(), 0);
        assert_eq!(store.pending_count("q").unwrap(), 0);
    });
}
