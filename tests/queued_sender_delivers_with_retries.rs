//! Guards queued senders: a message is stored, then delivered to a remote route, retried under
//! the back-off policy (times from an injected clock), parked in errored with every error
//! after max attempts or at once when the failure is not retryable; groups keep their order
//! under failures and restarts; a broadcaster's dead destination delays nobody else.

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::Arc;
use std::time::Duration;

use hubwire::backoff::BackoffPolicy;
use hubwire::prelude::*;
use hubwire::queue::{QueueAdmin, QueueData, StoreHandle};
use hubwire::sender::{
    Broadcaster, Destination, GroupOnError, Ordering, SenderOptions, SenderSpec,
};
use hubwire::stats::StatsRegistry;
use hubwire::store::{ItemId, MemoryStore, RedbStore};
use support::process::TempDir;
use support::*;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// A message for the test route: fails its first `fail_times` attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Note {
    key: String,
    fail_times: u32,
}

route!(Flaky = "test.flaky", Note => ());

/// One attempt as the remote saw it.
#[derive(Debug, Clone, PartialEq)]
struct Attempt {
    key: String,
    n: u32,
}

struct Remote {
    seen: UnboundedSender<Attempt>,
    counts: HashMap<String, u32>,
}

impl Actor for Remote {
    type Context = Context<Self>;
}

impl Serve<Flaky> for Remote {
    fn serve(&mut self, note: Note, _: &mut Context<Self>) -> Reply<()> {
        let n = self.counts.entry(note.key.clone()).or_default();
        *n += 1;
        let _ = self.seen.send(Attempt {
            key: note.key.clone(),
            n: *n,
        });
        if *n <= note.fail_times {
            Reply::err(format!("{} fails attempt {n}", note.key))
        } else {
            Reply::ok(())
        }
    }
}

serve!(Remote: Flaky);

/// A remote server with `test.flaky` (one handler, so it sees attempts in arrival order).
fn remote() -> (TestServer, UnboundedReceiver<Attempt>) {
    let (seen, attempts) = unbounded_channel();
    let server = TestServer::start(loopback_config(), move |b| {
        b.route(Flaky, move || Remote {
            seen: seen.clone(),
            counts: HashMap::new(),
        })
    })
    .expect("the remote starts");
    (server, attempts)
}

fn note(key: &str, fail_times: u32) -> Note {
    Note {
        key: key.into(),
        fail_times,
    }
}

async fn next_attempt(attempts: &mut UnboundedReceiver<Attempt>) -> Attempt {
    recv_or_fail("an attempt", attempts.recv())
        .await
        .expect("the remote reports")
}

/// Waits until `check` holds for the sender's queue figures.
async fn until(admin: &QueueAdmin, queue: &str, what: &str, check: impl Fn(&QueueData) -> bool) {
    recv_or_fail(what, async {
        loop {
            if check(&admin.data(queue).await.unwrap()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
}

/// A clock the test moves by hand (ms since the epoch).
#[derive(Clone)]
struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    fn new() -> Self {
        ManualClock(Arc::new(AtomicU64::new(1_700_000_000_000)))
    }
    fn now(&self) -> u64 {
        self.0.load(AtomicOrdering::SeqCst)
    }
    fn advance(&self, by: Duration) {
        self.0
            .fetch_add(by.as_millis() as u64, AtomicOrdering::SeqCst);
    }
}

/// A remote that fails twice then succeeds gets the message on the third attempt, each retry
/// only once the policy's delay has passed on the sender's clock.
#[actix::test]
async fn fails_twice_then_delivered_on_the_third_attempt_after_the_delays() {
    let (server, mut attempts) = remote();
    let store = StoreHandle::start(Box::new(MemoryStore::new())).unwrap();
    let clock = ManualClock::new();
    let c = clock.clone();
    let (sender, _supervisor) =
        SenderSpec::new("flaky", Destination::new(server.tcp(), "test.flaky"))
            .backoff(BackoffPolicy::fixed(Duration::from_secs(30)))
            .max_attempts(5)
            .clock(move || c.now())
            .start(&store, &StatsRegistry::new())
            .unwrap();
    let admin = QueueAdmin::senders(store.clone());
    let queue = "flaky".to_owned();

    let id = sender.send(&note("m", 2)).await.unwrap();
    assert_eq!(next_attempt(&mut attempts).await.n, 1);
    until(&admin, &queue, "the retry is recorded", |d| d.retrying == 1).await;
    // Not before its time: the keeper polls every 100 ms, so 400 ms would show an early retry.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(attempts.try_recv().is_err(), "no retry before the delay");

    clock.advance(Duration::from_secs(30));
    assert_eq!(next_attempt(&mut attempts).await.n, 2);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(attempts.try_recv().is_err(), "no retry before the delay");
    clock.advance(Duration::from_secs(30));
    assert_eq!(next_attempt(&mut attempts).await.n, 3);
    until(&admin, &queue, "delivered", |d| {
        d.pending == 0 && d.processed == 1
    })
    .await;
    assert_eq!(admin.data(&queue).await.unwrap().errors, 0);
    assert!(admin.inspect(&queue, id).await.is_err(), "not in errored");
}

/// An unreachable destination: errored after max attempts, with every attempt's error.
#[actix::test]
async fn an_unreachable_destination_ends_in_errored_with_every_error() {
    let (silent, _) = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        (
            format!("tcp://127.0.0.1:{port}")
                .parse::<Address>()
                .unwrap(),
            (),
        )
    };
    let store = StoreHandle::start(Box::new(MemoryStore::new())).unwrap();
    let (sender, _supervisor) = SenderSpec::new("nowhere", Destination::new(silent, "test.flaky"))
        .backoff(BackoffPolicy::fixed(Duration::from_millis(20)))
        .max_attempts(3)
        .start(&store, &StatsRegistry::new())
        .unwrap();
    let admin = QueueAdmin::senders(store.clone());
    let queue = "nowhere".to_owned();

    let id = sender.send(&note("lost", 0)).await.unwrap();
    until(&admin, &queue, "errored", |d| {
        d.errors == 1 && d.pending == 0
    })
    .await;
    let errored = admin.inspect(&queue, id).await.unwrap();
    assert_eq!(errored.item.attempts, 3);
    assert_eq!(errored.item.errors.len(), 3);
    for error in &errored.item.errors {
        assert!(
            error.message.contains("cannot connect"),
            "{}",
            error.message
        );
    }
}

/// A failure that retrying cannot fix (no such route) goes to errored at once, with the reason.
#[actix::test]
async fn a_non_retryable_failure_goes_to_errored_at_once() {
    let (server, _attempts) = remote();
    let store = StoreHandle::start(Box::new(MemoryStore::new())).unwrap();
    let (sender, _supervisor) =
        SenderSpec::new("typo", Destination::new(server.tcp(), "test.flakey"))
            .backoff(BackoffPolicy::fixed(Duration::from_millis(10)))
            .max_attempts(10)
            .start(&store, &StatsRegistry::new())
            .unwrap();
    let admin = QueueAdmin::senders(store.clone());
    let queue = "typo".to_owned();

    let id = sender.send(&note("x", 0)).await.unwrap();
    until(&admin, &queue, "errored", |d| d.errors == 1).await;
    let errored = admin.inspect(&queue, id).await.unwrap();
    assert_eq!(errored.item.attempts, 1);
    let reason = errored.last_error().unwrap();
    assert!(
        reason.contains("not retried") && reason.contains("unknown-route"),
        "{reason}"
    );
}

/// Within a group, messages arrive in send order even when one fails and is retried, and
/// after the sender restarts on the same store; other groups keep flowing meanwhile.
#[actix::test]
async fn a_group_keeps_its_order_under_failures_and_restarts() {
    let (server, mut attempts) = remote();
    let dir = TempDir::new("sender-order");
    let path = dir.path("store.redb");
    let destination = Destination::new(server.tcp(), "test.flaky");
    let spec = SenderSpec::new("ordered", destination)
        .workers(8)
        .backoff(BackoffPolicy::fixed(Duration::from_millis(50)))
        .max_attempts(10)
        .ordering(Ordering::Groups(GroupOnError::Hold));

    let store = StoreHandle::start(Box::new(RedbStore::open(&path).unwrap())).unwrap();
    let (sender, supervisor) = spec.clone().start(&store, &StatsRegistry::new()).unwrap();
    // a1 fails twice: a2 and a3 must wait for it; b flows.
    sender.send_in_group("a", &note("a1", 2)).await.unwrap();
    sender.send_in_group("a", &note("a2", 0)).await.unwrap();
    sender.send_in_group("b", &note("b1", 0)).await.unwrap();
    sender.send_in_group("a", &note("a3", 1)).await.unwrap();
    // Stop the sender mid-way and start it again on the reopened store.
    let mut seen = vec![next_attempt(&mut attempts).await];
    supervisor
        .send(hubwire::supervisor::StopChild)
        .await
        .unwrap();
    store.stop().await;
    let store = StoreHandle::start(Box::new(RedbStore::open(&path).unwrap())).unwrap();
    let (sender, _supervisor) = spec.start(&store, &StatsRegistry::new()).unwrap();
    sender.send_in_group("a", &note("a4", 0)).await.unwrap();
    let admin = QueueAdmin::senders(store.clone());
    until(&admin, "ordered", "all delivered", |d| d.pending == 0).await;
    while let Ok(attempt) = attempts.try_recv() {
        seen.push(attempt);
    }
    // The last attempt of each message of group a is its success; successes in send order,
    // and no message of a before its predecessor succeeded.
    let a: Vec<&Attempt> = seen.iter().filter(|x| x.key.starts_with('a')).collect();
    let mut done = Vec::new();
    for attempt in &a {
        assert!(
            !done.contains(&attempt.key),
            "{} tried again after it succeeded: {seen:?}",
            attempt.key
        );
        let fails = match attempt.key.as_str() {
            "a1" => 2,
            "a3" => 1,
            _ => 0,
        };
        if attempt.n > fails {
            done.push(attempt.key.clone());
        } else {
            // A failed attempt: nothing later in the group may have been tried yet.
            assert!(done.iter().all(|d| d < &attempt.key), "{seen:?}");
        }
    }
    assert_eq!(done, ["a1", "a2", "a3", "a4"], "{seen:?}");
    assert!(seen.iter().any(|x| x.key == "b1"));
}

/// A broadcaster whose one destination hangs delivers to the others at once.
#[actix::test]
async fn a_broadcaster_with_one_destination_down_delivers_to_the_others() {
    let (up_1, mut seen_1) = remote();
    let (up_2, mut seen_2) = remote();
    // Accepts connections and never answers: the worst kind of down.
    let (down, _silent) = silent_server(&"tcp://127.0.0.1:0".parse().unwrap()).await;
    let store = StoreHandle::start(Box::new(MemoryStore::new())).unwrap();
    let options = SenderOptions {
        backoff: BackoffPolicy::fixed(Duration::from_secs(60)),
        ordering: Ordering::Groups(GroupOnError::Continue),
        ..SenderOptions::default()
    };
    let destinations = vec![
        Destination::new(up_1.tcp(), "test.flaky"),
        Destination::new(down, "test.flaky"),
        Destination::new(up_2.tcp(), "test.flaky"),
    ];
    let (broadcaster, _supervisor) =
        Broadcaster::start("fan", destinations, options, &store, &StatsRegistry::new()).unwrap();
    for n in 0..5 {
        let ids: Vec<ItemId> = broadcaster.send(&note(&format!("m{n}"), 0)).await.unwrap();
        assert_eq!(ids.len(), 3);
    }
    // On time: well within the 10 s the down track's call waits for its answer.
    let started = std::time::Instant::now();
    for seen in [&mut seen_1, &mut seen_2] {
        for n in 0..5 {
            assert_eq!(next_attempt(seen).await.key, format!("m{n}"), "in order");
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the others were held up"
    );
    let admin = QueueAdmin::senders(store.clone());
    let down_track = "fan.1".to_owned();
    // The down track waits out its back-off, holding all five.
    until(
        &admin,
        &down_track,
        "the down track holds its messages",
        |d| d.pending == 5 && d.retrying == 1,
    )
    .await;
}

/// When a message of a group ends in errored, `Continue` lets the group go on and `Hold` keeps
/// it waiting until an operator acts on the errored message.
#[actix::test]
async fn an_errored_message_releases_or_holds_its_group_as_chosen() {
    for (on_error, name) in [
        (GroupOnError::Continue, "go-on"),
        (GroupOnError::Hold, "hold"),
    ] {
        let (server, mut attempts) = remote();
        let store = StoreHandle::start(Box::new(MemoryStore::new())).unwrap();
        let (sender, _supervisor) =
            SenderSpec::new(name, Destination::new(server.tcp(), "test.flaky"))
                .backoff(BackoffPolicy::fixed(Duration::from_millis(10)))
                .max_attempts(2)
                .ordering(Ordering::Groups(on_error))
                .start(&store, &StatsRegistry::new())
                .unwrap();
        let admin = QueueAdmin::senders(store.clone());
        let queue = name.to_owned();

        let bad = sender.send_in_group("g", &note("bad", 99)).await.unwrap();
        sender.send_in_group("g", &note("next", 0)).await.unwrap();
        until(&admin, &queue, "the first is errored", |d| d.errors == 1).await;
        assert_eq!(next_attempt(&mut attempts).await.key, "bad");
        assert_eq!(next_attempt(&mut attempts).await.key, "bad");
        match on_error {
            GroupOnError::Continue => {
                assert_eq!(next_attempt(&mut attempts).await.key, "next");
                until(&admin, &queue, "delivered", |d| d.pending == 0).await;
            }
            GroupOnError::Hold => {
                tokio::time::sleep(Duration::from_millis(300)).await;
                assert!(attempts.try_recv().is_err(), "the group waits");
                assert_eq!(admin.data(&queue).await.unwrap().pending, 1);
                admin.pop(&queue, bad).await.unwrap();
                assert_eq!(next_attempt(&mut attempts).await.key, "next");
                until(&admin, &queue, "delivered", |d| d.pending == 0).await;
            }
        }
    }
}
