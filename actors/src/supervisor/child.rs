//! A child specification, and how an actor child is run so that its end is always seen.
//!
//! Each incarnation's context runs as a task of its own on its arbiter; the supervisor keeps the
//! task's abort handle (the kill) and the runner reports how the task ended: a panic shows as a
//! panicked task, a normal stop counts as normal only if the child said it finished.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::{
    Actor, ActorContext, Addr, ArbiterHandle, AsyncContext, Context, Handler, Message, Recipient,
};
use hubwire_core::supervision::{Exit, RestartPolicy};
use tokio::sync::{oneshot, watch};

use super::ChildHandle;

/// Lets a child say how it is ending: finished normally (so a transient child is not
/// restarted), or failed with a reason (a supervisor giving up says why).
#[derive(Clone, Debug, Default)]
pub struct ExitReporter(Arc<Mutex<Option<Exit>>>);

impl ExitReporter {
    /// Call before stopping on purpose.
    pub fn finished(&self) {
        *self.0.lock().expect("exit note") = Some(Exit::Normal);
    }

    /// Call before stopping because of `reason`.
    pub fn failed(&self, reason: impl Into<String>) {
        *self.0.lock().expect("exit note") = Some(Exit::Failed(reason.into()));
    }

    fn note(&self) -> Option<Exit> {
        self.0.lock().expect("exit note").clone()
    }
}

/// How one incarnation ended, reported to the supervisor.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct ChildExited {
    pub(crate) index: usize,
    pub(crate) incarnation: u64,
    pub(crate) exit: Exit,
}

/// A running incarnation: how to ask it to stop, how to kill it, and when it has ended.
pub(crate) struct Running {
    pub(crate) stop: Box<dyn FnOnce() + Send>,
    pub(crate) kill: tokio::task::AbortHandle,
    pub(crate) ended: watch::Receiver<bool>,
}

/// Starts incarnations of one child.
pub(crate) trait Starter: Send {
    /// Starts incarnation `incarnation`; its end is reported to `report` as child `index`.
    fn start(
        &mut self,
        index: usize,
        incarnation: u64,
        report: Recipient<ChildExited>,
    ) -> oneshot::Receiver<Result<Running, String>>;
}

/// What a supervisor needs to run one child.
pub struct ChildSpec {
    pub(crate) id: String,
    pub(crate) restart: RestartPolicy,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) starter: Box<dyn Starter>,
}

impl std::fmt::Debug for ChildSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildSpec")
            .field("id", &self.id)
            .field("restart", &self.restart)
            .finish_non_exhaustive()
    }
}

impl ChildSpec {
    /// How the child is restarted (default: permanent).
    pub fn restart(mut self, policy: RestartPolicy) -> Self {
        self.restart = policy;
        self
    }

    /// How long the child has to stop when asked, before it is killed (default: 5 s).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// The child's id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// Asks a supervised actor to stop (sent by the supervisor; the actor stops at once unless it
/// handles this message itself).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct StopChild;

struct ActorStarter<A: Actor> {
    arbiter: ArbiterHandle,
    make: Arc<dyn Fn(ExitReporter) -> Result<A, String> + Send + Sync>,
    current: Arc<watch::Sender<Option<Addr<A>>>>,
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic".into())
}

impl<A> Starter for ActorStarter<A>
where
    A: Actor<Context = Context<A>> + Handler<StopChild>,
{
    fn start(
        &mut self,
        index: usize,
        incarnation: u64,
        report: Recipient<ChildExited>,
    ) -> oneshot::Receiver<Result<Running, String>> {
        let (ready, started) = oneshot::channel();
        let make = self.make.clone();
        let current = self.current.clone();
        // The context and the actor stay on the arbiter's thread: the closure that moves there
        // is Send, the task it spawns locally need not be.
        self.arbiter.spawn_fn(move || {
            tokio::task::spawn_local(run_incarnation(
                make,
                current,
                ready,
                report,
                index,
                incarnation,
            ));
        });
        started
    }
}

async fn run_incarnation<A>(
    make: Arc<dyn Fn(ExitReporter) -> Result<A, String> + Send + Sync>,
    current: Arc<watch::Sender<Option<Addr<A>>>>,
    ready: oneshot::Sender<Result<Running, String>>,
    report: Recipient<ChildExited>,
    index: usize,
    incarnation: u64,
) where
    A: Actor<Context = Context<A>> + Handler<StopChild>,
{
    {
        let reporter = ExitReporter::default();
        let built = catch_unwind(AssertUnwindSafe(|| make(reporter.clone())));
        let actor = match built {
            Ok(Ok(actor)) => actor,
            Ok(Err(e)) => {
                let _ = ready.send(Err(e));
                return;
            }
            Err(panic) => {
                let _ = ready.send(Err(format!(
                    "panicked while starting: {}",
                    panic_text(&*panic)
                )));
                return;
            }
        };
        let ctx = Context::<A>::new();
        let addr = ctx.address();
        let task = tokio::task::spawn_local(ctx.into_future(actor));
        let (ended_tx, ended) = watch::channel(false);
        let stopper = addr.clone();
        let _ = ready.send(Ok(Running {
            stop: Box::new(move || stopper.do_send(StopChild)),
            kill: task.abort_handle(),
            ended,
        }));
        current.send_replace(Some(addr));
        let result = task.await;
        current.send_replace(None);
        let exit = match result {
            Ok(()) => reporter
                .note()
                .unwrap_or_else(|| Exit::Failed("stopped without saying it finished".into())),
            Err(e) if e.is_panic() => {
                Exit::Failed(format!("panicked: {}", panic_text(&*e.into_panic())))
            }
            Err(_) => Exit::Failed("killed".into()),
        };
        let _ = ended_tx.send(true);
        report.do_send(ChildExited {
            index,
            incarnation,
            exit,
        });
    }
}

/// A child actor made by `make` on `arbiter`, and the handle that reaches its current
/// incarnation. `make` gets an [`ExitReporter`] to say when it finished normally, and may refuse
/// to start with an error (a port that cannot be bound, say).
pub fn actor_child<A, F>(
    id: impl Into<String>,
    arbiter: ArbiterHandle,
    make: F,
    lost: hubwire_core::stats::Counter,
) -> (ChildSpec, ChildHandle<A>)
where
    A: Actor<Context = Context<A>> + Handler<StopChild>,
    F: Fn(ExitReporter) -> Result<A, String> + Send + Sync + 'static,
{
    let (tx, rx) = watch::channel(None);
    let starter = ActorStarter {
        arbiter,
        make: Arc::new(make),
        current: Arc::new(tx),
    };
    let spec = ChildSpec {
        id: id.into(),
        restart: RestartPolicy::Permanent,
        shutdown_timeout: Duration::from_secs(5),
        starter: Box::new(starter),
    };
    (spec, ChildHandle::new(rx, lost))
}

/// A handler for [`StopChild`] that stops the actor, for actors with nothing to clean up.
pub fn stop_now<A: Actor<Context = Context<A>>>(ctx: &mut Context<A>) {
    ctx.stop();
}
