//! `hubwire bench queue`: what queued routes sustain, next to the request floor, in one run.
//!
//! Five runs, one after the other with the same load (8 clients x depth 64 by default):
//! 1. the request floor: the in-process echo route, as `hubwire bench request`;
//! 2. acknowledged durable enqueues: a queued route on a [`RedbStore`] in a fresh temporary
//!    directory, processing paused so the run measures storing and acknowledging alone;
//! 3. the same on a [`MemoryStore`];
//! 4. durable processing: the same route on redb with `--workers` handler slots running, the
//!    clients held back while the backlog is over `--backlog`, so the queue cannot grow without
//!    bound; processed items per second, and the backlog at both ends of the window;
//! 5. a bare redb loop: batches of run 2's mean batch size (or `--batch`) of small values
//!    inserted into a plain table, one write transaction and commit (fsync) per batch.
//!
//! Store figures (commits, processed, pending) are read through the store actor at both ends
//! of the measuring window. Every server listens on 127.0.0.1 (or a socket in a temporary
//! directory), and is stopped, its store closed and its directory removed, before the next run.

use std::path::Path;
use std::time::{Duration, Instant};

use hubwire_actors::actix::{Actor, Context};
use hubwire_actors::handler::{Reply, Serve};
use hubwire_actors::queue::{PauseChange, QueueAdmin, QueueError, QueuedRoute, StoreHandle};
use hubwire_core::store::{MemoryStore, RedbStore, Store};
use tokio::sync::watch;

use super::hub::{self, Calls, EchoMessage, Expect, InProcessServer};
use super::stats::{thousands, Report, Window};
use super::{listen_address, request_body, run_hub_in_process, Failure, LoadArgs, Plan, TempDir};
use crate::{EXIT_CANNOT_CONNECT, EXIT_USAGE};

/// Handler slots of the processing run, unless told otherwise.
pub const DEFAULT_WORKERS: usize = 64;
/// Pending items over which the processing run holds its clients back, unless told otherwise.
pub const DEFAULT_BACKLOG: u64 = 10_000;
/// How often the processing run reads the backlog to open or close its clients' gate.
const BACKLOG_POLL: Duration = Duration::from_millis(10);
/// Bytes of each value the bare redb loop inserts: about a stored enqueue of a 128-byte echo.
const BARE_VALUE_BYTES: usize = 150;
/// Seconds each enqueue may take before it counts as a timeout.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// The targets, for 8 clients x 64 in flight on the benchmark machine.
const DURABLE_ENQUEUE_TARGET: f64 = 20_000.0;
const MEMORY_ENQUEUE_TARGET: f64 = 100_000.0;
const DURABLE_PROCESSING_TARGET: f64 = 20_000.0;

/// Arguments of `hubwire bench queue`.
#[derive(Debug, Clone, clap::Args)]
#[command(
    mut_arg("clients", |a| a.default_value("8")),
    mut_arg("depth", |a| a.default_value("64"))
)]
pub struct QueueArgs {
    /// The load of every run (clients 8 and depth 64 by default here).
    #[command(flatten)]
    pub load: LoadArgs,
    /// Handler slots of the processing run.
    #[arg(long, default_value_t = DEFAULT_WORKERS)]
    pub workers: usize,
    /// Pending items over which the processing run's clients wait before sending (0: never).
    #[arg(long, default_value_t = DEFAULT_BACKLOG)]
    pub backlog: u64,
    /// Inserts per commit of the bare redb loop (default: the durable enqueue run's mean batch).
    #[arg(long)]
    pub batch: Option<usize>,
}

/// The queued route of the bench: the echo's body, nothing back but the acknowledgement.
const QUEUE: &str = "bench.queued";
hubwire_core::route!(pub(crate) BenchJob = "bench.queued", EchoMessage => ());

/// The trivial handler: every item succeeds at once.
struct Finisher;

impl Actor for Finisher {
    type Context = Context<Self>;
}

impl Serve<BenchJob> for Finisher {
    fn serve(&mut self, _: EchoMessage, _: &mut Context<Self>) -> Reply<()> {
        Reply::ok(())
    }
}

hubwire::serve!(Finisher: BenchJob);

/// Which store a queued run keeps its queue in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StoreKind {
    Redb,
    Memory,
}

/// A server with the bench's queued route, and its store; [`stop`](Self::stop) takes both
/// down and removes their directories.
struct QueuedServer {
    server: InProcessServer,
    store: StoreHandle,
    admin: QueueAdmin,
    dirs: Vec<TempDir>,
}

impl QueuedServer {
    async fn start(kind: StoreKind, plan: &Plan, workers: usize) -> Result<QueuedServer, Failure> {
        let mut dirs = Vec::new();
        let store: Box<dyn Store> = match kind {
            StoreKind::Memory => Box::new(MemoryStore::new()),
            StoreKind::Redb => {
                let dir = TempDir::new()?;
                let store = RedbStore::open(dir.0.join("queues.redb"))
                    .map_err(|e| Failure::new(1, format!("cannot open the store: {e}")))?;
                dirs.push(dir);
                Box::new(store)
            }
        };
        let store = StoreHandle::start(store).map_err(|e| Failure::new(1, e.to_string()))?;
        let (listen, socket_dir) = listen_address(plan.transport, "hubwire.sock")?;
        dirs.extend(socket_dir);
        let route_store = store.clone();
        let routes: hub::Routes = Box::new(move |builder| {
            QueuedRoute::<BenchJob, Finisher>::new(|| Finisher)
                .workers(workers)
                .max_pending(usize::MAX) // the bench bounds the backlog itself
                .add_to(builder, &route_store)
                .map_err(|e| e.to_string())
        });
        match InProcessServer::start(listen, routes) {
            Ok(server) => Ok(QueuedServer {
                server,
                admin: QueueAdmin::new(store.clone()),
                store,
                dirs,
            }),
            Err(e) => {
                store.stop().await;
                Err(Failure::new(1, e))
            }
        }
    }

    /// The store's figures now.
    async fn probe(&self) -> Result<Probe, QueueError> {
        let data = self.admin.data(QUEUE).await?;
        let commits = self.store.commits().await?;
        Ok(Probe {
            at: Instant::now(),
            commits,
            processed: data.processed,
            pending: data.pending,
        })
    }

    async fn stop(self) {
        drop(self.server);
        self.store.stop().await;
        drop(self.dirs);
    }
}

/// A queue's figures at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Probe {
    at: Instant,
    commits: u64,
    processed: u64,
    pending: u64,
}

/// What one queued run measured: the clients' report, and the store at both ends of the window.
#[derive(Debug)]
struct QueuedRun {
    report: Report,
    first: Probe,
    last: Probe,
}

impl QueuedRun {
    fn seconds(&self) -> f64 {
        (self.last.at - self.first.at).as_secs_f64().max(1e-9)
    }

    fn commits_per_second(&self) -> f64 {
        (self.last.commits - self.first.commits) as f64 / self.seconds()
    }

    fn processed_per_second(&self) -> f64 {
        (self.last.processed - self.first.processed) as f64 / self.seconds()
    }

    /// Ops per commit over the window: the enqueues acknowledged and the items completed.
    fn mean_batch(&self) -> Option<f64> {
        let ops = self.report.per_second() + self.processed_per_second();
        mean_batch(ops, self.commits_per_second())
    }
}

/// Ops per commit, when there were commits.
fn mean_batch(ops_per_second: f64, commits_per_second: f64) -> Option<f64> {
    (commits_per_second > 0.0).then(|| ops_per_second / commits_per_second)
}

/// Loads the queued route of a fresh server on `kind`: enqueues only (processing paused) or,
/// with `gate_at` set, with the workers processing and the clients held back while the backlog
/// is over it.
async fn run_queued(
    kind: StoreKind,
    plan: &Plan,
    workers: usize,
    processing: bool,
    gate_at: Option<u64>,
) -> Result<QueuedRun, Failure> {
    let server = QueuedServer::start(kind, plan, workers).await?;
    let result = load_queued(&server, plan, processing, gate_at).await;
    server.stop().await;
    result
}

async fn load_queued(
    server: &QueuedServer,
    plan: &Plan,
    processing: bool,
    gate_at: Option<u64>,
) -> Result<QueuedRun, Failure> {
    let store_failure = |e: QueueError| Failure::new(1, format!("the queue store: {e}"));
    if !processing {
        let pause = PauseChange {
            receiving: None,
            processing: Some(true),
        };
        server
            .admin
            .pause(QUEUE, pause)
            .await
            .map_err(store_failure)?;
    }
    let clients = hub::connect(
        &server.server.address,
        plan.clients,
        CALL_TIMEOUT,
        None,
        Vec::new(),
    )
    .await
    .map_err(|e| Failure::new(EXIT_CANNOT_CONNECT, e.to_string()))?;
    let window = plan.window();
    let gate = gate_at.map(|limit| keep_backlog(server.admin.clone(), QUEUE, limit, window));
    let calls = Calls {
        bodies: Vec::new().into(),
        route: QUEUE.into(),
        body: request_body("echo", plan.size),
        expect: Expect::Queued,
        timeout: CALL_TIMEOUT,
        gate: gate.as_ref().map(|(open, _)| open.clone()),
    };
    let probes = async {
        tokio::time::sleep_until(window.from.into()).await;
        let first = server.probe().await?;
        tokio::time::sleep_until(window.until.into()).await;
        let last = server.probe().await?;
        Ok::<_, QueueError>((first, last))
    };
    let (sample, probes) = tokio::join!(hub::drive(&clients, plan.depth, &calls, window), probes);
    drop(clients);
    if let Some((_, keeper)) = gate {
        let _ = keeper.await;
    }
    let (first, last) = probes.map_err(store_failure)?;
    Ok(QueuedRun {
        report: Report::new(sample, plan.duration),
        first,
        last,
    })
}

/// A gate open while the backlog of `queue` (a queue of `admin`'s family) is under `limit`,
/// kept by a task reading it every [`BACKLOG_POLL`] until the window closes, when it opens
/// for good.
pub(super) fn keep_backlog(
    admin: QueueAdmin,
    queue: &'static str,
    limit: u64,
    window: Window,
) -> (watch::Receiver<bool>, tokio::task::JoinHandle<()>) {
    let (open, gate) = watch::channel(true);
    let keeper = tokio::spawn(async move {
        while window.open(Instant::now()) {
            let Ok(data) = admin.data(queue).await else {
                break;
            };
            let now_open = data.pending < limit;
            open.send_if_modified(|was| std::mem::replace(was, now_open) != now_open);
            tokio::time::sleep(BACKLOG_POLL).await;
        }
        open.send_replace(true);
    });
    (gate, keeper)
}

/// What the bare redb loop measured.
#[derive(Debug, Clone, Copy, PartialEq)]
struct BareRun {
    inserts_per_second: f64,
    commits_per_second: f64,
}

/// Inserts batches of `batch` values of [`BARE_VALUE_BYTES`] into a plain redb table in `dir`,
/// one write transaction and commit per batch, until the window closes; counts the batches
/// whose commit ended inside it.
fn bare_redb(dir: &Path, batch: usize, window: Window) -> Result<BareRun, redb::Error> {
    const TABLE: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("bench");
    let db = redb::Database::create(dir.join("bare.redb"))?;
    let value: Vec<u8> = (0..BARE_VALUE_BYTES).map(|i| (i % 251) as u8).collect();
    let (mut next_key, mut inserts, mut commits) = (0u64, 0u64, 0u64);
    while window.open(Instant::now()) {
        let txn = db.begin_write()?;
        {
            let mut table = txn.open_table(TABLE)?;
            for _ in 0..batch {
                table.insert(next_key, value.as_slice())?;
                next_key += 1;
            }
        }
        txn.commit()?;
        if window.counts(Instant::now()) {
            inserts += batch as u64;
            commits += 1;
        }
    }
    let seconds = (window.until - window.from).as_secs_f64();
    Ok(BareRun {
        inserts_per_second: inserts as f64 / seconds,
        commits_per_second: commits as f64 / seconds,
    })
}

/// One line of the table.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    /// What ran.
    run: String,
    /// What the figure counts.
    unit: &'static str,
    per_second: f64,
    /// Durable commits (fsyncs) per second, for a durable run.
    fsyncs_per_second: Option<f64>,
    /// Ops per commit (per batch applied, in memory).
    batch: Option<f64>,
    /// The figure the issue asks for, if any.
    target: Option<f64>,
}

/// The side-by-side table: each row's figure, fsyncs/s, ops per batch, its ratio to the
/// request floor's `floor` per second, and its target met or missed.
fn queue_table(rows: &[Row], floor: f64) -> String {
    let mut out = format!(
        "  {:<28}{:<11}{:>10}{:>11}{:>11}{:>10}  {}\n",
        "run", "figure", "per s", "fsyncs/s", "ops/batch", "vs floor", "target"
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
            "  {:<28}{:<11}{:>10}{:>11}{:>11}{:>10}  {}\n",
            row.run,
            row.unit,
            thousands(row.per_second),
            row.fsyncs_per_second.map_or("-".into(), thousands),
            row.batch.map_or("-".into(), |b| format!("{b:.1}")),
            ratio,
            target
        ));
    }
    out
}

impl QueueArgs {
    fn check(&self) -> Result<Plan, String> {
        if self.workers == 0 {
            return Err("--workers must be at least 1".into());
        }
        if self.batch == Some(0) {
            return Err("--batch must be at least 1".into());
        }
        self.load.plan()
    }
}

/// Prints a run's title and its report lines.
fn print_run(title: &str, report: &Report) {
    println!("{title}");
    print!("{}", report.lines());
}

/// Prints a queued run's store figures under its report.
fn print_store(run: &QueuedRun, durable: bool) {
    let commits = if durable { "fsyncs" } else { "batches" };
    println!(
        "  store        {:.0} {commits}/s, {} ops/batch, processed {:.0}/s, pending {} -> {}",
        run.commits_per_second(),
        run.mean_batch().map_or("-".into(), |b| format!("{b:.1}")),
        run.processed_per_second(),
        run.first.pending,
        run.last.pending
    );
}

/// Runs `hubwire bench queue`; answers the request floor's report.
pub(super) async fn bench_queue(args: &QueueArgs) -> Result<Report, Failure> {
    let plan = args.check().map_err(|e| Failure::new(EXIT_USAGE, e))?;
    let body = request_body("echo", plan.size).len();
    println!(
        "bench queue: {}-byte bodies, {}, {} workers, backlog {}",
        body,
        plan.describe(),
        args.workers,
        args.backlog
    );

    println!("\n1. request floor");
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

    let durable = run_queued(StoreKind::Redb, &plan, args.workers, false, None).await?;
    print_run(
        "\n2. acknowledged durable enqueues (redb, processing paused)",
        &durable.report,
    );
    print_store(&durable, true);

    let memory = run_queued(StoreKind::Memory, &plan, args.workers, false, None).await?;
    print_run(
        "\n3. acknowledged enqueues (memory store, processing paused)",
        &memory.report,
    );
    print_store(&memory, false);

    let gate_at = (args.backlog > 0).then_some(args.backlog);
    let processing = run_queued(StoreKind::Redb, &plan, args.workers, true, gate_at).await?;
    print_run(
        &format!(
            "\n4. durable processing (redb, {} workers, trivial handler)",
            args.workers
        ),
        &processing.report,
    );
    print_store(&processing, true);

    let batch = args.batch.unwrap_or_else(|| {
        durable
            .mean_batch()
            .map_or(1, |b| (b.round() as usize).max(1))
    });
    let dir = TempDir::new()?;
    let window = plan.window();
    let bare_dir = dir.0.clone();
    let bare = tokio::task::spawn_blocking(move || bare_redb(&bare_dir, batch, window))
        .await
        .map_err(|e| Failure::new(1, format!("the bare redb loop failed: {e}")))?
        .map_err(|e| Failure::new(1, format!("the bare redb loop: {e}")))?;
    drop(dir);
    println!("\n5. bare redb loop ({batch} x {BARE_VALUE_BYTES}-byte values per commit)");
    println!(
        "  inserts      {:.0}/s, {:.0} commits/s",
        bare.inserts_per_second, bare.commits_per_second
    );

    let rows = [
        Row {
            run: "1. request floor (echo)".into(),
            unit: "replies",
            per_second: floor.per_second(),
            fsyncs_per_second: None,
            batch: None,
            target: None,
        },
        Row {
            run: "2. durable enqueue (redb)".into(),
            unit: "acks",
            per_second: durable.report.per_second(),
            fsyncs_per_second: Some(durable.commits_per_second()),
            batch: durable.mean_batch(),
            target: Some(DURABLE_ENQUEUE_TARGET),
        },
        Row {
            run: "3. enqueue (memory)".into(),
            unit: "acks",
            per_second: memory.report.per_second(),
            fsyncs_per_second: None,
            batch: memory.mean_batch(),
            target: Some(MEMORY_ENQUEUE_TARGET),
        },
        Row {
            run: "4. durable processing".into(),
            unit: "processed",
            per_second: processing.processed_per_second(),
            fsyncs_per_second: Some(processing.commits_per_second()),
            batch: processing.mean_batch(),
            target: Some(DURABLE_PROCESSING_TARGET),
        },
        Row {
            run: format!("5. bare redb, batch {batch}"),
            unit: "inserts",
            per_second: bare.inserts_per_second,
            fsyncs_per_second: Some(bare.commits_per_second),
            batch: Some(batch as f64),
            target: None,
        },
    ];
    println!("\nqueued endpoints, {}:", plan.describe());
    print!("{}", queue_table(&rows, floor.per_second()));
    println!(
        "  (targets as the issue sets them for 8 clients x 64 in flight; processing backlog {} -> {} \
         over the window, enqueues acknowledged meanwhile {:.0}/s)",
        processing.first.pending,
        processing.last.pending,
        processing.report.per_second()
    );
    Ok(floor)
}

#[cfg(test)]
#[path = "queue_tests.rs"]
mod tests;
