//! Both stores: FIFO order, ids, idempotency keys, the queue bound and one commit per batch.

use std::collections::HashSet;

use super::test_support::*;
use super::*;

#[test]
fn workers_take_items_oldest_first_skipping_taken_and_not_yet_due_ones() {
    on_both(|store| {
        let ids = enqueue_n(store, "q", 5);
        let none = HashSet::new();
        assert_eq!(ids_of(&store.next_ready("q", 0, &none, 10).unwrap()), ids);
        assert_eq!(
            ids_of(&store.next_ready("q", 0, &none, 2).unwrap()),
            ids[..2]
        );
        assert!(store.next_ready("q", 0, &none, 0).unwrap().is_empty());

        let taken: HashSet<_> = [ids[0], ids[2]].into();
        let ready = store.next_ready("q", 0, &taken, 2).unwrap();
        assert_eq!(ids_of(&ready), [ids[1], ids[3]]);

        apply_one(store, retry("q", ids[1], "later", 10, 100));
        let ready = store.next_ready("q", 99, &taken, 10).unwrap();
        assert_eq!(ids_of(&ready), [ids[3], ids[4]]);
        let ready = store.next_ready("q", 100, &taken, 10).unwrap();
        assert_eq!(ids_of(&ready), [ids[1], ids[3], ids[4]]);
        assert!(store.next_ready("other", 0, &none, 10).unwrap().is_empty());
    });
}

#[test]
fn an_enqueued_item_keeps_everything_the_request_carried() {
    on_both(|store| {
        let id = enqueued(apply_one(store, enqueue("q", Some("k"), 42)));
        let item = store.all_pending("q").unwrap().remove(0);
        let expected = PendingItem {
            id,
            queue: "q".into(),
            route: "q.run".into(),
            body: b"body at 42".to_vec().into(),
            headers: vec![("trace".into(), "t42".into())],
            idempotency_key: Some("k".into()),
            enqueued_at_ms: 42,
            attempts: 0,
            errors: vec![],
            not_before_ms: 0,
            requeue_count: 0,
            group: None,
        };
        assert_eq!(item, expected);
    });
}

#[test]
fn error_pages_follow_the_cursor_in_ascending_order() {
    on_both(|store| {
        let ids = enqueue_n(store, "q", 5);
        let fails = ids.iter().map(|id| fail("q", *id, "no", 1)).collect();
        store.apply(fails).unwrap();

        let mut pages = Vec::new();
        let mut cursor = None;
        loop {
            let page = store.errors("q", cursor, 2).unwrap();
            let Some(last) = page.last() else { break };
            cursor = Some(last.id());
            pages.push(page.iter().map(ErroredItem::id).collect::<Vec<_>>());
        }
        assert_eq!(pages, [&ids[..2], &ids[2..4], &ids[4..]]);
        assert_eq!(store.max_error_id("q").unwrap(), Some(ids[4]));
        assert_eq!(store.max_error_id("other").unwrap(), None);
        assert!(store.errors("q", None, 0).unwrap().is_empty());
    });
}

#[test]
fn ids_strictly_increase_across_queues_and_are_never_reused() {
    on_both(|store| {
        let a = enqueue_n(store, "a", 3);
        let b = enqueue_n(store, "b", 3);
        let all: Vec<_> = a.iter().chain(&b).copied().collect();
        assert!(all.windows(2).all(|w| w[0] < w[1]), "{all:?}");
        assert_eq!(all[0], ItemId(1));

        let last = *b.last().unwrap();
        assert_eq!(apply_one(store, complete("b", last)), OpOutcome::Done);
        let next = enqueued(apply_one(store, enqueue("b", None, 9)));
        assert!(next > last, "{next} after {last}");
    });
}

#[test]
fn the_same_idempotency_key_twice_is_stored_once_until_it_completes() {
    on_both(|store| {
        let key = Some("order-7");
        let outcomes = store
            .apply(vec![enqueue("q", key, 1), enqueue("q", key, 2)])
            .unwrap();
        let id = enqueued(outcomes[0].clone());
        assert_eq!(outcomes[1], OpOutcome::Duplicate(id));
        assert_eq!(store.pending_count("q").unwrap(), 1);

        // Another queue has its own keys.
        let elsewhere = enqueued(apply_one(store, enqueue("other", key, 3)));
        assert_ne!(elsewhere, id);

        // Still held while errored.
        apply_one(store, fail("q", id, "boom", 4));
        assert_eq!(
            apply_one(store, enqueue("q", key, 5)),
            OpOutcome::Duplicate(id)
        );

        let requeue = Op::Requeue {
            queue: "q".into(),
            id,
            now_ms: 6,
        };
        assert_eq!(apply_one(store, requeue), OpOutcome::Done);
        assert_eq!(
            apply_one(store, enqueue("q", key, 7)),
            OpOutcome::Duplicate(id)
        );

        apply_one(store, complete("q", id));
        let again = enqueued(apply_one(store, enqueue("q", key, 8)));
        assert!(again > elsewhere);
    });
}

#[test]
fn pop_and_clear_release_the_idempotency_key() {
    on_both(|store| {
        let popped = enqueued(apply_one(store, enqueue("q", Some("p"), 1)));
        let cleared = enqueued(apply_one(store, enqueue("q", Some("c"), 2)));
        store
            .apply(vec![fail("q", popped, "x", 3), fail("q", cleared, "x", 3)])
            .unwrap();
        let pop = Op::PopError {
            queue: "q".into(),
            id: popped,
        };
        assert!(matches!(apply_one(store, pop), OpOutcome::Popped(_)));
        let clear = Op::ClearErrors {
            queue: "q".into(),
            up_to: cleared,
        };
        assert_eq!(apply_one(store, clear), OpOutcome::Count(1));
        for key in ["p", "c"] {
            assert!(matches!(
                apply_one(store, enqueue("q", Some(key), 4)),
                OpOutcome::Enqueued(_)
            ));
        }
    });
}

#[test]
fn a_full_queue_answers_full_and_stores_nothing() {
    on_both(|store| {
        let bounded = |key| with_bound(enqueue("q", key, 1), 2);
        let outcomes = store
            .apply(vec![bounded(Some("k")), bounded(None), bounded(None)])
            .unwrap();
        let first = enqueued(outcomes[0].clone());
        assert_eq!(outcomes[2], OpOutcome::Full);
        assert_eq!(store.pending_count("q").unwrap(), 2);
        assert_eq!(store.all_pending("q").unwrap().len(), 2);

        // A duplicate is still acknowledged with its id; a full answer used no id.
        assert_eq!(
            apply_one(store, bounded(Some("k"))),
            OpOutcome::Duplicate(first)
        );
        assert_eq!(apply_one(store, bounded(Some("new"))), OpOutcome::Full);
        assert_eq!(apply_one(store, bounded(Some("new"))), OpOutcome::Full);

        // Errored items do not count against the bound.
        apply_one(store, fail("q", first, "x", 2));
        let next = enqueued(apply_one(store, bounded(Some("new"))));
        assert_eq!(next, ItemId(first.0 + 2));
        assert_eq!(store.queues().unwrap(), ["q"]);
    });
}

#[test]
fn a_zero_bound_on_a_new_queue_stores_nothing_at_all() {
    on_both(|store| {
        let op = with_bound(enqueue("q", None, 1), 0);
        assert_eq!(apply_one(store, op), OpOutcome::Full);
        assert!(store.queues().unwrap().is_empty());
    });
}

#[test]
fn every_non_empty_batch_is_exactly_one_commit() {
    on_both(|store| {
        let before = store.commits();
        assert!(store.apply(vec![]).unwrap().is_empty());
        assert_eq!(store.commits(), before);

        let ids = enqueue_n(store, "q", 50);
        assert_eq!(store.commits(), before + 1);

        let mut ops: Vec<_> = ids.iter().map(|id| complete("q", *id)).collect();
        ops.push(enqueue("other", None, 1));
        ops.push(complete("q", ItemId(9_999)));
        let outcomes = store.apply(ops).unwrap();
        assert_eq!(outcomes.len(), 52);
        assert_eq!(outcomes[51], OpOutcome::NotFound);
        assert_eq!(store.commits(), before + 2);
    });
}

#[test]
fn later_ops_in_a_batch_see_earlier_ones() {
    on_both(|store| {
        let first = enqueue_n(store, "q", 1)[0];
        let next = ItemId(first.0 + 1);
        let outcomes = store
            .apply(vec![
                enqueue("q", None, 1),
                retry("q", next, "once", 2, 0),
                fail("q", next, "twice", 3),
                complete("q", first),
                complete("q", first),
            ])
            .unwrap();
        use OpOutcome::*;
        assert_eq!(outcomes, [Enqueued(next), Done, Done, Done, NotFound]);
        assert_eq!(store.pending_count("q").unwrap(), 0);
        assert_eq!(store.error("q", next).unwrap().unwrap().item.attempts, 2);
    });
}

#[test]
fn stores_ops_and_errors_can_move_to_the_store_thread() {
    fn movable<T: Send + 'static>() {}
    fn shareable<T: Send + Sync + 'static>() {}
    movable::<Box<dyn Store>>();
    movable::<RedbStore>();
    movable::<MemoryStore>();
    shareable::<Op>();
    shareable::<OpOutcome>();
    shareable::<StoreError>();
}
