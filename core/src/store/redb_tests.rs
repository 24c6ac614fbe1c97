//! The redb store across a close and reopen (what a restart or a crash sees), batch atomicity,
//! and the errors of opening.

use std::collections::HashSet;

use super::redb_tables::{FORMAT_VERSION, META, META_FORMAT};
use super::test_support::*;
use super::*;

#[test]
fn what_was_enqueued_is_all_pending_in_order_after_a_reopen() {
    let dir = TempDir::new("recovery");
    let mut store = RedbStore::open(dir.file()).unwrap();
    let mut ids = Vec::new();
    for _ in 0..10 {
        ids.extend(enqueue_n(&mut store, "q", 25));
    }
    store
        .apply(vec![retry("q", ids[3], "slow", 5, 50)])
        .unwrap();
    let before = store.all_pending("q").unwrap();
    drop(store); // no completions: as if the process died

    let store = RedbStore::open(dir.file()).unwrap();
    let after = store.all_pending("q").unwrap();
    assert_eq!(ids_of(&after), ids);
    assert_eq!(after, before);
    assert_eq!(after[3].attempts, 1);
    assert_eq!(store.pending_count("q").unwrap(), 250);
    let ready = store.next_ready("q", 0, &HashSet::new(), 5).unwrap();
    assert_eq!(ids_of(&ready), [ids[0], ids[1], ids[2], ids[4], ids[5]]);
}

#[test]
fn ids_are_never_reused_across_a_reopen() {
    let dir = TempDir::new("ids");
    let mut store = RedbStore::open(dir.file()).unwrap();
    let ids = enqueue_n(&mut store, "q", 3);
    let completes = ids.iter().map(|id| complete("q", *id)).collect();
    store.apply(completes).unwrap();
    drop(store);

    let mut store = RedbStore::open(dir.file()).unwrap();
    assert_eq!(store.pending_count("q").unwrap(), 0);
    let next = enqueue_n(&mut store, "q", 1)[0];
    assert_eq!(next, ItemId(4));
}

#[test]
fn pause_states_errors_and_keys_survive_a_reopen() {
    let dir = TempDir::new("pause");
    let mut store = RedbStore::open(dir.file()).unwrap();
    let paused = PauseState {
        receiving_paused: true,
        processing_paused: true,
    };
    let id = enqueued(apply_one(&mut store, enqueue("q", Some("k"), 1)));
    store
        .apply(vec![
            Op::SetPause {
                queue: "q".into(),
                pause: paused,
            },
            fail("q", id, "boom", 2),
        ])
        .unwrap();
    let errored = store.error("q", id).unwrap();
    drop(store);

    let mut store = RedbStore::open(dir.file()).unwrap();
    assert_eq!(store.pause("q").unwrap(), paused);
    assert_eq!(store.queues().unwrap(), ["q"]);
    assert_eq!(store.error("q", id).unwrap(), errored);
    assert_eq!(store.error_count("q").unwrap(), 1);
    let again = apply_one(&mut store, enqueue("q", Some("k"), 3));
    assert_eq!(again, OpOutcome::Duplicate(id));
}

/// What can be tested: a fault injected before one op of a batch (the only way to make a redb
/// transaction fail on demand) leaves nothing of the batch, neither its earlier ops nor the
/// ids they took, in memory or on disk; the next batch commits as if it never happened.
#[test]
fn a_batch_that_fails_half_way_stores_nothing() {
    let dir = TempDir::new("atomic");
    let mut store = RedbStore::open(dir.file()).unwrap();
    let ids = enqueue_n(&mut store, "q", 2);
    let commits = store.commits();

    store.fail_before_op = Some(3);
    let batch = vec![
        enqueue("q", Some("k"), 1),
        complete("q", ids[0]),
        fail("q", ids[1], "x", 1),
        enqueue("q", None, 2),
    ];
    let err = store.apply(batch.clone()).unwrap_err();
    assert!(err.to_string().contains("injected"), "{err}");
    assert_eq!(store.commits(), commits);
    let unchanged = |store: &RedbStore| {
        assert_eq!(ids_of(&store.all_pending("q").unwrap()), ids);
        // The in-memory index did not take the failed batch's changes either.
        let ready = store
            .next_ready("q", u64::MAX, &HashSet::new(), 10)
            .unwrap();
        assert_eq!(ids_of(&ready), ids);
        assert_eq!(store.index.ids("q"), ids);
        assert_eq!(store.pending_count("q").unwrap(), 2);
        assert_eq!(store.error_count("q").unwrap(), 0);
    };
    unchanged(&store);
    drop(store);

    let mut store = RedbStore::open(dir.file()).unwrap();
    unchanged(&store);
    let outcomes = store.apply(batch).unwrap();
    assert_eq!(
        outcomes[0],
        OpOutcome::Enqueued(ItemId(3)),
        "no id was used up"
    );
    assert_eq!(outcomes[3], OpOutcome::Enqueued(ItemId(4)));
    drop(store);

    // The whole successful batch landed together.
    let store = RedbStore::open(dir.file()).unwrap();
    assert_eq!(
        ids_of(&store.all_pending("q").unwrap()),
        [ItemId(3), ItemId(4)]
    );
    assert_eq!(error_ids(&store, "q"), [ids[1]]);
}

#[test]
fn a_second_open_of_the_same_file_says_it_is_in_use() {
    let dir = TempDir::new("in-use");
    let _first = RedbStore::open(dir.file()).unwrap();
    let err = RedbStore::open(dir.file()).unwrap_err();
    assert!(matches!(err, StoreError::InUse { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("another process"), "{message}");
    assert!(
        message.contains(&dir.file().display().to_string()),
        "{message}"
    );
}

#[test]
fn a_file_of_another_format_version_is_refused() {
    let dir = TempDir::new("format");
    drop(RedbStore::open(dir.file()).unwrap());
    {
        let db = redb::Database::create(dir.file()).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(META)
            .unwrap()
            .insert(META_FORMAT, FORMAT_VERSION + 1)
            .unwrap();
        txn.commit().unwrap();
    }
    let err = RedbStore::open(dir.file()).unwrap_err();
    assert!(
        matches!(err, StoreError::Format { found: 2, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("move the file aside"), "{err}");
}

#[test]
fn a_file_that_is_not_a_store_cannot_be_opened() {
    let dir = TempDir::new("garbage");
    std::fs::write(dir.file(), vec![7u8; 4096]).unwrap();
    let err = RedbStore::open(dir.file()).unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
}

#[test]
fn open_creates_missing_directories() {
    let dir = TempDir::new("nested");
    let file = dir.file().with_file_name("a/b/queues.redb");
    let store = RedbStore::open(&file).unwrap();
    assert_eq!(store.path(), file);
    assert!(file.exists());
}

#[test]
fn opening_an_existing_store_commits_nothing() {
    let dir = TempDir::new("open-commits");
    assert_eq!(RedbStore::open(dir.file()).unwrap().commits(), 1);
    assert_eq!(RedbStore::open(dir.file()).unwrap().commits(), 0);
}

/// A reopened store rebuilds its index from the table: retries keep their times, and a pick
/// passes over items waiting for a retry without reading them.
#[test]
fn the_index_is_rebuilt_at_open_and_skips_waiting_items() {
    let dir = TempDir::new("index");
    let mut store = RedbStore::open(dir.file()).unwrap();
    let ids = enqueue_n(&mut store, "q", 4);
    apply_one(&mut store, retry("q", ids[0], "later", 1, 1_000));
    apply_one(&mut store, retry("q", ids[1], "later", 1, 1_000));
    drop(store);
    let store = RedbStore::open(dir.file()).unwrap();
    assert_eq!(store.index.ids("q"), ids);
    let none = HashSet::new();
    assert_eq!(
        ids_of(&store.next_ready("q", 999, &none, 10).unwrap()),
        ids[2..]
    );
    assert_eq!(
        ids_of(&store.next_ready("q", 1_000, &none, 10).unwrap()),
        ids
    );
}
