//! Guards supervision: failures are seen (panics, failed starts, stops without saying so) and
//! counted; each strategy restarts the right children; transient children that finish stay
//! stopped; restarts follow the back-off, which resets after a healthy period; a crash loop
//! exceeds the intensity and escalates; messages sent during a restart are delivered or handed
//! back; fault injection makes a chosen child fail.

mod support;

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hubwire::actix::{Actor, ActorContext, Addr, Context, Handler, Message};
use hubwire::stats::StatsRegistry;
use hubwire::supervisor::{
    actor_child, ChildHandle, ExitReporter, FailChild, GaveUp, StopChild, Supervisor,
    SupervisorOptions, Undelivered,
};
use hubwire_core::backoff::{BackoffPolicy, Decision};
use hubwire_core::supervision::{Intensity, RestartPolicy, Strategy};
use support::recv_or_fail;
use tokio::sync::{mpsc, oneshot};

/// Asks a worker which incarnation it is.
#[derive(Message)]
#[rtype(result = "()")]
struct Which(oneshot::Sender<u32>);

#[derive(Message)]
#[rtype(result = "()")]
struct Crash;

#[derive(Message)]
#[rtype(result = "()")]
struct Finish;

struct Worker {
    incarnation: u32,
    exit: ExitReporter,
}

impl Actor for Worker {
    type Context = Context<Self>;
}

impl Handler<Which> for Worker {
    type Result = ();
    fn handle(&mut self, Which(reply): Which, _: &mut Context<Self>) {
        let _ = reply.send(self.incarnation);
    }
}

impl Handler<Crash> for Worker {
    type Result = ();
    fn handle(&mut self, _: Crash, _: &mut Context<Self>) {
        panic!("worker {} crashed on purpose", self.incarnation);
    }
}

impl Handler<Finish> for Worker {
    type Result = ();
    fn handle(&mut self, _: Finish, ctx: &mut Context<Self>) {
        self.exit.finished();
        ctx.stop();
    }
}

impl Handler<StopChild> for Worker {
    type Result = ();
    fn handle(&mut self, _: StopChild, ctx: &mut Context<Self>) {
        self.exit.finished();
        ctx.stop();
    }
}

struct Tree {
    handles: Vec<ChildHandle<Worker>>,
    starts: Vec<Arc<AtomicU32>>,
    registry: StatsRegistry,
    supervisor: Addr<Supervisor>,
    gave_up: mpsc::UnboundedReceiver<GaveUp>,
}

struct Setup {
    options: SupervisorOptions,
    policy: RestartPolicy,
    /// Incarnations (from 2 on) whose start fails.
    failing_starts: Arc<AtomicBool>,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            options: SupervisorOptions {
                backoff: BackoffPolicy::fixed(Duration::from_millis(5)).with_max_attempts(None),
                ..SupervisorOptions::default()
            },
            policy: RestartPolicy::Permanent,
            failing_starts: Arc::default(),
        }
    }
}

fn tree(children: &[&str], setup: Setup) -> Tree {
    let registry = StatsRegistry::new();
    let lost = registry.counter("supervisor.lost_messages", &[]);
    let mut specs = Vec::new();
    let mut handles = Vec::new();
    let mut starts = Vec::new();
    for id in children {
        let count = Arc::new(AtomicU32::new(0));
        let (counted, failing) = (count.clone(), setup.failing_starts.clone());
        let (spec, handle) = actor_child(
            *id,
            hubwire::actix::Arbiter::current(),
            move |exit| {
                let incarnation = counted.fetch_add(1, Ordering::SeqCst) + 1;
                if incarnation > 1 && failing.load(Ordering::SeqCst) {
                    return Err("the port is taken".into());
                }
                Ok(Worker { incarnation, exit })
            },
            lost.clone(),
        );
        specs.push(spec.restart(setup.policy));
        handles.push(handle);
        starts.push(count);
    }
    let (tx, gave_up) = mpsc::unbounded_channel();
    let supervisor = Supervisor::new("test", setup.options, specs, &registry, move |g| {
        let _ = tx.send(g);
    })
    .start();
    Tree {
        handles,
        starts,
        registry,
        supervisor,
        gave_up,
    }
}

/// The incarnation now answering through `handle` (waiting through a restart). A question taken
/// by an incarnation that died before answering comes back as a dropped reply channel, and is
/// asked again.
async fn which(handle: &ChildHandle<Worker>) -> u32 {
    recv_or_fail("an answer", async {
        loop {
            let (tx, rx) = oneshot::channel();
            if handle
                .deliver(Which(tx), Duration::from_secs(5))
                .await
                .is_err()
            {
                panic!("not delivered");
            }
            if let Ok(n) = rx.await {
                return n;
            }
        }
    })
    .await
}

/// Waits until child `i` runs incarnation `n`.
async fn until_incarnation(tree: &Tree, i: usize, n: u32) {
    recv_or_fail("the restart", async {
        while which(&tree.handles[i]).await < n {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

fn counter(tree: &Tree, name: &str, child: &str) -> u64 {
    tree.registry
        .snapshot()
        .counter(name, &[("supervisor", "test"), ("child", child)])
        .unwrap_or(0)
}

/// A child that panics is seen, counted and restarted; the handle reaches the new incarnation.
#[actix::test]
async fn a_panicking_child_is_restarted_and_counted() {
    let tree = tree(&["a"], Setup::default());
    assert_eq!(which(&tree.handles[0]).await, 1);
    tree.handles[0].do_send(Crash);
    until_incarnation(&tree, 0, 2).await;
    assert_eq!(counter(&tree, "supervisor.failures", "a"), 1);
    assert_eq!(counter(&tree, "supervisor.restarts", "a"), 1);
    assert_eq!(counter(&tree, "supervisor.starts", "a"), 2);
}

/// One-for-all restarts every sibling with the failed child.
#[actix::test]
async fn one_for_all_restarts_the_siblings() {
    let mut setup = Setup::default();
    setup.options.strategy = Strategy::OneForAll;
    let tree = tree(&["a", "b", "c"], setup);
    for h in &tree.handles {
        assert_eq!(which(h).await, 1);
    }
    tree.handles[1].do_send(Crash);
    for i in 0..3 {
        until_incarnation(&tree, i, 2).await;
    }
    assert_eq!(counter(&tree, "supervisor.failures", "b"), 1);
    assert_eq!(
        counter(&tree, "supervisor.failures", "a"),
        0,
        "stopped, not failed"
    );
}

/// Rest-for-one restarts the failed child and those started after it, not those before.
#[actix::test]
async fn rest_for_one_restarts_only_the_later_siblings() {
    let mut setup = Setup::default();
    setup.options.strategy = Strategy::RestForOne;
    let tree = tree(&["a", "b", "c"], setup);
    for h in &tree.handles {
        assert_eq!(which(h).await, 1);
    }
    tree.handles[1].do_send(Crash);
    until_incarnation(&tree, 1, 2).await;
    until_incarnation(&tree, 2, 2).await;
    assert_eq!(
        which(&tree.handles[0]).await,
        1,
        "the earlier sibling kept running"
    );
    assert_eq!(tree.starts[0].load(Ordering::SeqCst), 1);
}

/// A transient child that says it finished is not restarted; a permanent one is.
#[actix::test]
async fn a_transient_child_that_finishes_is_not_restarted() {
    let setup = Setup {
        policy: RestartPolicy::Transient,
        ..Setup::default()
    };
    let transient = tree(&["job"], setup);
    assert_eq!(which(&transient.handles[0]).await, 1);
    transient.handles[0].do_send(Finish);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        transient.starts[0].load(Ordering::SeqCst),
        1,
        "not restarted"
    );
    assert!(transient.handles[0].addr().is_none());

    let permanent = tree(&["service"], Setup::default());
    assert_eq!(which(&permanent.handles[0]).await, 1);
    permanent.handles[0].do_send(Finish);
    until_incarnation(&permanent, 0, 2).await;
}

/// Restart delays follow the back-off (attempt 1, 2, 3 ...) and start over after the child has
/// run healthily for `reset_after`.
#[actix::test]
async fn restarts_follow_the_back_off_and_it_resets_after_a_healthy_period() {
    let attempts = Arc::new(Mutex::new(Vec::new()));
    let seen = attempts.clone();
    let mut setup = Setup::default();
    setup.options.backoff = BackoffPolicy::custom(move |attempt, _| {
        seen.lock().unwrap().push(attempt);
        Decision::after(Duration::from_millis(5 * u64::from(attempt)))
    })
    .with_max_attempts(None)
    .with_reset_after(Some(Duration::from_secs(30)));
    setup.options.intensity = Intensity {
        max_restarts: 10,
        within: Duration::from_secs(10),
    };
    // The supervisor's clock is the test's: a healthy half minute passes without sleeping.
    let clock = Arc::new(Mutex::new(std::time::Instant::now()));
    let read = clock.clone();
    setup.options.now = Arc::new(move || *read.lock().unwrap());
    let tree = tree(&["a"], setup);
    for n in 1..=3 {
        assert_eq!(which(&tree.handles[0]).await, n);
        tree.handles[0].do_send(Crash);
        until_incarnation(&tree, 0, n + 1).await;
    }
    assert_eq!(*attempts.lock().unwrap(), vec![1, 2, 3]);
    *clock.lock().unwrap() += Duration::from_secs(31); // a healthy run
    tree.handles[0].do_send(Crash);
    until_incarnation(&tree, 0, 5).await;
    assert_eq!(*attempts.lock().unwrap(), vec![1, 2, 3, 1]);
}

/// A child that keeps failing (its restarts cannot start) exceeds the intensity: the supervisor
/// stops its children and escalates, naming the child and its last failure.
#[actix::test]
async fn a_crash_loop_exceeds_the_intensity_and_escalates() {
    let mut setup = Setup::default();
    setup.options.intensity = Intensity {
        max_restarts: 2,
        within: Duration::from_secs(10),
    };
    let failing = setup.failing_starts.clone();
    let mut tree = tree(&["listener", "other"], setup);
    assert_eq!(which(&tree.handles[0]).await, 1);
    failing.store(true, Ordering::SeqCst);
    tree.handles[0].do_send(Crash);
    let gave_up = recv_or_fail("the escalation", tree.gave_up.recv())
        .await
        .unwrap();
    assert_eq!(gave_up.child, "listener");
    assert!(
        gave_up.last_failure.contains("the port is taken"),
        "{gave_up}"
    );
    assert_eq!(
        tree.registry
            .snapshot()
            .counter("supervisor.escalations", &[("supervisor", "test")]),
        Some(1)
    );
    recv_or_fail("the supervisor to stop", async {
        while tree.supervisor.connected() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(
        tree.handles[1].addr().is_none(),
        "the siblings were stopped"
    );
}

/// A message with a reply channel sent while the child restarts reaches the new incarnation; one
/// that cannot wait long enough is handed back; a fire-and-forget one is counted as lost.
#[actix::test]
async fn messages_sent_during_a_restart_are_delivered_or_handed_back() {
    let mut setup = Setup::default();
    setup.options.backoff =
        BackoffPolicy::fixed(Duration::from_millis(300)).with_max_attempts(None);
    let tree = tree(&["a"], setup);
    assert_eq!(which(&tree.handles[0]).await, 1);
    tree.handles[0].do_send(Crash);
    recv_or_fail("the crash to be seen", async {
        while tree.handles[0].addr().is_some() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    let (tx, _rx) = oneshot::channel();
    match tree.handles[0]
        .deliver(Which(tx), Duration::from_millis(20))
        .await
    {
        Err(Undelivered::Timeout(_)) => {}
        other => panic!("expected the message back: {:?}", other.is_ok()),
    }
    tree.handles[0].do_send(Finish);
    assert_eq!(
        tree.registry
            .snapshot()
            .counter("supervisor.lost_messages", &[]),
        Some(1)
    );
    assert_eq!(
        which(&tree.handles[0]).await,
        2,
        "delivered to the new incarnation"
    );
}

/// Fault injection: `FailChild` makes a chosen child fail like a crash, and it is restarted.
#[actix::test]
async fn fault_injection_fails_a_chosen_child() {
    let tree = tree(&["a", "b"], Setup::default());
    assert_eq!(which(&tree.handles[1]).await, 1);
    assert!(tree.supervisor.send(FailChild("b".into())).await.unwrap());
    until_incarnation(&tree, 1, 2).await;
    assert_eq!(which(&tree.handles[0]).await, 1);
    assert!(!tree
        .supervisor
        .send(FailChild("nobody".into()))
        .await
        .unwrap());
}

/// Stops itself without saying it finished.
#[derive(Message)]
#[rtype(result = "()")]
struct Vanish;

impl Handler<Vanish> for Worker {
    type Result = ();
    fn handle(&mut self, _: Vanish, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

/// A child that stops without saying it finished is a failure, never a silent disappearance:
/// it is counted and restarted, even under the transient policy.
#[actix::test]
async fn a_child_that_vanishes_is_a_failure() {
    let setup = Setup {
        policy: RestartPolicy::Transient,
        ..Setup::default()
    };
    let tree = tree(&["a"], setup);
    assert_eq!(which(&tree.handles[0]).await, 1);
    tree.handles[0].do_send(Vanish);
    until_incarnation(&tree, 0, 2).await;
    assert_eq!(counter(&tree, "supervisor.failures", "a"), 1);
}

/// Ignores the supervisor's stop request.
struct Stubborn;

impl Actor for Stubborn {
    type Context = Context<Self>;
}

impl Handler<StopChild> for Stubborn {
    type Result = ();
    fn handle(&mut self, _: StopChild, _: &mut Context<Self>) {}
}

/// A child that does not stop within its shutdown timeout is killed, so stopping the supervisor
/// never hangs.
#[actix::test]
async fn a_child_that_ignores_stop_is_killed_after_its_shutdown_timeout() {
    let registry = StatsRegistry::new();
    let lost = registry.counter("supervisor.lost_messages", &[]);
    let (spec, handle) = actor_child(
        "stubborn",
        hubwire::actix::Arbiter::current(),
        |_| Ok(Stubborn),
        lost,
    );
    let spec = spec.shutdown_timeout(Duration::from_millis(100));
    let supervisor = Supervisor::new(
        "test",
        SupervisorOptions::default(),
        vec![spec],
        &registry,
        |_| {},
    )
    .start();
    recv_or_fail("the child to start", async {
        while handle.addr().is_none() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    let started = std::time::Instant::now();
    recv_or_fail("the supervisor to stop", supervisor.send(StopChild))
        .await
        .unwrap();
    assert!(handle.addr().is_none(), "the stubborn child was killed");
    assert!(
        started.elapsed() >= Duration::from_millis(100),
        "it had its shutdown timeout first"
    );
}
