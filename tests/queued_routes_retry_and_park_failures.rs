//! Guards queued routes: a request is stored and acknowledged with its id before it is
//! processed; failures are retried and, at max attempts, parked in the error queue with every
//! error message; idempotency keys, pause and unpause, bounded bulk operator operations, resuming
//! from a reopened redb store, and group commit. Every test runs on `MemoryStore` and `RedbStore`
//! unless it is about durability.

mod support;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use hubwire::prelude::*;
use hubwire::protocol::Headers;
use hubwire_actors::queue::{
    PauseChange, QueueAdmin, QueueError, Queued, QueuedRoute, StoreHandle,
};
use hubwire_core::backoff::BackoffPolicy;
use hubwire_core::store::{ItemId, MemoryStore, Op, PauseState, RedbStore, Store};
use support::*;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub name: String,
    /// Every attempt fails, with a message naming the attempt.
    pub fail: bool,
}

route!(pub RunJob = "test.queued.job", Job => ());

const KEY: &str = "test.queued.job";

/// One handler run, as the handler reports it to the test.
#[derive(Debug, Clone, PartialEq)]
struct Ran {
    name: String,
    attempt: u32,
    /// What `request_id()` said inside the handler.
    id: Option<u64>,
}

struct Worker {
    ran: UnboundedSender<Ran>,
    attempts: HashMap<String, u32>,
}

impl Actor for Worker {
    type Context = Context<Self>;
}

impl Serve<RunJob> for Worker {
    fn serve(&mut self, job: Job, _: &mut Context<Self>) -> Reply<()> {
        let attempt = self.attempts.entry(job.name.clone()).or_default();
        *attempt += 1;
        let _ = self.ran.send(Ran {
            name: job.name.clone(),
            attempt: *attempt,
            id: request_id(),
        });
        if job.fail {
            Reply::err(format!("{} failed attempt {attempt}", job.name))
        } else {
            Reply::ok(())
        }
    }
}

serve!(Worker: RunJob);

#[derive(Debug, Clone, Copy)]
enum Kind {
    Memory,
    Redb,
}

const KINDS: [Kind; 2] = [Kind::Memory, Kind::Redb];

/// A fresh directory for a redb file, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("hubwire-queued-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }

    fn store_file(&self) -> PathBuf {
        self.0.join("queues.redb")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn open(kind: Kind, dir: &TempDir) -> Box<dyn Store> {
    match kind {
        Kind::Memory => Box::new(MemoryStore::new()),
        Kind::Redb => Box::new(RedbStore::open(dir.store_file()).expect("the store opens")),
    }
}

/// A server with the queued job route (one worker, 3 attempts 10 ms apart) and what the
/// handler reports.
fn serve(store: &StoreHandle) -> (TestServer, UnboundedReceiver<Ran>) {
    let (ran, reports) = unbounded_channel();
    let route = QueuedRoute::<RunJob, Worker>::new(move || Worker {
        ran: ran.clone(),
        attempts: HashMap::new(),
    })
    .workers(1)
    .max_attempts(3)
    .backoff(BackoffPolicy::fixed(Duration::from_millis(10)));
    let store = store.clone();
    let server = TestServer::start(loopback_config(), move |builder| {
        route.add_to(builder, &store).expect("the route registers")
    })
    .expect("the server starts");
    (server, reports)
}

fn job(name: &str, fail: bool) -> Job {
    Job {
        name: name.into(),
        fail,
    }
}

/// Sends `job` to the queued route; the id it was acknowledged with.
async fn enqueue(client: &Client, job: &Job, key: Option<&str>) -> Result<u64, CallError> {
    let mut headers = Headers::new();
    if let Some(key) = key {
        headers.insert("idempotency-key", key);
    }
    let body = hubwire_core::encode_body(job).unwrap();
    let response = client.call_raw(KEY, body, headers, PATIENCE).await?;
    Ok(hubwire_core::decode_body::<Queued>(&response.body)
        .unwrap()
        .id)
}

/// The next handler run.
async fn next_run(reports: &mut UnboundedReceiver<Ran>) -> Ran {
    recv_or_fail("a handler run", reports.recv())
        .await
        .expect("the handler reports")
}

/// Waits until `check` holds for the queue's figures.
async fn until(
    admin: &QueueAdmin,
    what: &str,
    check: impl Fn(&hubwire_actors::queue::QueueData) -> bool,
) {
    recv_or_fail(what, async {
        loop {
            if check(&admin.data(KEY).await.unwrap()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
}

fn pause(receiving: Option<bool>, processing: Option<bool>) -> PauseChange {
    PauseChange {
        receiving,
        processing,
    }
}

/// A request is acknowledged with its id, then processed once, and counted as processed.
#[tokio::test]
async fn a_request_is_acknowledged_with_an_id_and_processed() {
    for kind in KINDS {
        let dir = TempDir::new();
        let store = StoreHandle::start(open(kind, &dir)).unwrap();
        let (server, mut reports) = serve(&store);
        let admin = QueueAdmin::new(store.clone());
        let client = Client::new(server.tcp());

        let first = enqueue(&client, &job("a", false), None).await.unwrap();
        let second = enqueue(&client, &job("b", false), None).await.unwrap();
        assert!(second > first, "{kind:?}: ids are ordered");
        assert_eq!(next_run(&mut reports).await.name, "a", "{kind:?}: FIFO");
        assert_eq!(next_run(&mut reports).await.name, "b", "{kind:?}: FIFO");
        until(&admin, "both processed", |d| {
            d.processed == 2 && d.pending == 0
        })
        .await;
        assert_eq!(admin.data(KEY).await.unwrap().errors, 0);

        // A body that does not fit the route is refused at once and stores nothing.
        let bad = hubwire_core::encode_body(&42u32).unwrap();
        let err = client
            .call_raw(KEY, bad, Headers::new(), PATIENCE)
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::InvalidBody), "{kind:?}");
        assert_eq!(admin.data(KEY).await.unwrap().pending, 0);
        drop(server);
        store.stop().await;
    }
}

/// A request that fails max-attempts times lands in the error queue with every error message;
/// an operator can list, inspect, requeue and pop it.
#[tokio::test]
async fn a_request_failing_max_attempts_times_is_parked_with_every_error() {
    for kind in KINDS {
        let dir = TempDir::new();
        let store = StoreHandle::start(open(kind, &dir)).unwrap();
        let (server, mut reports) = serve(&store);
        let admin = QueueAdmin::new(store.clone());
        let client = Client::new(server.tcp());

        let id = ItemId(enqueue(&client, &job("bad", true), None).await.unwrap());
        for attempt in 1..=3 {
            let ran = next_run(&mut reports).await;
            assert_eq!(ran.attempt, attempt, "{kind:?}");
            // The handler sees the acknowledged id on every attempt, to be idempotent by.
            assert_eq!(ran.id, Some(id.0), "{kind:?}");
        }
        until(&admin, "the item parked", |d| {
            d.errors == 1 && d.pending == 0
        })
        .await;
        let data = admin.data(KEY).await.unwrap();
        assert_eq!((data.failed, data.processed), (1, 0), "{kind:?}");

        let page = admin.error_ids(KEY, None, 10).await.unwrap();
        assert_eq!(page.ids, [id], "{kind:?}");
        let parked = admin.inspect(KEY, id).await.unwrap();
        assert_eq!(parked.item.attempts, 3, "{kind:?}");
        let messages: Vec<_> = parked
            .item
            .errors
            .iter()
            .map(|e| e.message.as_str())
            .collect();
        assert_eq!(
            messages,
            [
                "bad failed attempt 1",
                "bad failed attempt 2",
                "bad failed attempt 3"
            ],
            "{kind:?}"
        );
        assert!(parked.failed_at_ms >= parked.item.enqueued_at_ms);

        // Requeued, it runs (and fails) max-attempts times again, keeping its old errors.
        admin.requeue(KEY, id).await.unwrap();
        for attempt in 4..=6 {
            assert_eq!(next_run(&mut reports).await.attempt, attempt, "{kind:?}");
        }
        until(&admin, "the item parked again", |d| {
            d.errors == 1 && d.pending == 0
        })
        .await;
        let parked = admin.pop(KEY, id).await.unwrap();
        assert_eq!(parked.item.errors.len(), 6, "{kind:?}");
        assert_eq!(parked.item.requeue_count, 1, "{kind:?}");

        // Errors name the problem.
        assert!(matches!(
            admin.inspect(KEY, id).await,
            Err(QueueError::NoSuchError { .. })
        ));
        assert!(matches!(
            admin.data("no.such.queue").await,
            Err(QueueError::UnknownQueue { .. })
        ));
        drop(server);
        store.stop().await;
    }
}

/// The same idempotency key twice is stored once and acknowledged with the same id.
#[tokio::test]
async fn the_same_idempotency_key_twice_is_stored_once() {
    for kind in KINDS {
        let dir = TempDir::new();
        let store = StoreHandle::start(open(kind, &dir)).unwrap();
        let (server, mut reports) = serve(&store);
        let admin = QueueAdmin::new(store.clone());
        let client = Client::new(server.tcp());
        // Held, so the first is still queued when the second comes.
        admin.pause(KEY, pause(None, Some(true))).await.unwrap();

        let first = enqueue(&client, &job("once", false), Some("k-1"))
            .await
            .unwrap();
        let again = enqueue(&client, &job("once", false), Some("k-1"))
            .await
            .unwrap();
        let other = enqueue(&client, &job("other", false), Some("k-2"))
            .await
            .unwrap();
        assert_eq!(first, again, "{kind:?}");
        assert_ne!(first, other, "{kind:?}");
        assert_eq!(admin.data(KEY).await.unwrap().pending, 2, "{kind:?}");

        admin.pause(KEY, pause(None, Some(false))).await.unwrap();
        let names = [
            next_run(&mut reports).await.name,
            next_run(&mut reports).await.name,
        ];
        assert_eq!(names, ["once", "other"], "{kind:?}");
        until(&admin, "both processed", |d| d.processed == 2).await;
        drop(server);
        store.stop().await;
    }
}

/// Pause receiving refuses with paused; pause processing holds accepted items; unpause resumes;
/// both hold across a restart of a redb store.
#[tokio::test]
async fn pause_receiving_refuses_pause_processing_holds_unpause_resumes() {
    for kind in KINDS {
        let dir = TempDir::new();
        let store = StoreHandle::start(open(kind, &dir)).unwrap();
        let (server, mut reports) = serve(&store);
        let admin = QueueAdmin::new(store.clone());
        let client = Client::new(server.tcp());

        let state = admin.pause(KEY, pause(None, Some(true))).await.unwrap();
        assert!(state.processing_paused && !state.receiving_paused);
        let held = enqueue(&client, &job("held", false), None).await.unwrap();
        assert!(
            tokio::time::timeout(Duration::from_millis(300), reports.recv())
                .await
                .is_err(),
            "{kind:?}: nothing runs while processing is paused"
        );
        assert_eq!(admin.data(KEY).await.unwrap().pending, 1);

        admin.pause(KEY, pause(Some(true), None)).await.unwrap();
        let err = enqueue(&client, &job("refused", false), None)
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::Paused), "{kind:?}");
        assert!(err.to_string().contains("paused"), "{err}");
        assert_eq!(
            admin.data(KEY).await.unwrap().pending,
            1,
            "{kind:?}: nothing stored"
        );

        let (server, mut reports, store) = match kind {
            Kind::Memory => (server, reports, store),
            Kind::Redb => {
                drop(server);
                store.stop().await;
                let store = StoreHandle::start(open(kind, &dir)).unwrap();
                let (server, reports) = serve(&store);
                (server, reports, store)
            }
        };
        let admin = QueueAdmin::new(store.clone());
        let client = Client::new(server.tcp());
        let err = enqueue(&client, &job("refused", false), None)
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::Paused), "{kind:?}");
        assert_eq!(
            admin.data(KEY).await.unwrap().pause,
            PauseState {
                receiving_paused: true,
                processing_paused: true
            }
        );

        admin
            .pause(KEY, pause(Some(false), Some(false)))
            .await
            .unwrap();
        assert_eq!(next_run(&mut reports).await.name, "held", "{kind:?}");
        let after = enqueue(&client, &job("after", false), None).await.unwrap();
        assert!(after > held);
        assert_eq!(next_run(&mut reports).await.name, "after", "{kind:?}");
        until(&admin, "both processed", |d| d.pending == 0).await;
        drop(server);
        store.stop().await;
    }
}

/// Requeue-all and clear act on the error queue as it was when asked (its bound), never on
/// items that failed afterwards.
#[tokio::test]
async fn requeue_all_and_clear_do_not_touch_items_that_arrived_after_they_were_asked() {
    for kind in KINDS {
        let dir = TempDir::new();
        let store = StoreHandle::start(open(kind, &dir)).unwrap();
        let (server, _reports) = serve(&store);
        let admin = QueueAdmin::new(store.clone());
        let client = Client::new(server.tcp());

        let a = ItemId(enqueue(&client, &job("a", true), None).await.unwrap());
        let b = ItemId(enqueue(&client, &job("b", true), None).await.unwrap());
        until(&admin, "a and b parked", |d| d.errors == 2).await;
        let bound = admin.error_bound(KEY).await.unwrap();
        assert_eq!(bound, Some(b), "{kind:?}");
        let c = ItemId(enqueue(&client, &job("c", true), None).await.unwrap());
        until(&admin, "c parked", |d| d.errors == 3).await;

        admin.pause(KEY, pause(None, Some(true))).await.unwrap();
        assert_eq!(admin.requeue_up_to(KEY, b).await.unwrap(), 2, "{kind:?}");
        let data = admin.data(KEY).await.unwrap();
        assert_eq!((data.pending, data.errors), (2, 1), "{kind:?}");
        assert_eq!(admin.error_ids(KEY, None, 10).await.unwrap().ids, [c]);
        assert!(matches!(
            admin.inspect(KEY, a).await,
            Err(QueueError::NoSuchError { .. })
        ));

        admin.pause(KEY, pause(None, Some(false))).await.unwrap();
        until(&admin, "a and b parked again", |d| d.errors == 3).await;
        let bound = admin.error_bound(KEY).await.unwrap().unwrap();
        assert_eq!(bound, c, "{kind:?}");
        let d = ItemId(enqueue(&client, &job("d", true), None).await.unwrap());
        until(&admin, "d parked", |data| data.errors == 4).await;
        assert_eq!(admin.clear_up_to(KEY, bound).await.unwrap(), 3, "{kind:?}");
        assert_eq!(admin.error_ids(KEY, None, 10).await.unwrap().ids, [d]);

        // Without a bound given, the bound is taken when asked.
        assert_eq!(admin.requeue_all(KEY).await.unwrap(), 1, "{kind:?}");
        until(&admin, "d parked again", |data| data.errors == 1).await;
        assert_eq!(admin.clear_all(KEY).await.unwrap(), 1, "{kind:?}");
        assert_eq!(admin.data(KEY).await.unwrap().errors, 0, "{kind:?}");
        drop(server);
        store.stop().await;
    }
}

/// Items acknowledged before a stop are processed after the redb store is reopened, without
/// an operator doing anything.
#[tokio::test]
async fn processing_resumes_after_reopening_a_redb_store_with_pending_items() {
    let dir = TempDir::new();
    let store = StoreHandle::start(open(Kind::Redb, &dir)).unwrap();
    let (server, _reports) = serve(&store);
    let admin = QueueAdmin::new(store.clone());
    let client = Client::new(server.tcp());
    admin.pause(KEY, pause(None, Some(true))).await.unwrap();
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(
            enqueue(&client, &job(&format!("job-{n}"), false), None)
                .await
                .unwrap(),
        );
    }
    drop(server);
    store.stop().await;

    let store = StoreHandle::start(open(Kind::Redb, &dir)).unwrap();
    let unpause = Op::SetPause {
        queue: KEY.into(),
        pause: PauseState::default(),
    };
    store.submit(vec![unpause]).await.unwrap();
    let (server, mut reports) = serve(&store);
    let mut names = Vec::new();
    for _ in 0..5 {
        names.push(next_run(&mut reports).await.name);
    }
    let expected: Vec<_> = (0..5).map(|n| format!("job-{n}")).collect();
    assert_eq!(names, expected, "in FIFO order");
    let admin = QueueAdmin::new(store.clone());
    until(&admin, "all processed", |d| {
        d.pending == 0 && d.processed == 5
    })
    .await;
    drop(server);
    store.stop().await;
}

/// Many concurrent enqueues share durable commits: fewer commits than submissions.
#[tokio::test]
async fn group_commit_makes_fewer_commits_than_submissions_under_concurrency() {
    let dir = TempDir::new();
    let store = StoreHandle::start(open(Kind::Redb, &dir)).unwrap();
    let (server, _reports) = serve(&store);
    let admin = QueueAdmin::new(store.clone());
    // Only enqueues commit during the burst.
    admin.pause(KEY, pause(None, Some(true))).await.unwrap();
    let before = store.commits().await.unwrap();

    const CLIENTS: usize = 8;
    const EACH: usize = 50;
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let client = Client::new(server.tcp());
        tasks.push(tokio::spawn(async move {
            let calls = (0..EACH).map(|n| {
                let job = job(&format!("{c}-{n}"), false);
                let client = client.clone();
                async move { enqueue(&client, &job, None).await.unwrap() }
            });
            futures::future::join_all(calls).await
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.extend(recv_or_fail("a client's enqueues", task).await.unwrap());
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), CLIENTS * EACH, "every request has its own id");

    let commits = store.commits().await.unwrap() - before;
    eprintln!("{commits} commits for {} enqueues", CLIENTS * EACH);
    assert!(
        commits < (CLIENTS * EACH) as u64 / 2,
        "{commits} commits for {} enqueues",
        CLIENTS * EACH
    );
    assert_eq!(
        admin.data(KEY).await.unwrap().pending,
        (CLIENTS * EACH) as u64
    );
    drop(server);
    store.stop().await;
}

/// The workers are a child of the server's supervision tree: when they crash, they are
/// restarted, and the restarted workers process what the store holds.
#[tokio::test]
async fn crashed_workers_are_restarted_and_take_up_the_queue() {
    let store = StoreHandle::start(Box::new(MemoryStore::new())).unwrap();
    let (server, mut reports) = serve(&store);
    let admin = QueueAdmin::new(store.clone());
    let client = Client::new(server.tcp());
    let child = format!("queue.{KEY}");
    let restarts = || {
        server
            .registry
            .snapshot()
            .counter(
                "supervisor.restarts",
                &[("supervisor", "server"), ("child", &child)],
            )
            .unwrap_or(0)
    };

    admin.pause(KEY, pause(None, Some(true))).await.unwrap();
    let mut ids = Vec::new();
    for name in ["a", "b", "c"] {
        ids.push(enqueue(&client, &job(name, false), None).await.unwrap());
    }
    assert!(server.faults.fail_child(&child).await, "the workers run");
    recv_or_fail("a restart", async {
        while restarts() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert_eq!(admin.data(KEY).await.unwrap().pending, 3, "nothing lost");

    admin.pause(KEY, pause(None, Some(false))).await.unwrap();
    let mut ran: Vec<String> = Vec::new();
    for _ in &ids {
        ran.push(next_run(&mut reports).await.name);
    }
    ran.sort();
    assert_eq!(ran, ["a", "b", "c"]);
    until(&admin, "all processed", |d| {
        d.pending == 0 && d.processed == 3
    })
    .await;
    assert_eq!(restarts(), 1);
}
