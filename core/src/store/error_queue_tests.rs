//! Both stores: retries, the error queue (fail, requeue, clear, pop) and pause states.

use super::test_support::*;
use super::*;

fn requeue(queue: &str, id: ItemId, now_ms: u64) -> Op {
    Op::Requeue {
        queue: queue.into(),
        id,
        now_ms,
    }
}

fn errors_at(messages: &[(u64, &str)]) -> Vec<AttemptError> {
    let error = |(at_ms, message): &(u64, &str)| AttemptError {
        at_ms: *at_ms,
        message: message.to_string(),
    };
    messages.iter().map(error).collect()
}

#[test]
fn a_retry_keeps_the_item_pending_with_its_attempts_and_errors() {
    on_both(|store| {
        let id = enqueue_n(store, "q", 1)[0];
        assert_eq!(
            apply_one(store, retry("q", id, "timeout", 10, 110)),
            OpOutcome::Done
        );
        assert_eq!(
            apply_one(store, retry("q", id, "refused", 120, 320)),
            OpOutcome::Done
        );
        let item = store.all_pending("q").unwrap().remove(0);
        assert_eq!(item.attempts, 2);
        assert_eq!(item.not_before_ms, 320);
        assert_eq!(item.errors, errors_at(&[(10, "timeout"), (120, "refused")]));
        assert_eq!(store.pending_count("q").unwrap(), 1);
        assert_eq!(
            apply_one(store, retry("q", ItemId(99), "x", 1, 1)),
            OpOutcome::NotFound
        );
    });
}

#[test]
fn a_failed_item_moves_to_the_error_queue_with_every_error_message() {
    on_both(|store| {
        let id = enqueue_n(store, "q", 1)[0];
        store
            .apply(vec![
                retry("q", id, "first", 10, 20),
                retry("q", id, "second", 30, 40),
                fail("q", id, "third", 50),
            ])
            .unwrap();
        assert_eq!(store.pending_count("q").unwrap(), 0);
        assert!(store.all_pending("q").unwrap().is_empty());
        assert_eq!(store.error_count("q").unwrap(), 1);

        let errored = store.error("q", id).unwrap().unwrap();
        assert_eq!(errored.failed_at_ms, 50);
        assert_eq!(errored.item.attempts, 3);
        let all = errors_at(&[(10, "first"), (30, "second"), (50, "third")]);
        assert_eq!(errored.item.errors, all);
        assert_eq!(errored.last_error(), Some("third"));
        assert_eq!(errored.item.route, "q.run");
        assert_eq!(store.errors("q", None, 10).unwrap(), [errored]);

        // Failing again, or from the wrong queue, finds nothing.
        assert_eq!(
            apply_one(store, fail("q", id, "again", 60)),
            OpOutcome::NotFound
        );
        assert_eq!(
            apply_one(store, fail("other", id, "x", 60)),
            OpOutcome::NotFound
        );
    });
}

#[test]
fn a_requeued_item_is_pending_again_in_its_old_place_with_its_errors() {
    on_both(|store| {
        let ids = enqueue_n(store, "q", 3);
        apply_one(store, fail("q", ids[0], "boom", 5));
        assert_eq!(apply_one(store, requeue("q", ids[0], 7)), OpOutcome::Done);
        assert_eq!(
            apply_one(store, requeue("q", ids[0], 7)),
            OpOutcome::NotFound
        );

        let pending = store.all_pending("q").unwrap();
        assert_eq!(ids_of(&pending), ids);
        let item = &pending[0];
        assert_eq!((item.attempts, item.requeue_count), (0, 1));
        assert_eq!(item.errors, errors_at(&[(5, "boom")]));
        assert_eq!(item.not_before_ms, 7);
        assert_eq!(store.error_count("q").unwrap(), 0);
        assert_eq!(store.pending_count("q").unwrap(), 3);

        // A second failure keeps the count of requeues and adds to the errors.
        apply_one(store, fail("q", ids[0], "boom again", 9));
        let errored = store.error("q", ids[0]).unwrap().unwrap();
        assert_eq!((errored.item.attempts, errored.item.requeue_count), (1, 1));
        assert_eq!(errored.item.errors.len(), 2);
    });
}

/// Fails items 0 and 2 of four, takes the snapshot an operator's bulk op would, then fails
/// item 3 (the late one): returns the ids, the snapshot and the late id.
fn fail_around_snapshot(store: &mut dyn Store) -> (Vec<ItemId>, ItemId, ItemId) {
    let ids = enqueue_n(store, "q", 4);
    store
        .apply(vec![fail("q", ids[0], "x", 1), fail("q", ids[2], "x", 1)])
        .unwrap();
    let snapshot = store.max_error_id("q").unwrap().unwrap();
    assert_eq!(snapshot, ids[2]);
    store.apply(vec![fail("q", ids[3], "late", 2)]).unwrap();
    let late = ids[3];
    (ids, snapshot, late)
}

#[test]
fn requeue_all_leaves_items_that_failed_after_it_was_asked() {
    on_both(|store| {
        let (ids, snapshot, late) = fail_around_snapshot(store);
        let all = Op::RequeueAll {
            queue: "q".into(),
            up_to: snapshot,
            now_ms: 3,
        };
        assert_eq!(apply_one(store, all), OpOutcome::Count(2));
        assert_eq!(error_ids(store, "q"), [late]);
        assert_eq!(ids_of(&store.all_pending("q").unwrap()), ids[..3]);
        assert_eq!(store.pending_count("q").unwrap(), 3);
        assert_eq!(store.error_count("q").unwrap(), 1);
    });
}

#[test]
fn clear_leaves_items_that_failed_after_it_was_asked() {
    on_both(|store| {
        let (ids, snapshot, late) = fail_around_snapshot(store);
        let clear = Op::ClearErrors {
            queue: "q".into(),
            up_to: snapshot,
        };
        assert_eq!(apply_one(store, clear.clone()), OpOutcome::Count(2));
        assert_eq!(apply_one(store, clear), OpOutcome::Count(0));
        assert_eq!(error_ids(store, "q"), [late]);
        assert_eq!(ids_of(&store.all_pending("q").unwrap()), [ids[1]]);
        assert_eq!(store.error_count("q").unwrap(), 1);
        let other = Op::ClearErrors {
            queue: "other".into(),
            up_to: ItemId(u64::MAX),
        };
        assert_eq!(apply_one(store, other), OpOutcome::Count(0));
    });
}

#[test]
fn pop_hands_back_the_errored_item_once() {
    on_both(|store| {
        let id = enqueue_n(store, "q", 1)[0];
        apply_one(store, fail("q", id, "bad body", 4));
        let expected = store.error("q", id).unwrap().unwrap();
        let pop = Op::PopError {
            queue: "q".into(),
            id,
        };
        assert_eq!(
            apply_one(store, pop.clone()),
            OpOutcome::Popped(Box::new(expected))
        );
        assert_eq!(apply_one(store, pop), OpOutcome::NotFound);
        assert_eq!(store.error("q", id).unwrap(), None);
        assert_eq!(store.error_count("q").unwrap(), 0);
        assert_eq!(store.max_error_id("q").unwrap(), None);
    });
}

#[test]
fn pause_states_are_kept_per_queue() {
    on_both(|store| {
        assert_eq!(store.pause("q").unwrap(), PauseState::default());
        let paused = PauseState {
            receiving_paused: false,
            processing_paused: true,
        };
        let set = Op::SetPause {
            queue: "q".into(),
            pause: paused,
        };
        assert_eq!(apply_one(store, set), OpOutcome::Done);
        assert_eq!(store.pause("q").unwrap(), paused);
        assert_eq!(store.queues().unwrap(), ["q"]);

        // Enqueues, completions and failures leave the pause state alone.
        let id = enqueue_n(store, "q", 1)[0];
        apply_one(store, fail("q", id, "x", 1));
        assert_eq!(store.pause("q").unwrap(), paused);
        assert_eq!(store.pause("other").unwrap(), PauseState::default());
    });
}
