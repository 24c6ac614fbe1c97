//! `hubwire bench sender`: what a queued sender delivers end to end, next to the request floor,
//! in one run.
//!
//! Three runs, one after the other with the same load (8 producers x 64 sends in flight by
//! default):
//! 1. the request floor: the in-process echo route, as `hubwire bench request`, with one client
//!    connection per producer and the same depth;
//! 2. durable delivery: a sender on a [`RedbStore`] in a fresh temporary directory delivering
//!    to the echo route of an in-process server; producer tasks call `Sender::send` (answered
//!    once the message is committed), held back while the sender's backlog is over
//!    `--backlog`; the figure is the messages delivered (the queue's `processed`) per second;
//! 3. the same on a [`MemoryStore`].
//!
//! ```text
//!  producers ── send ──> Sender ══> StoreHandle (hubwire-store thread)
//!                                      ^ fetch / complete
//!                 keeper + workers ────┘  (actix system on its own thread)
//!                        └── call_raw ──> echo route (in-process server, 127.0.0.1:0)
//! ```
//!
//! Every server listens on 127.0.0.1 (or a socket in a temporary directory); the sender, the
//! server and the store are stopped and their directories removed before the next run.

use std::time::{Duration, Instant};

use hubwire_actors::actix::{self, Addr};
use hubwire_actors::queue::{QueueAdmin, QueueError, StoreHandle};
use hubwire_actors::sender::{Destination, SendError, Sender, SenderSpec};
use hubwire_actors::supervisor::{StopChild, Supervisor};
use hubwire_core::decode_body;
use hubwire_core::stats::StatsRegistry;
use hubwire_core::store::{MemoryStore, RedbStore, Store};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::hub::{Calls, EchoMessage, Expect, InProcessServer};
use super::queue::{keep_backlog, DEFAULT_BACKLOG, DEFAULT_WORKERS};
use super::stats::{thousands, Report, Sample, Window};
use super::{listen_address, request_body, run_hub_in_process, Failure, LoadArgs, Plan, TempDir};
use crate::EXIT_USAGE;

/// The issue's target: durable delivery to a local echo route, 8 producers.
const DURABLE_DELIVERY_TARGET: f64 = 20_000.0;
/// The sender's name (its store queue is `sender:bench`).
const SENDER: &str = "bench";
/// Seconds each floor call may take before it counts as a timeout.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the sender's thread has to start, and its supervisor to stop the keeper.
const SENDER_PATIENCE: Duration = Duration::from_secs(10);

/// Arguments of `hubwire bench sender`.
#[derive(Debug, Clone, clap::Args)]
#[command(
    mut_arg("clients", |a| a
        .long("producers")
        .value_name("PRODUCERS")
        .default_value("8")
        .help("Producer tasks calling send (and client connections of the request floor)")),
    mut_arg("depth", |a| a
        .default_value("64")
        .help("Sends each producer keeps in flight (and calls on each floor connection)"))
)]
pub struct SenderArgs {
    /// The load of every run (8 producers and depth 64 by default).
    #[command(flatten)]
    pub load: LoadArgs,
    /// Deliveries the sender keeps in flight (its workers).
    #[arg(long, default_value_t = DEFAULT_WORKERS)]
    pub workers: usize,
    /// Pending messages over which the producers wait before sending (0: never).
    #[arg(long, default_value_t = DEFAULT_BACKLOG)]
    pub backlog: u64,
}

impl SenderArgs {
    fn check(&self) -> Result<Plan, String> {
        if self.load.clients == 0 || self.load.depth == 0 {
            return Err("--producers and --depth must be at least 1".into());
        }
        if self.workers == 0 {
            return Err("--workers must be at least 1".into());
        }
        self.load.plan()
    }
}

/// Which store a sender run keeps its queue in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StoreKind {
    Redb,
    Memory,
}

/// A sender's keeper and workers on an actix system of their own thread; [`stop`](Self::stop)
/// stops the keeper through its supervisor and joins the thread.
struct SenderHost {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SenderHost {
    fn start(
        store: StoreHandle,
        destination: Destination,
        workers: usize,
    ) -> Result<(SenderHost, Sender), String> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("hubwire-bench-sender".into())
            .spawn(move || {
                actix::System::new().block_on(async move {
                    let started = SenderSpec::new(SENDER, destination)
                        .workers(workers)
                        .max_pending(usize::MAX) // the bench bounds the backlog itself
                        .start(&store, &StatsRegistry::new());
                    let supervisor: Addr<Supervisor> = match started {
                        Ok((sender, supervisor)) => {
                            let _ = ready_tx.send(Ok(sender));
                            supervisor
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.to_string()));
                            return;
                        }
                    };
                    let _ = stop_rx.await;
                    let _ = tokio::time::timeout(SENDER_PATIENCE, supervisor.send(StopChild)).await;
                });
            })
            .map_err(|e| format!("cannot start the sender thread: {e}"))?;
        let host = SenderHost {
            stop: Some(stop_tx),
            thread: Some(thread),
        };
        match ready_rx.recv_timeout(SENDER_PATIENCE) {
            Ok(Ok(sender)) => Ok((host, sender)),
            Ok(Err(e)) => {
                host.stop();
                Err(format!("the sender did not start: {e}"))
            }
            Err(e) => Err(format!("the sender did not start: {e}")),
        }
    }

    /// Stops the keeper (messages in flight stay in the store) and joins the thread.
    fn stop(mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The sender's store, its echo destination and the sender itself; [`stop`](Self::stop) takes
/// them down in that order (sender, server, store) and removes their directories.
struct SenderRig {
    host: SenderHost,
    sender: Sender,
    server: InProcessServer,
    store: StoreHandle,
    admin: QueueAdmin,
    dirs: Vec<TempDir>,
}

impl SenderRig {
    async fn start(kind: StoreKind, plan: &Plan, workers: usize) -> Result<SenderRig, Failure> {
        let mut dirs = Vec::new();
        let store: Box<dyn Store> = match kind {
            StoreKind::Memory => Box::new(MemoryStore::new()),
            StoreKind::Redb => {
                let dir = TempDir::new()?;
                let store = RedbStore::open(dir.0.join("sender.redb"))
                    .map_err(|e| Failure::new(1, format!("cannot open the store: {e}")))?;
                dirs.push(dir);
                Box::new(store)
            }
        };
        let store = StoreHandle::start(store).map_err(|e| Failure::new(1, e.to_string()))?;
        let started = async {
            let (listen, socket_dir) = listen_address(plan.transport, "echo.sock")?;
            dirs.extend(socket_dir);
            let server = InProcessServer::echo(listen).map_err(|e| Failure::new(1, e))?;
            let destination = Destination::new(server.address.clone(), "echo");
            match SenderHost::start(store.clone(), destination, workers) {
                Ok((host, sender)) => Ok((host, sender, server)),
                Err(e) => Err(Failure::new(1, e)),
            }
        };
        match started.await {
            Ok((host, sender, server)) => Ok(SenderRig {
                host,
                sender,
                server,
                admin: QueueAdmin::senders(store.clone()),
                store,
                dirs,
            }),
            Err(failure) => {
                store.stop().await;
                Err(failure)
            }
        }
    }

    /// The store's figures now.
    async fn probe(&self) -> Result<Probe, QueueError> {
        let data = self.admin.data(SENDER).await?;
        let commits = self.store.commits().await?;
        Ok(Probe {
            at: Instant::now(),
            commits,
            delivered: data.processed,
            pending: data.pending,
            retrying: data.retrying,
            errors: data.errors,
        })
    }

    async fn stop(self) {
        drop(self.sender);
        self.host.stop();
        drop(self.server);
        self.store.stop().await;
        drop(self.dirs);
    }
}

/// A sender's figures at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Probe {
    at: Instant,
    commits: u64,
    /// Messages delivered since the store started (the queue's `processed`).
    delivered: u64,
    pending: u64,
    retrying: u64,
    errors: u64,
}

/// What one sender run measured: the producers' sends, and the store at both ends of the
/// window.
#[derive(Debug)]
struct SenderRun {
    sends: Report,
    first: Probe,
    last: Probe,
}

impl SenderRun {
    fn seconds(&self) -> f64 {
        (self.last.at - self.first.at).as_secs_f64().max(1e-9)
    }

    fn delivered_per_second(&self) -> f64 {
        self.last.delivered.saturating_sub(self.first.delivered) as f64 / self.seconds()
    }

    fn commits_per_second(&self) -> f64 {
        self.last.commits.saturating_sub(self.first.commits) as f64 / self.seconds()
    }

    /// Store ops per commit over the window: sends stored and deliveries completed.
    fn ops_per_commit(&self) -> Option<f64> {
        let commits = self.commits_per_second();
        (commits > 0.0).then(|| (self.sends.per_second() + self.delivered_per_second()) / commits)
    }
}

/// Runs a fresh sender on `kind` under the plan's load, the producers held back while the
/// backlog is at or over `gate_at`.
async fn run_sender(
    kind: StoreKind,
    plan: &Plan,
    workers: usize,
    gate_at: Option<u64>,
) -> Result<SenderRun, Failure> {
    let rig = SenderRig::start(kind, plan, workers).await?;
    let result = load_sender(&rig, plan, gate_at).await;
    rig.stop().await;
    result
}

async fn load_sender(
    rig: &SenderRig,
    plan: &Plan,
    gate_at: Option<u64>,
) -> Result<SenderRun, Failure> {
    let window = plan.window();
    let gate = gate_at.map(|limit| keep_backlog(rig.admin.clone(), SENDER, limit, window));
    let message: EchoMessage =
        decode_body(&request_body("echo", plan.size)).expect("the echo body decodes");
    let mut producers = JoinSet::new();
    for _ in 0..plan.clients {
        producers.spawn(produce(
            rig.sender.clone(),
            message.clone(),
            plan.depth,
            gate.as_ref().map(|(open, _)| open.clone()),
            window,
        ));
    }
    let probes = async {
        tokio::time::sleep_until(window.from.into()).await;
        let first = rig.probe().await?;
        tokio::time::sleep_until(window.until.into()).await;
        let last = rig.probe().await?;
        Ok::<_, QueueError>((first, last))
    };
    let (sample, probes) = tokio::join!(merge_all(producers), probes);
    if let Some((_, keeper)) = gate {
        let _ = keeper.await;
    }
    let (first, last) = probes.map_err(|e| Failure::new(1, format!("the sender's store: {e}")))?;
    Ok(SenderRun {
        sends: Report::new(sample, plan.duration),
        first,
        last,
    })
}

/// Waits for every task of `set` and merges their samples.
async fn merge_all(mut set: JoinSet<Sample>) -> Sample {
    let mut sample = Sample::default();
    while let Some(done) = set.join_next().await {
        match done {
            Ok(part) => sample.merge(part),
            Err(e) => sample.error(format!("task failed: {e}"), 1),
        }
    }
    sample
}

/// One producer: `depth` sends in flight until the window closes, each one's latency the time
/// to a committed answer.
async fn produce(
    sender: Sender,
    message: EchoMessage,
    depth: usize,
    gate: Option<watch::Receiver<bool>>,
    window: Window,
) -> Sample {
    let mut slots = JoinSet::new();
    for _ in 0..depth {
        let (sender, message, mut gate) = (sender.clone(), message.clone(), gate.clone());
        slots.spawn(async move {
            let mut sample = Sample::default();
            loop {
                if let Some(open) = gate.as_mut() {
                    if open.wait_for(|open| *open).await.is_err() {
                        gate = None; // the gate's keeper is gone: open for good
                    }
                }
                let sent = Instant::now();
                if !window.open(sent) {
                    return sample;
                }
                let result = sender.send(&message).await;
                let done = Instant::now();
                match result {
                    Ok(_) => sample.success(&window, done, done - sent),
                    Err(e) => {
                        sample.error(send_error_kind(&e), 1);
                        tokio::time::sleep(Duration::from_millis(10)).await; // do not spin
                    }
                }
            }
        });
    }
    merge_all(slots).await
}

/// The kind of a refused send, as counted in the report.
fn send_error_kind(error: &SendError) -> String {
    match error {
        SendError::Full { .. } => "full".into(),
        SendError::Store { source, .. } => format!("store: {source}"),
        other => other.to_string(),
    }
}

/// One line of the table.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    run: &'static str,
    /// What the figure counts.
    unit: &'static str,
    per_second: f64,
    /// Sends acknowledged per second, for a sender run.
    acks_per_second: Option<f64>,
    /// Commits per second (fsyncs, for a durable run).
    commits_per_second: Option<f64>,
    ops_per_commit: Option<f64>,
    /// Pending messages at both ends of the window, for a sender run.
    backlog: Option<(u64, u64)>,
    /// The figure the issue asks for, if any.
    target: Option<f64>,
}

impl Row {
    fn of_run(run: &'static str, sender: &SenderRun, target: Option<f64>) -> Row {
        Row {
            run,
            unit: "delivered",
            per_second: sender.delivered_per_second(),
            acks_per_second: Some(sender.sends.per_second()),
            commits_per_second: Some(sender.commits_per_second()),
            ops_per_commit: sender.ops_per_commit(),
            backlog: Some((sender.first.pending, sender.last.pending)),
            target,
        }
    }
}

/// The side-by-side table: each row's figure, sends acknowledged, commits, ops per commit,
/// backlog, its ratio to the request floor's `floor` per second, and its target met or missed.
fn sender_table(rows: &[Row], floor: f64) -> String {
    let mut out = format!(
        "  {:<26}{:<10}{:>9}{:>9}{:>11}{:>7}{:>18}{:>8}  {}\n",
        "run", "figure", "per s", "acks/s", "commits/s", "ops/c", "backlog", "/floor", "target"
    );
    for row in rows {
        let ratio = if floor > 0.0 {
            format!("{:.2}", row.per_second / floor)
        } else {
            "-".into()
        };
        let target = match row.target {
            Some(t) if row.per_second >= t => format!(">= {}: met", thousands(t)),
            Some(t) => format!(">= {}: MISSED", thousands(t)),
            None => "-".into(),
        };
        out.push_str(&format!(
            "  {:<26}{:<10}{:>9}{:>9}{:>11}{:>7}{:>18}{:>8}  {}\n",
            row.run,
            row.unit,
            thousands(row.per_second),
            row.acks_per_second.map_or("-".into(), thousands),
            row.commits_per_second.map_or("-".into(), thousands),
            row.ops_per_commit.map_or("-".into(), |o| format!("{o:.1}")),
            row.backlog.map_or("-".into(), |(from, to)| format!(
                "{} -> {}",
                thousands(from as f64),
                thousands(to as f64)
            )),
            ratio,
            target
        ));
    }
    out
}

/// Prints a sender run's sends and store figures.
fn print_run(title: &str, run: &SenderRun, durable: bool) {
    println!("{title}");
    print!("{}", run.sends.lines());
    let commits = if durable { "fsyncs" } else { "batches" };
    println!(
        "  store        delivered {:.0}/s, {:.0} {commits}/s, {} ops/commit, pending {} -> {}, \
         retrying {}, errored {}",
        run.delivered_per_second(),
        run.commits_per_second(),
        run.ops_per_commit()
            .map_or("-".into(), |o| format!("{o:.1}")),
        run.first.pending,
        run.last.pending,
        run.last.retrying,
        run.last.errors
    );
}

/// Runs `hubwire bench sender`; answers the request floor's report.
pub(super) async fn bench_sender(args: &SenderArgs) -> Result<Report, Failure> {
    let plan = args.check().map_err(|e| Failure::new(EXIT_USAGE, e))?;
    println!(
        "bench sender: {}-byte bodies, {} producers x {} sends in flight, {} s measured after \
         {} s warmup, {} workers, backlog {}",
        request_body("echo", plan.size).len(),
        plan.clients,
        plan.depth,
        plan.duration.as_secs_f64(),
        plan.warmup.as_secs_f64(),
        args.workers,
        args.backlog
    );

    println!("\n1. request floor (one client connection per producer)");
    let echo = Calls {
        bodies: Vec::new().into(),
        route: "echo".into(),
        body: request_body("echo", plan.size),
        expect: Expect::Echo,
        timeout: CALL_TIMEOUT,
        gate: None,
    };
    let floor = run_hub_in_process(&plan, &echo, Vec::new()).await?;
    print!("{}", floor.lines());

    let gate_at = (args.backlog > 0).then_some(args.backlog);
    let durable = run_sender(StoreKind::Redb, &plan, args.workers, gate_at).await?;
    print_run(
        &format!(
            "\n2. durable send + delivery (redb, {} workers, echo route)",
            args.workers
        ),
        &durable,
        true,
    );
    let memory = run_sender(StoreKind::Memory, &plan, args.workers, gate_at).await?;
    print_run(
        &format!(
            "\n3. send + delivery (memory store, {} workers, echo route)",
            args.workers
        ),
        &memory,
        false,
    );

    let rows = [
        Row {
            run: "1. request floor (echo)",
            unit: "replies",
            per_second: floor.per_second(),
            acks_per_second: None,
            commits_per_second: None,
            ops_per_commit: None,
            backlog: None,
            target: None,
        },
        Row::of_run(
            "2. durable sender (redb)",
            &durable,
            Some(DURABLE_DELIVERY_TARGET),
        ),
        Row::of_run("3. sender (memory)", &memory, None),
    ];
    println!(
        "\nqueued sender, {} producers x {} in flight, {} workers:",
        plan.clients, plan.depth, args.workers
    );
    print!("{}", sender_table(&rows, floor.per_second()));
    println!(
        "  (delivered: the sender's processed over the window; acks/s: sends committed; \
         commits/s: fsyncs for redb, batches in memory; ops/c: (acks + delivered) per commit)"
    );
    Ok(floor)
}

#[cfg(test)]
#[path = "sender_tests.rs"]
mod tests;
