//! The supervisor actor.

use std::time::{Duration, Instant};

use actix::{
    Actor, ActorContext, ActorFutureExt, AsyncContext, Context, Handler, Message, Recipient,
    ResponseActFuture, WrapFuture,
};
use std::sync::Arc;

use hubwire_core::backoff::{BackoffPolicy, BackoffState, Decision, Failure, SplitMix64};
use hubwire_core::config::default_restart_backoff;
use hubwire_core::stats::{Counter, StatsRegistry};
use hubwire_core::supervision::{restart_plan, Exit, Intensity, RestartWindow, Strategy};
use hubwire_core::Config;

use super::child::{ChildExited, Running, Starter, StopChild};
use super::ChildSpec;
use super::ExitReporter;

/// A supervisor gave up: its restart intensity was exceeded. Its children are stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GaveUp {
    /// The supervisor's name.
    pub supervisor: String,
    /// The child whose failure exceeded the intensity.
    pub child: String,
    /// That child's last failure.
    pub last_failure: String,
}

impl std::fmt::Display for GaveUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "supervisor {} gave up: child {} failed too often, last with: {}",
            self.supervisor, self.child, self.last_failure
        )
    }
}

/// Makes a chosen child fail, as if it crashed (its task is aborted): fault injection for tests
/// and drills. Answers whether such a child was running.
#[derive(Debug, Message)]
#[rtype(result = "bool")]
pub struct FailChild(pub String);

struct Slot {
    spec_id: String,
    restart: hubwire_core::supervision::RestartPolicy,
    shutdown_timeout: Duration,
    starter: Option<Box<dyn Starter>>,
    incarnation: u64,
    running: Option<Running>,
    backoff: BackoffState,
    injected: bool,
    starts: Counter,
    failures: Counter,
    restarts: Counter,
}

/// Where a supervisor reads the time (for the intensity window and the back-off reset); tests
/// hand in a clock they move themselves.
pub type Now = Arc<dyn Fn() -> Instant + Send + Sync>;

/// Settings of a [`Supervisor`].
#[derive(Clone)]
pub struct SupervisorOptions {
    /// Which siblings restart with a failed child.
    pub strategy: Strategy,
    /// Restarts allowed in a sliding window before giving up.
    pub intensity: Intensity,
    /// How long a child's restart waits (by its attempt number), and when its attempt count
    /// starts over (`reset_after`: after that long running healthily).
    pub backoff: BackoffPolicy,
    /// The clock.
    pub now: Now,
}

impl Default for SupervisorOptions {
    /// One-for-one; 3 restarts in any 5 s; exponential back-off from 20 ms to 5 s with 20%
    /// jitter, reset after 30 s of healthy running; the system clock.
    fn default() -> Self {
        SupervisorOptions {
            strategy: Strategy::OneForOne,
            intensity: Intensity::default(),
            backoff: default_restart_backoff(),
            now: Arc::new(Instant::now),
        }
    }
}

impl SupervisorOptions {
    /// One-for-one with the intensity and back-off a configuration names.
    pub fn from_config(config: &Config) -> Self {
        SupervisorOptions {
            intensity: config.supervisor_intensity,
            backoff: config.supervisor_backoff.clone(),
            ..SupervisorOptions::default()
        }
    }
}

impl std::fmt::Debug for SupervisorOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupervisorOptions")
            .field("strategy", &self.strategy)
            .field("intensity", &self.intensity)
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}

/// Starts, watches and restarts its children; gives up and escalates when they fail too often.
pub struct Supervisor {
    name: String,
    options: SupervisorOptions,
    window: RestartWindow,
    slots: Vec<Slot>,
    on_give_up: Option<Box<dyn FnOnce(GaveUp) + Send>>,
    escalations: Counter,
    gave_up: bool,
    jitter: SplitMix64,
    /// Set when this supervisor is itself a child: it tells its parent how it ended.
    exit: Option<ExitReporter>,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("name", &self.name)
            .field(
                "children",
                &self.slots.iter().map(|s| &s.spec_id).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

async fn stop_gracefully(running: Running, timeout: Duration) {
    let Running {
        stop,
        kill,
        mut ended,
    } = running;
    stop();
    let timed_out = tokio::time::timeout(timeout, ended.wait_for(|done| *done))
        .await
        .is_err();
    if timed_out {
        kill.abort();
        let _ = tokio::time::timeout(Duration::from_secs(1), ended.wait_for(|done| *done)).await;
    }
}

impl Supervisor {
    /// A supervisor called `name` over `children` (started in this order, stopped in reverse),
    /// with its figures in `registry`; `on_give_up` runs when it gives up (escalation).
    pub fn new(
        name: impl Into<String>,
        options: SupervisorOptions,
        children: Vec<ChildSpec>,
        registry: &StatsRegistry,
        on_give_up: impl FnOnce(GaveUp) + Send + 'static,
    ) -> Self {
        let name = name.into();
        let slots = children
            .into_iter()
            .map(|spec| {
                let labels = [("supervisor", name.as_str()), ("child", spec.id.as_str())];
                Slot {
                    starts: registry.counter("supervisor.starts", &labels),
                    failures: registry.counter("supervisor.failures", &labels),
                    restarts: registry.counter("supervisor.restarts", &labels),
                    spec_id: spec.id,
                    restart: spec.restart,
                    shutdown_timeout: spec.shutdown_timeout,
                    starter: Some(spec.starter),
                    incarnation: 0,
                    running: None,
                    backoff: BackoffState::new(),
                    injected: false,
                }
            })
            .collect();
        Supervisor {
            escalations: registry
                .counter("supervisor.escalations", &[("supervisor", name.as_str())]),
            name,
            options,
            window: RestartWindow::new(),
            slots,
            on_give_up: Some(Box::new(on_give_up)),
            gave_up: false,
            jitter: SplitMix64::from_entropy(),
            exit: None,
        }
    }

    /// Makes this supervisor a child of another: it reports giving up as a failure (so the
    /// parent applies its own strategy and intensity) and a requested stop as a normal end.
    pub fn reporting_to(mut self, exit: ExitReporter) -> Self {
        self.exit = Some(exit);
        self
    }

    /// Stops the children in `stop` (reverse order), waits `delay`, starts those in `start`
    /// (in order). Nothing else is handled meanwhile, so an old incarnation has always stopped
    /// before its successor starts.
    fn cycle(
        &mut self,
        stop: Vec<usize>,
        start: Vec<usize>,
        delay: Duration,
        ctx: &mut Context<Self>,
    ) {
        let work = self.cycle_future(stop, start, delay, ctx);
        ctx.wait(work);
    }

    /// The work of [`cycle`](Self::cycle) as one future, for callers that chain more after it.
    fn cycle_future(
        &mut self,
        stop: Vec<usize>,
        start: Vec<usize>,
        delay: Duration,
        ctx: &mut Context<Self>,
    ) -> impl actix::ActorFuture<Self, Output = ()> + 'static {
        let mut stopping = Vec::new();
        for &i in stop.iter().rev() {
            let slot = &mut self.slots[i];
            slot.incarnation += 1; // its end report is now stale
            if let Some(running) = slot.running.take() {
                stopping.push((running, slot.shutdown_timeout));
            }
        }
        let mut starting = Vec::new();
        for &i in &start {
            let slot = &mut self.slots[i];
            slot.incarnation += 1;
            if let Some(starter) = slot.starter.take() {
                starting.push((i, slot.incarnation, starter));
            }
        }
        let report: Recipient<ChildExited> = ctx.address().recipient();
        let work = async move {
            for (running, timeout) in stopping {
                stop_gracefully(running, timeout).await;
            }
            tokio::time::sleep(delay).await;
            let mut started = Vec::new();
            for (i, incarnation, mut starter) in starting {
                let outcome = starter
                    .start(i, incarnation, report.clone())
                    .await
                    .unwrap_or_else(|_| Err("its thread is gone".into()));
                started.push((i, incarnation, starter, outcome));
            }
            started
        };
        work.into_actor(self).map(|started, act, ctx| {
            for (i, incarnation, starter, outcome) in started {
                let slot = &mut act.slots[i];
                slot.starter = Some(starter);
                match outcome {
                    Ok(running) => {
                        slot.running = Some(running);
                        slot.starts.inc();
                        tracing::info!(supervisor = %act.name, child = %slot.spec_id, incarnation, "child started");
                    }
                    Err(e) => ctx.notify(ChildExited {
                        index: i,
                        incarnation,
                        exit: Exit::Failed(format!("failed to start: {e}")),
                    }),
                }
            }
        })
    }

    fn give_up(&mut self, child: String, last_failure: String, ctx: &mut Context<Self>) {
        self.gave_up = true;
        self.escalations.inc();
        let gave_up = GaveUp {
            supervisor: self.name.clone(),
            child,
            last_failure,
        };
        tracing::error!(supervisor = %self.name, child = %gave_up.child, failure = %gave_up.last_failure, "restart intensity exceeded; stopping children and escalating");
        let all: Vec<usize> = (0..self.slots.len()).collect();
        let on_give_up = self.on_give_up.take();
        let stop_all = self.cycle_future(all, Vec::new(), Duration::ZERO, ctx);
        ctx.wait(stop_all.map(move |_, act, ctx| {
            if let Some(exit) = &act.exit {
                exit.failed(gave_up.to_string());
            }
            if let Some(escalate) = on_give_up {
                escalate(gave_up);
            }
            ctx.stop();
        }));
    }
}

impl Actor for Supervisor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let all: Vec<usize> = (0..self.slots.len()).collect();
        self.cycle(Vec::new(), all, Duration::ZERO, ctx);
    }
}

impl Handler<ChildExited> for Supervisor {
    type Result = ();

    fn handle(&mut self, exited: ChildExited, ctx: &mut Context<Self>) {
        let i = exited.index;
        if self.gave_up || self.slots[i].incarnation != exited.incarnation {
            return; // an incarnation the supervisor stopped on purpose
        }
        let count = self.slots.len();
        let slot = &mut self.slots[i];
        slot.running = None;
        let exit = match exited.exit {
            Exit::Failed(_) if std::mem::take(&mut slot.injected) => {
                Exit::Failed("killed by fault injection".into())
            }
            exit => exit,
        };
        let failure = match &exit {
            Exit::Normal => {
                tracing::info!(supervisor = %self.name, child = %slot.spec_id, "child finished");
                None
            }
            Exit::Failed(why) => {
                slot.failures.inc();
                tracing::warn!(supervisor = %self.name, child = %slot.spec_id, failure = %why, "child failed");
                Some(why.clone())
            }
        };
        let plan = restart_plan(self.options.strategy, slot.restart, i, count, &exit);
        if plan.is_empty() {
            return;
        }
        if !self
            .window
            .allow(self.options.intensity, (self.options.now)())
        {
            let child = slot.spec_id.clone();
            return self.give_up(child, failure.unwrap_or_else(|| "stopped".into()), ctx);
        }
        let why = Failure::retryable(failure.clone().unwrap_or_else(|| "stopped".into()));
        let decision = slot.backoff.on_failure(
            &self.options.backoff,
            &why,
            (self.options.now)(),
            &mut self.jitter,
        );
        let delay = match decision {
            Decision::RetryAfter(delay) => delay,
            Decision::RetryNow => Duration::ZERO,
            Decision::GiveUp(reason) => {
                let child = slot.spec_id.clone();
                return self.give_up(child, format!("{why} (back-off: {reason})"), ctx);
            }
        };
        for &j in &plan {
            self.slots[j].restarts.inc();
        }
        tracing::info!(supervisor = %self.name, child = %self.slots[i].spec_id, ?delay, restarting = plan.len(), "restarting");
        let siblings: Vec<usize> = plan.iter().copied().filter(|&j| j != i).collect();
        self.cycle(siblings, plan, delay, ctx);
    }
}

impl Handler<FailChild> for Supervisor {
    type Result = bool;

    fn handle(&mut self, FailChild(id): FailChild, _ctx: &mut Context<Self>) -> bool {
        let Some(slot) = self.slots.iter_mut().find(|s| s.spec_id == id) else {
            return false;
        };
        let Some(running) = &slot.running else {
            return false;
        };
        slot.injected = true;
        running.kill.abort();
        true
    }
}

impl Handler<StopChild> for Supervisor {
    type Result = ResponseActFuture<Self, ()>;

    /// Stops every child (reverse start order, each within its shutdown timeout), then itself.
    fn handle(&mut self, _: StopChild, ctx: &mut Context<Self>) -> Self::Result {
        self.gave_up = true; // ends are expected now, not failures
        if let Some(exit) = &self.exit {
            exit.finished();
        }
        let all: Vec<usize> = (0..self.slots.len()).collect();
        let stop_all = self.cycle_future(all, Vec::new(), Duration::ZERO, ctx);
        Box::pin(stop_all.map(|_, _act, ctx| ctx.stop()))
    }
}
