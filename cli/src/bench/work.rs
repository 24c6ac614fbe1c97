//! `hubwire bench work`: items/s end to end through a work queue (enqueued by one producer,
//! dispatched, acknowledged by 1, 4 and 16 workers), durable (redb) and in memory, next to
//! NATS JetStream doing the same work in the same run (feature `nats-bench`: a nats-server
//! started with `-js` on a free port and a temporary store directory, a work-queue stream, pull
//! consumers; see `work_nats.rs`).
//!
//! Both sides run the same load: one producer keeping `--in-flight` single-item enqueues (or
//! publishes) waiting for their answer, held back while more than `--backlog` items are
//! enqueued and not yet acknowledged (so a queue cannot grow without bound); each worker holds
//! up to `--credit` items (JetStream: pull batches of that size) and acknowledges each at
//! once. The figure is items acknowledged per second inside the measuring window. The rows are
//! interleaved (hubwire, then JetStream, for each shape), so both see the same machine.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hubwire_actors::actix;
use hubwire_actors::queue::StoreHandle;
use hubwire_actors::work::{start_dispatcher, DispatcherOptions, WorkQueue};
use hubwire_core::store::RedbStore;
use hubwire_core::work::{Job, JobOutcome, Producer, Worker, WorkerOptions};
use hubwire_core::Address;

use super::pubsub::count_only;
use super::side_by_side::{body, side_by_side, Row, Timing};
use super::stats::{Report, Window};
use super::{Failure, TempDir, EXIT_CANNOT_CONNECT, EXIT_USAGE};

/// The queue every run uses.
pub(super) const QUEUE: &str = "bench.work";
/// How long the in-process dispatcher has to start.
const START_PATIENCE: Duration = Duration::from_secs(10);
/// How often a producer held back by the backlog looks again.
pub(super) const BACKLOG_PAUSE: Duration = Duration::from_micros(500);

/// Arguments of `hubwire bench work`.
#[derive(Debug, Clone, clap::Args)]
pub struct WorkArgs {
    /// Worker counts, one row each (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1,4,16")]
    pub workers: Vec<usize>,
    /// Items each worker holds at once (JetStream: the pull batch).
    #[arg(long, default_value_t = 64)]
    pub credit: u32,
    /// The producer's enqueues waiting for their answer at once.
    #[arg(long, default_value_t = 256)]
    pub in_flight: usize,
    /// Items enqueued and not yet acknowledged over which the producer waits.
    #[arg(long, default_value_t = 10_000)]
    pub backlog: u64,
    /// Bytes of each item's body.
    #[arg(long, default_value_t = 128)]
    pub size: usize,
    /// Seconds measured per row.
    #[arg(long, default_value_t = 3.0)]
    pub duration: f64,
    /// Seconds of load before measuring starts.
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// Only durable (`durable`) or only in-memory (`memory`) queues; both by default.
    #[arg(long)]
    pub only: Option<Kind>,
    /// The nats-server program to start with `-js` for the JetStream side (needs a build with
    /// `--features nats-bench`).
    #[arg(long, default_value = "nats-server")]
    pub nats_server: String,
    /// Run hubwire alone, without JetStream.
    #[arg(long)]
    pub no_nats: bool,
}

/// Where a queue's items are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// hubwire: the app's redb store (fsync per group commit); JetStream: file storage.
    Durable,
    /// hubwire: an in-memory queue; JetStream: memory storage.
    Memory,
}

/// The load of one row, the same for both sides.
#[derive(Debug, Clone, Copy)]
pub(super) struct Load {
    pub kind: Kind,
    pub workers: usize,
    pub credit: u32,
    pub in_flight: usize,
    pub backlog: u64,
    pub timing: Timing,
}

/// Items enqueued (answered) and acknowledged so far, shared by a row's producer and workers.
#[derive(Debug, Default)]
pub(super) struct Counts {
    pub enqueued: AtomicU64,
    pub acked: AtomicU64,
}

impl Counts {
    /// Whether the producer must wait: too many items enqueued and not yet acknowledged.
    pub fn over(&self, backlog: u64) -> bool {
        let enqueued = self.enqueued.load(Ordering::Relaxed);
        enqueued.saturating_sub(self.acked.load(Ordering::Relaxed)) > backlog
    }

    /// Acknowledged items per second inside `window`: reads the count when it opens and when
    /// it closes (sleeping until then).
    pub async fn rate_in(&self, window: Window) -> f64 {
        tokio::time::sleep_until(window.from.into()).await;
        let first = self.acked.load(Ordering::Relaxed);
        tokio::time::sleep_until(window.until.into()).await;
        let last = self.acked.load(Ordering::Relaxed);
        (last - first) as f64 / (window.until - window.from).as_secs_f64()
    }
}

/// Runs `hubwire bench work`.
pub(super) async fn bench_work(args: &WorkArgs) -> Result<Report, Failure> {
    let timing = Timing {
        warmup: seconds(args.warmup, true, "warmup")?,
        duration: seconds(args.duration, false, "duration")?,
    };
    if args.workers.is_empty() || args.workers.contains(&0) || args.credit == 0 {
        return Err(Failure::new(
            EXIT_USAGE,
            "--workers and --credit must be at least 1",
        ));
    }
    if args.in_flight == 0 {
        return Err(Failure::new(EXIT_USAGE, "--in-flight must be at least 1"));
    }
    if !args.no_nats && !cfg!(feature = "nats-bench") {
        return Err(Failure::new(
            EXIT_USAGE,
            "the JetStream side needs a build with `--features nats-bench` (or pass --no-nats)",
        ));
    }
    let jetstream = JetStream::start(args)?;
    let kinds: Vec<Kind> = match args.only {
        Some(kind) => vec![kind],
        None => vec![Kind::Memory, Kind::Durable],
    };
    println!(
        "work queue: 1 producer ({} enqueues in flight, backlog {}), workers with credit {}, {}-byte items, {} s measured after {} s warmup per row",
        args.in_flight,
        args.backlog,
        args.credit,
        args.size,
        timing.duration.as_secs_f64(),
        timing.warmup.as_secs_f64()
    );
    let item = body(args.size);
    let mut rows = Vec::new();
    let mut total = 0.0;
    for &workers in &args.workers {
        for &kind in &kinds {
            let load = Load {
                kind,
                workers,
                credit: args.credit,
                in_flight: args.in_flight,
                backlog: args.backlog,
                timing,
            };
            let hub = hubwire_row(load, item.clone()).await?;
            let nats = jetstream.row(load, item.clone()).await?;
            let name = match kind {
                Kind::Durable => format!("durable, 1 -> {workers}"),
                Kind::Memory => format!("in memory, 1 -> {workers}"),
            };
            println!(
                "  {name}: hubwire {hub:.0} items/s{}",
                nats.map_or(String::new(), |n| format!(", JetStream {n:.0} items/s"))
            );
            total += hub;
            rows.push(Row {
                name,
                unit: "items/s",
                hub,
                nats,
                note: String::new(),
                higher_is_better: true,
            });
        }
    }
    println!();
    println!(
        "work queue, items/s acknowledged (NATS: JetStream work-queue stream, pull consumers):"
    );
    print!("{}", side_by_side(&rows));
    Ok(count_only(
        (total * timing.duration.as_secs_f64()) as u64,
        timing.duration,
    ))
}

fn seconds(value: f64, zero_ok: bool, name: &str) -> Result<Duration, Failure> {
    if value.is_finite() && (value > 0.0 || zero_ok && value == 0.0) && value < 1e5 {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(Failure::new(
            EXIT_USAGE,
            format!("--{name} must be a positive number of seconds"),
        ))
    }
}

/// The JetStream side, when built and asked for.
struct JetStream {
    #[cfg(feature = "nats-bench")]
    server: Option<super::work_nats::NatsServer>,
}

impl JetStream {
    #[cfg(feature = "nats-bench")]
    fn start(args: &WorkArgs) -> Result<JetStream, Failure> {
        let server = match args.no_nats {
            true => None,
            false => Some(super::work_nats::NatsServer::start(&args.nats_server)?),
        };
        Ok(JetStream { server })
    }

    #[cfg(not(feature = "nats-bench"))]
    fn start(_: &WorkArgs) -> Result<JetStream, Failure> {
        Ok(JetStream {})
    }

    #[cfg(feature = "nats-bench")]
    async fn row(&self, load: Load, item: Bytes) -> Result<Option<f64>, Failure> {
        match &self.server {
            Some(server) => super::work_nats::row(&server.url, load, item)
                .await
                .map(Some),
            None => Ok(None),
        }
    }

    #[cfg(not(feature = "nats-bench"))]
    async fn row(&self, _: Load, _: Bytes) -> Result<Option<f64>, Failure> {
        Ok(None)
    }
}

/// A dispatcher on its own thread and actix system (with a redb store in a temporary
/// directory for a durable queue); dropping it stops both and removes the directory.
struct InProcessDispatcher {
    address: Address,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: Option<TempDir>,
}

impl InProcessDispatcher {
    fn start(kind: Kind) -> Result<InProcessDispatcher, Failure> {
        let (dir, store) = match kind {
            Kind::Memory => (None, None),
            Kind::Durable => {
                let dir = TempDir::new()?;
                let store = RedbStore::open(dir.0.join("work.redb"))
                    .map_err(|e| Failure::new(1, format!("cannot open the store: {e}")))?;
                let store = StoreHandle::start(Box::new(store))
                    .map_err(|e| Failure::new(1, e.to_string()))?;
                (Some(dir), Some(store))
            }
        };
        let queue = match kind {
            Kind::Durable => WorkQueue::durable(QUEUE),
            Kind::Memory => WorkQueue::in_memory(QUEUE),
        };
        let options = DispatcherOptions::new(Address::tcp(([127, 0, 0, 1], 0).into()))
            .name("bench-dispatcher")
            .queue(queue.max_pending(usize::MAX));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("hubwire-bench-dispatcher".into())
            .spawn(move || {
                let system = actix::System::new();
                system.block_on(async move {
                    match start_dispatcher(options, store.as_ref()) {
                        Ok(handle) => {
                            let _ = ready_tx.send(Ok(handle.address.clone()));
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.to_string()));
                            return;
                        }
                    }
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    std::thread::spawn(move || {
                        let _ = stop_rx.recv();
                        let _ = tx.send(());
                    });
                    let _ = rx.await;
                    if let Some(store) = store {
                        store.stop().await;
                    }
                });
            })
            .map_err(|e| Failure::new(1, format!("cannot start the dispatcher: {e}")))?;
        let address = match ready_rx.recv_timeout(START_PATIENCE) {
            Ok(Ok(address)) => address,
            Ok(Err(e)) => return Err(Failure::new(1, e)),
            Err(_) => return Err(Failure::new(1, "the dispatcher did not start")),
        };
        Ok(InProcessDispatcher {
            address,
            stop: Some(stop_tx),
            thread: Some(thread),
            _dir: dir,
        })
    }
}

impl Drop for InProcessDispatcher {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One hubwire row: a fresh dispatcher, `load.workers` workers, one producer.
async fn hubwire_row(load: Load, item: Bytes) -> Result<f64, Failure> {
    let dispatcher = InProcessDispatcher::start(load.kind)?;
    let address = dispatcher.address.clone();
    let counts = Arc::new(Counts::default());
    let cannot = |e: hubwire_core::work::WorkClientError| {
        Failure::new(EXIT_CANNOT_CONNECT, format!("work bench at {address}: {e}"))
    };
    let mut tasks = Vec::new();
    for n in 0..load.workers {
        let options = WorkerOptions::new([QUEUE])
            .credit(load.credit)
            .name(format!("bench-worker-{n}"));
        let worker = Worker::connect(&address, options).await.map_err(cannot)?;
        let counts = counts.clone();
        tasks.push(tokio::spawn(async move {
            let _ = worker
                .run(move |_job: Job| {
                    counts.acked.fetch_add(1, Ordering::Relaxed);
                    std::future::ready(JobOutcome::Done)
                })
                .await;
        }));
    }
    let producer = Arc::new(Producer::connect(&address).await.map_err(cannot)?);
    let window = load.timing.window();
    for _ in 0..load.in_flight {
        let (producer, counts, item) = (producer.clone(), counts.clone(), item.clone());
        tasks.push(tokio::spawn(async move {
            while window.open(Instant::now()) {
                if counts.over(load.backlog) {
                    tokio::time::sleep(BACKLOG_PAUSE).await;
                    continue;
                }
                if producer.enqueue(QUEUE, item.clone()).await.is_err() {
                    return;
                }
                counts.enqueued.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let rate = counts.rate_in(window).await;
    for task in &tasks {
        task.abort();
    }
    for task in tasks {
        let _ = task.await;
    }
    drop(producer);
    drop(dispatcher);
    Ok(rate)
}

#[cfg(test)]
#[path = "work_tests.rs"]
mod tests;
