//! The store actor's guarantees, on a memory store behind a wrapper that slows or fails batches.

use std::collections::HashSet;
use std::time::Duration;

use hubwire_core::store::{
    ErroredItem, ItemId, MemoryStore, Op, OpOutcome, PauseState, PendingItem, Store, StoreError,
};

use super::{QueueError, StoreHandle};

/// A memory store whose batches take `delay` and fail while `fail` is set.
struct TestStore {
    inner: MemoryStore,
    delay: Duration,
    fail: bool,
}

impl Store for TestStore {
    fn apply(&mut self, ops: Vec<Op>) -> Result<Vec<OpOutcome>, StoreError> {
        std::thread::sleep(self.delay);
        if self.fail {
            let e = rmp_serde::from_slice::<u8>(&[]).unwrap_err();
            return Err(StoreError::Corrupt {
                what: "test batch",
                source: e,
            });
        }
        self.inner.apply(ops)
    }
    fn next_ready(
        &self,
        q: &str,
        now: u64,
        ex: &HashSet<ItemId>,
        n: usize,
    ) -> Result<Vec<PendingItem>, StoreError> {
        self.inner.next_ready(q, now, ex, n)
    }
    fn next_ready_in_groups(
        &self,
        q: &str,
        now: u64,
        ex: &HashSet<ItemId>,
        n: usize,
        errored_blocks: bool,
    ) -> Result<Vec<PendingItem>, StoreError> {
        self.inner
            .next_ready_in_groups(q, now, ex, n, errored_blocks)
    }
    fn pending_count(&self, q: &str) -> Result<u64, StoreError> {
        self.inner.pending_count(q)
    }
    fn retry_count(&self, q: &str) -> Result<u64, StoreError> {
        self.inner.retry_count(q)
    }
    fn error_count(&self, q: &str) -> Result<u64, StoreError> {
        self.inner.error_count(q)
    }
    fn errors(
        &self,
        q: &str,
        after: Option<ItemId>,
        n: usize,
    ) -> Result<Vec<ErroredItem>, StoreError> {
        self.inner.errors(q, after, n)
    }
    fn error(&self, q: &str, id: ItemId) -> Result<Option<ErroredItem>, StoreError> {
        self.inner.error(q, id)
    }
    fn pause(&self, q: &str) -> Result<PauseState, StoreError> {
        self.inner.pause(q)
    }
    fn queues(&self) -> Result<Vec<String>, StoreError> {
        self.inner.queues()
    }
    fn max_error_id(&self, q: &str) -> Result<Option<ItemId>, StoreError> {
        self.inner.max_error_id(q)
    }
    fn all_pending(&self, q: &str) -> Result<Vec<PendingItem>, StoreError> {
        self.inner.all_pending(q)
    }
    fn commits(&self) -> u64 {
        self.inner.commits()
    }
}

fn start(delay_ms: u64, fail: bool) -> StoreHandle {
    StoreHandle::start(Box::new(TestStore {
        inner: MemoryStore::new(),
        delay: Duration::from_millis(delay_ms),
        fail,
    }))
    .unwrap()
}

fn enqueue(n: u64) -> Op {
    Op::Enqueue {
        queue: "q".into(),
        route: "q".into(),
        body: vec![0xc0].into(),
        headers: vec![],
        idempotency_key: Some(format!("key-{n}")),
        now_ms: n,
        max_pending: 10_000,
        group: None,
    }
}

/// Submissions made while a commit runs share the next batch, and each caller gets its own
/// outcome.
#[tokio::test]
async fn concurrent_submissions_share_commits() {
    let store = start(5, false);
    let waiting: Vec<_> = (0..200).map(|n| store.submit(vec![enqueue(n)])).collect();
    let mut ids = HashSet::new();
    for answer in waiting {
        match answer.await.unwrap()[..] {
            [OpOutcome::Enqueued(id)] => assert!(ids.insert(id)),
            ref other => panic!("{other:?}"),
        }
    }
    assert_eq!(ids.len(), 200);
    let commits = store.commits().await.unwrap();
    assert!(commits < 200 / 4, "{commits} commits for 200 submissions");
}

/// A failed batch answers its error to every caller in it.
#[tokio::test]
async fn a_failed_batch_answers_every_caller() {
    let store = start(5, true);
    let waiting: Vec<_> = (0..10).map(|n| store.submit(vec![enqueue(n)])).collect();
    for answer in waiting {
        assert!(matches!(answer.await, Err(QueueError::Store(_))));
    }
}

/// A read sent after a submission sees it committed.
#[tokio::test]
async fn a_read_sees_what_was_submitted_before_it() {
    let store = start(1, false);
    let write = store.submit(vec![enqueue(1), enqueue(2)]);
    let count = store.read(|view| view.store().pending_count("q"));
    assert_eq!(count.await.unwrap(), 2);
    assert_eq!(write.await.unwrap().len(), 2);
}

/// After a stop, commands sent earlier are answered and later ones get `Stopped`.
#[tokio::test]
async fn stop_answers_earlier_commands_and_refuses_later_ones() {
    let store = start(1, false);
    let before = store.submit(vec![enqueue(1)]);
    store.stop().await;
    assert!(before.await.is_ok());
    assert!(matches!(
        store.submit(vec![enqueue(2)]).await,
        Err(QueueError::Stopped)
    ));
    assert!(matches!(store.commits().await, Err(QueueError::Stopped)));
}
