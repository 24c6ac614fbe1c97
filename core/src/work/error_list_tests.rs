//! The bounded error list: one case per rule, and random runs against a model (a plain list in
//! arrival order) checking that the bound always holds, the oldest-errored go first, every
//! drop is counted and the byte figure stays exact.

use bytes::Bytes;
use proptest::prelude::*;

use super::error_list::{ErrorBound, ErrorList, ENTRY_OVERHEAD_BYTES};
use crate::store::{AttemptError, ErroredItem, ItemId, PendingItem};

fn errored(id: u64, body_len: usize, reason: &str) -> ErroredItem {
    ErroredItem {
        item: PendingItem {
            id: ItemId(id),
            queue: "q".into(),
            route: "q".into(),
            body: Bytes::from(vec![b'x'; body_len]),
            headers: Vec::new(),
            idempotency_key: None,
            enqueued_at_ms: 1,
            attempts: 1,
            errors: vec![AttemptError {
                at_ms: 2,
                message: reason.into(),
            }],
            not_before_ms: 0,
            requeue_count: 0,
            group: None,
        },
        failed_at_ms: 2,
    }
}

fn bound(max_items: usize, max_bytes: usize) -> ErrorBound {
    ErrorBound {
        max_items,
        max_bytes,
    }
}

#[test]
fn past_the_item_bound_the_first_errored_goes_and_is_counted() {
    let mut list = ErrorList::new(bound(2, usize::MAX));
    // Arrival order, not id order, decides: 5 errored first.
    assert_eq!(list.push(errored(5, 1, "a")), 0);
    assert_eq!(list.push(errored(3, 1, "b")), 0);
    assert_eq!(list.push(errored(9, 1, "c")), 1);
    assert_eq!(list.ids_after(None, 10), vec![3, 9]);
    assert_eq!(list.dropped(), 1);
}

#[test]
fn past_the_byte_bound_as_many_go_as_needed() {
    let each = ErrorList::cost(&errored(1, 100, "r"));
    assert_eq!(each, 100 + 1 + 1 + ENTRY_OVERHEAD_BYTES);
    let mut list = ErrorList::new(bound(100, 3 * each));
    for id in 1..=3 {
        list.push(errored(id, 100, "r"));
    }
    // One item worth two: the two oldest make room.
    let big = errored(4, 100 + each, "r");
    assert_eq!(list.push(big), 2);
    assert_eq!(list.ids_after(None, 10), vec![3, 4]);
    assert!(list.bytes() <= 3 * each);
}

#[test]
fn an_item_bigger_than_the_byte_bound_is_dropped_itself() {
    let mut list = ErrorList::new(bound(10, 50));
    assert_eq!(list.push(errored(1, 1000, "r")), 1);
    assert!(list.is_empty());
    assert_eq!((list.bytes(), list.dropped()), (0, 1));
}

#[test]
fn pages_pops_and_bulk_takes_go_by_id() {
    let mut list = ErrorList::new(ErrorBound::default());
    for id in [4, 1, 7, 2] {
        list.push(errored(id, 3, "r"));
    }
    assert_eq!(list.ids_after(None, 2), vec![1, 2]);
    assert_eq!(list.ids_after(Some(2), 2), vec![4, 7]);
    assert_eq!(list.ids_after(Some(u64::MAX), 2), Vec::<u64>::new());
    assert_eq!(list.max_id(), Some(7));
    assert_eq!(list.remove(4).map(|e| e.id()), Some(ItemId(4)));
    assert!(list.remove(4).is_none());
    let taken: Vec<u64> = list.take_up_to(2).iter().map(|e| e.id().0).collect();
    assert_eq!(taken, vec![1, 2]);
    assert_eq!(list.ids_after(None, 10), vec![7]);
    assert_eq!(list.bytes(), ErrorList::cost(&errored(7, 3, "r")));
}

#[test]
fn a_second_push_of_an_id_replaces_it() {
    let mut list = ErrorList::new(ErrorBound::default());
    list.push(errored(1, 3, "first"));
    list.push(errored(1, 3, "second"));
    assert_eq!(list.len(), 1);
    assert_eq!(list.get(1).unwrap().item.errors[0].message, "second");
    assert_eq!(list.bytes(), ErrorList::cost(&errored(1, 3, "second")));
}

#[derive(Debug, Clone)]
enum Step {
    Push(u64, usize),
    Remove(u64),
    TakeUpTo(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        5 => (0u64..40, 0usize..300).prop_map(|(id, len)| Step::Push(id, len)),
        1 => (0u64..40).prop_map(Step::Remove),
        1 => (0u64..40).prop_map(Step::TakeUpTo),
    ]
}

proptest! {
    #[test]
    fn the_bound_holds_and_the_oldest_errored_go_first(
        max_items in 0usize..8,
        max_bytes in 0usize..2000,
        steps in proptest::collection::vec(step(), 0..80),
    ) {
        let mut list = ErrorList::new(bound(max_items, max_bytes));
        // The model: (id, cost) in arrival order.
        let mut model: Vec<(u64, usize)> = Vec::new();
        let mut dropped = 0u64;
        for step in steps {
            match step {
                Step::Push(id, len) => {
                    let item = errored(id, len, "reason");
                    model.retain(|(i, _)| *i != id);
                    model.push((id, ErrorList::cost(&item)));
                    let mut gone = 0;
                    while model.len() > max_items
                        || model.iter().map(|(_, c)| c).sum::<usize>() > max_bytes
                    {
                        model.remove(0);
                        gone += 1;
                    }
                    dropped += gone;
                    prop_assert_eq!(list.push(item), gone);
                }
                Step::Remove(id) => {
                    let had = model.iter().any(|(i, _)| *i == id);
                    model.retain(|(i, _)| *i != id);
                    prop_assert_eq!(list.remove(id).is_some(), had);
                }
                Step::TakeUpTo(up_to) => {
                    let mut want: Vec<u64> =
                        model.iter().map(|(i, _)| *i).filter(|i| *i <= up_to).collect();
                    want.sort();
                    model.retain(|(i, _)| *i > up_to);
                    let got: Vec<u64> = list.take_up_to(up_to).iter().map(|e| e.id().0).collect();
                    prop_assert_eq!(got, want);
                }
            }
            prop_assert!(list.len() <= max_items);
            prop_assert!(list.bytes() <= max_bytes);
            prop_assert_eq!(list.bytes(), model.iter().map(|(_, c)| c).sum::<usize>());
            let mut ids: Vec<u64> = model.iter().map(|(i, _)| *i).collect();
            ids.sort();
            prop_assert_eq!(list.ids_after(None, usize::MAX), ids);
            prop_assert_eq!(list.dropped(), dropped);
        }
    }
}
