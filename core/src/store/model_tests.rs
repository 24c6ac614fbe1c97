//! Random batches of ops on both stores: the same outcomes, the same state (also after the redb
//! file is reopened), and the invariants the counts and the idempotency index must keep.

use std::collections::{HashMap, HashSet};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

use super::test_support::*;
use super::*;

const QUEUES: [&str; 2] = ["a", "b"];

fn op() -> impl Strategy<Value = Op> {
    let queue = select(&QUEUES[..]);
    let id = (1u64..16).prop_map(ItemId);
    let key = proptest::option::of(select(&["k1", "k2", "k3"][..]));
    let now = 0u64..100;
    prop_oneof![
        5 => (queue.clone(), key, now.clone(), 0usize..6)
            .prop_map(|(q, key, now, bound)| with_bound(enqueue(q, key, now), bound)),
        2 => (queue.clone(), id.clone()).prop_map(|(q, id)| complete(q, id)),
        2 => (queue.clone(), id.clone(), now.clone(), 0u64..200)
            .prop_map(|(q, id, now, later)| retry(q, id, "retry", now, later)),
        2 => (queue.clone(), id.clone(), now.clone()).prop_map(|(q, id, now)| fail(q, id, "fail", now)),
        1 => (queue.clone(), id.clone(), now.clone())
            .prop_map(|(q, id, now_ms)| Op::Requeue { queue: q.into(), id, now_ms }),
        1 => (queue.clone(), id.clone(), now)
            .prop_map(|(q, up_to, now_ms)| Op::RequeueAll { queue: q.into(), up_to, now_ms }),
        1 => (queue.clone(), id.clone()).prop_map(|(q, up_to)| Op::ClearErrors { queue: q.into(), up_to }),
        1 => (queue.clone(), id).prop_map(|(q, id)| Op::PopError { queue: q.into(), id }),
        1 => (queue, any::<(bool, bool)>()).prop_map(|(q, (r, p))| Op::SetPause {
            queue: q.into(),
            pause: PauseState { receiving_paused: r, processing_paused: p },
        }),
    ]
}

/// Everything a store shows through its reads, per queue.
type Snapshot = Vec<(
    String,
    Vec<PendingItem>,
    Vec<ErroredItem>,
    (u64, u64),
    PauseState,
    Option<ItemId>,
)>;

fn snapshot(store: &dyn Store) -> Snapshot {
    let queues = store.queues().unwrap();
    let read = |q: String| {
        let counts = (
            store.pending_count(&q).unwrap(),
            store.error_count(&q).unwrap(),
        );
        let pending = store.all_pending(&q).unwrap();
        let errors = store.errors(&q, None, usize::MAX).unwrap();
        let (pause, max) = (store.pause(&q).unwrap(), store.max_error_id(&q).unwrap());
        (q, pending, errors, counts, pause, max)
    };
    queues.into_iter().map(read).collect()
}

/// Ids of items alive (pending or errored) in any queue.
fn live_ids(snapshot: &Snapshot) -> HashSet<ItemId> {
    let pending = snapshot.iter().flat_map(|q| q.1.iter().map(|i| i.id));
    pending
        .chain(
            snapshot
                .iter()
                .flat_map(|q| q.2.iter().map(ErroredItem::id)),
        )
        .collect()
}

fn check_invariants(store: &dyn Store, snapshot: &Snapshot) -> Result<(), TestCaseError> {
    for (queue, pending, errors, counts, _, max) in snapshot {
        prop_assert_eq!(*counts, (pending.len() as u64, errors.len() as u64));
        prop_assert_eq!(*max, errors.last().map(ErroredItem::id));
        prop_assert!(pending.windows(2).all(|w| w[0].id < w[1].id));
        prop_assert!(errors.windows(2).all(|w| w[0].id() < w[1].id()));
        let everyone = store.next_ready(queue, u64::MAX, &HashSet::new(), usize::MAX);
        prop_assert_eq!(&everyone.unwrap(), pending);
        let page = store
            .errors(queue, errors.first().map(ErroredItem::id), 2)
            .unwrap();
        prop_assert_eq!(&page[..], &errors[1.min(errors.len())..3.min(errors.len())]);

        // Each key is held by at most one live item of the queue.
        let mut holders = HashMap::new();
        let items = pending.iter().chain(errors.iter().map(|e| &e.item));
        for item in items {
            prop_assert_eq!(&item.queue, queue);
            if let Some(key) = &item.idempotency_key {
                prop_assert!(
                    holders.insert(key.clone(), item.id).is_none(),
                    "key {}",
                    key
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn memory_and_redb_stores_agree_on_random_batches(batches in vec(vec(op(), 1..6), 1..12)) {
        let dir = TempDir::new("model");
        let mut memory = MemoryStore::new();
        let mut redb = RedbStore::open(dir.file()).unwrap();
        let mut last_id = ItemId(0);
        let mut before = snapshot(&memory);
        for (n, batch) in batches.into_iter().enumerate() {
            let outcomes = memory.apply(batch.clone()).unwrap();
            prop_assert_eq!(&redb.apply(batch).unwrap(), &outcomes);
            prop_assert_eq!(memory.commits(), n as u64 + 1);

            let mut fresh = HashSet::new();
            for outcome in &outcomes {
                match outcome {
                    OpOutcome::Enqueued(id) => {
                        prop_assert!(*id > last_id, "{} after {}", id, last_id);
                        last_id = *id;
                        fresh.insert(*id);
                    }
                    // A duplicate names an item that lived before or came in this batch.
                    OpOutcome::Duplicate(id) => {
                        prop_assert!(live_ids(&before).contains(id) || fresh.contains(id));
                    }
                    _ => {}
                }
            }
            let after = snapshot(&memory);
            check_invariants(&memory, &after)?;
            prop_assert_eq!(&snapshot(&redb), &after);
            // The redb store picks from its in-memory index: it must agree with its table.
            check_invariants(&redb, &after)?;
            before = after;
        }
        drop(redb);
        let redb = RedbStore::open(dir.file()).unwrap();
        prop_assert_eq!(snapshot(&redb), before);
    }
}
