//! Helpers for the store tests: a temporary directory, running one test on both stores, and
//! short ways to build ops.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use super::*;

/// A fresh directory under the system temp dir, removed (with the store file) on drop.
pub(super) struct TempDir(PathBuf);

impl TempDir {
    pub(super) fn new(label: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("hubwire-store-{label}-{}-{n}", std::process::id());
        let dir = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    /// The store file inside the directory.
    pub(super) fn file(&self) -> PathBuf {
        self.0.join("queues.redb")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `test` on a [`MemoryStore`], then on a new [`RedbStore`], so their semantics cannot
/// drift. Prints which one runs, so a failure says which.
pub(super) fn on_both(test: impl Fn(&mut dyn Store)) {
    eprintln!("on MemoryStore");
    test(&mut MemoryStore::new());
    eprintln!("on RedbStore");
    let dir = TempDir::new("both");
    test(&mut RedbStore::open(dir.file()).unwrap());
}

/// The queue bound tests use when the bound is not the point.
pub(super) const ROOMY: usize = 1_000;

pub(super) fn enqueue(queue: &str, key: Option<&str>, now_ms: u64) -> Op {
    Op::Enqueue {
        queue: queue.into(),
        route: format!("{queue}.run"),
        body: format!("body at {now_ms}").into_bytes().into(),
        headers: vec![("trace".into(), format!("t{now_ms}"))],
        idempotency_key: key.map(Into::into),
        now_ms,
        max_pending: ROOMY,
        group: None,
    }
}

/// `op` (an enqueue) with another queue bound.
pub(super) fn with_bound(mut op: Op, bound: usize) -> Op {
    if let Op::Enqueue { max_pending, .. } = &mut op {
        *max_pending = bound;
    }
    op
}

/// Applies one op and returns its outcome.
pub(super) fn apply_one(store: &mut dyn Store, op: Op) -> OpOutcome {
    let mut outcomes = store.apply(vec![op]).unwrap();
    assert_eq!(outcomes.len(), 1);
    outcomes.pop().unwrap()
}

/// Enqueues `n` unkeyed items in one batch and returns their ids.
pub(super) fn enqueue_n(store: &mut dyn Store, queue: &str, n: u64) -> Vec<ItemId> {
    let ops = (0..n).map(|i| enqueue(queue, None, i)).collect();
    let outcomes = store.apply(ops).unwrap();
    outcomes.into_iter().map(enqueued).collect()
}

pub(super) fn enqueued(outcome: OpOutcome) -> ItemId {
    match outcome {
        OpOutcome::Enqueued(id) => id,
        other => panic!("expected Enqueued, got {other:?}"),
    }
}

pub(super) fn fail(queue: &str, id: ItemId, error: &str, now_ms: u64) -> Op {
    Op::Fail {
        queue: queue.into(),
        id,
        error: error.into(),
        now_ms,
    }
}

pub(super) fn retry(queue: &str, id: ItemId, error: &str, now_ms: u64, not_before: u64) -> Op {
    Op::Retry {
        queue: queue.into(),
        id,
        error: error.into(),
        now_ms,
        not_before_ms: not_before,
    }
}

pub(super) fn complete(queue: &str, id: ItemId) -> Op {
    Op::Complete {
        queue: queue.into(),
        id,
    }
}

pub(super) fn ids_of(items: &[PendingItem]) -> Vec<ItemId> {
    items.iter().map(|item| item.id).collect()
}

pub(super) fn error_ids(store: &dyn Store, queue: &str) -> Vec<ItemId> {
    let errors = store.errors(queue, None, usize::MAX).unwrap();
    errors.iter().map(ErroredItem::id).collect()
}
