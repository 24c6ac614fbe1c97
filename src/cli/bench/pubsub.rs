//! `hubwire bench pubsub` and `hubwire bench rpc`: an in-process hub under publishers,
//! subscribers and callers speaking raw frames over TCP on 127.0.0.1, and, with `--nats URL` (a
//! build with the `nats-bench` feature), the same workloads against a nats-server, side by side.
//!
//! - pub/sub: 1 -> 1, 1 -> 4 (fan-out) and 4 -> 1 (fan-in), for each body size. The figure is
//!   MESSAGEs *received* by subscribers inside the window, per second; drops are
//!   `published x subscribers - received` after a drain, so a subscriber that falls behind shows
//!   as drops (or a slow-consumer disconnect), never as a higher rate.
//! - Flow control, the same on both sides: a publisher writes [`FLUSH_EVERY`] publishes and a
//!   PING (NATS: a flush), and keeps at most [`MAX_UNFLUSHED`] PINGs unanswered. A PONG says the
//!   hub routed everything before it, so at most that many batches are in flight per publisher.
//! - rpc: a provider answers each REQUEST on its reply-to (`ACK|REPLY`, the body echoed); callers
//!   with one inbox each make one call at a time: 1 caller (p50, p99) and `--callers` (calls/s).
//!
//! The clients run on their own tokio runtime of `--client-threads` threads (the same for both
//! systems), so that a hub or a nats-server is measured and not one client thread.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use hubwire_actors::hub::HubLimits;
use hubwire_core::protocol::{
    decode_frame, kind, Envelope, Frame, Headers, Hello, Inbox, Message, MessageFlags, Ping,
    Publish, Subscribe, PROTOCOL_VERSION,
};
use hubwire_core::pubsub::{Channel, Pattern};
use hubwire_core::Address;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::runtime::Handle;
use tokio::sync::watch;

use super::hub::InProcessServer;
use super::stats::{human_ns, thousands, Report, Sample, Window};
use super::{Failure, EXIT_CANNOT_CONNECT, EXIT_USAGE};

#[cfg(feature = "nats-bench")]
#[path = "nats.rs"]
mod nats;

/// Publishes written between two PINGs (NATS: between two flushes).
pub(super) const FLUSH_EVERY: u64 = 1024;
/// PINGs (flushes) a publisher leaves unanswered before it waits.
pub(super) const MAX_UNFLUSHED: usize = 2;
/// After the window, a subscriber that has heard nothing for this long has everything it will get.
pub(super) const DRAIN_IDLE: Duration = Duration::from_millis(500);
/// How long a connect, a handshake or one call may take.
pub(super) const PATIENCE: Duration = Duration::from_secs(5);
/// Bytes a subscriber asks the socket for at once.
const READ_CHUNK: usize = 256 * 1024;
/// The channel published to (NATS: `bench.pubsub`).
const PUBSUB_CHANNEL: &str = "bench/pubsub";
/// The channel the provider serves (NATS: `bench.rpc`).
const RPC_CHANNEL: &str = "bench/rpc";

/// What both modes share: where NATS is, how long, how many client threads.
#[derive(Debug, Clone, clap::Args)]
pub struct SideBySideArgs {
    /// Also run every workload against the nats-server at this URL (nats://127.0.0.1:PORT) and
    /// print the ratio hubwire/NATS per row (needs a build with `--features nats-bench`).
    #[arg(long)]
    pub nats: Option<String>,
    /// Seconds measured per row.
    #[arg(long, default_value_t = 3.0)]
    pub duration: f64,
    /// Seconds of load before measuring starts.
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// Threads of the clients' runtime.
    #[arg(long, default_value_t = 2)]
    pub client_threads: usize,
}

/// Arguments of `hubwire bench pubsub`.
#[derive(Debug, Clone, clap::Args)]
pub struct PubsubArgs {
    /// Where and how long.
    #[command(flatten)]
    pub run: SideBySideArgs,
    /// Body sizes in bytes (each shape runs once per size).
    #[arg(long, value_delimiter = ',', default_values_t = [16usize, 128])]
    pub sizes: Vec<usize>,
    /// Only this shape, `PUBLISHERS-SUBSCRIBERS` (`1-1`, `1-4`, `4-1`); default: all three.
    #[arg(long, value_parser = parse_shape)]
    pub shape: Option<Shape>,
}

/// `P-S` as a [`Shape`] of at least one publisher and one subscriber.
pub(super) fn parse_shape(text: &str) -> Result<Shape, String> {
    let bad = || format!("{text:?} is not PUBLISHERS-SUBSCRIBERS, such as 1-4");
    let (p, s) = text.split_once('-').ok_or_else(bad)?;
    let (publishers, subscribers) = (p.parse().map_err(|_| bad())?, s.parse().map_err(|_| bad())?);
    if publishers == 0 || subscribers == 0 {
        return Err(bad());
    }
    Ok(Shape {
        publishers,
        subscribers,
    })
}

/// Arguments of `hubwire bench rpc`.
#[derive(Debug, Clone, clap::Args)]
pub struct RpcArgs {
    /// Where and how long.
    #[command(flatten)]
    pub run: SideBySideArgs,
    /// Body bytes of each call and reply.
    #[arg(long, default_value_t = 128)]
    pub size: usize,
    /// Concurrent callers (one connection and one call in flight each) of the throughput row.
    #[arg(long, default_value_t = 16)]
    pub callers: usize,
}

/// Checked timing of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Timing {
    pub warmup: Duration,
    pub duration: Duration,
}

impl Timing {
    pub fn window(&self) -> Window {
        Window::starting_now(self.warmup, self.duration)
    }
}

impl SideBySideArgs {
    fn check(&self) -> Result<Timing, String> {
        let ok =
            |v: f64, zero_ok: bool| v.is_finite() && (v > 0.0 || zero_ok && v == 0.0) && v < 1e5;
        if !ok(self.duration, false) || !ok(self.warmup, true) {
            return Err("--duration and --warmup must be positive numbers of seconds".into());
        }
        if self.client_threads == 0 {
            return Err("--client-threads must be at least 1".into());
        }
        if self.nats.is_some() && !cfg!(feature = "nats-bench") {
            return Err("--nats needs a build with `--features nats-bench`".into());
        }
        Ok(Timing {
            warmup: Duration::from_secs_f64(self.warmup),
            duration: Duration::from_secs_f64(self.duration),
        })
    }
}

/// Publishers and subscribers of one pub/sub row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Publishing connections.
    pub publishers: usize,
    /// Subscribing connections.
    pub subscribers: usize,
}

/// The shapes the issue names: 1 -> 1, fan-out 1 -> 4, fan-in 4 -> 1.
pub(super) const SHAPES: [Shape; 3] = [
    Shape {
        publishers: 1,
        subscribers: 1,
    },
    Shape {
        publishers: 1,
        subscribers: 4,
    },
    Shape {
        publishers: 4,
        subscribers: 1,
    },
];

/// What one pub/sub row measured.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct PubsubRun {
    /// Publishes acknowledged (by a PONG or a flush) over the whole run.
    pub published: u64,
    /// Messages received by all subscribers over the whole run, drain included.
    pub received: u64,
    /// Messages received by all subscribers inside the window.
    pub received_in_window: u64,
    /// Subscribers told they were too slow, or cut off.
    pub slow_consumers: u64,
}

impl PubsubRun {
    /// Messages per second received inside the window.
    pub fn per_second(&self, window: Duration) -> f64 {
        self.received_in_window as f64 / window.as_secs_f64().max(1e-9)
    }

    /// Messages that should have reached a subscriber and did not.
    pub fn drops(&self, subscribers: usize) -> u64 {
        (self.published * subscribers as u64).saturating_sub(self.received)
    }

    /// Adds one client's figures.
    pub fn merge(&mut self, other: PubsubRun) {
        self.published += other.published;
        self.received += other.received;
        self.received_in_window += other.received_in_window;
        self.slow_consumers += other.slow_consumers;
    }
}

/// One row of a side-by-side table.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Row {
    pub name: String,
    pub unit: &'static str,
    pub hub: f64,
    pub nats: Option<f64>,
    /// Extra words after the figures (drops, errors).
    pub note: String,
    /// Whether a higher figure is better (rates) or a lower one (latencies).
    pub higher_is_better: bool,
}

/// hubwire over NATS, two decimals; `-` when there is nothing to divide by.
pub(super) fn ratio(hub: f64, nats: Option<f64>) -> String {
    match nats {
        Some(n) if n > 0.0 && hub.is_finite() => format!("{:.2}", hub / n),
        _ => "-".into(),
    }
}

fn figure(unit: &str, value: f64) -> String {
    if unit == "ns" {
        human_ns(Some(value as u64))
    } else {
        thousands(value)
    }
}

/// The table: each row's hubwire figure, NATS's, and hubwire/NATS.
pub(super) fn side_by_side(rows: &[Row]) -> String {
    let mut out = format!(
        "  {:<28}{:>14}{:>14}{:>12}  {}\n",
        "row", "hubwire", "NATS", "hub/NATS", "notes"
    );
    for row in rows {
        let nats = row.nats.map_or("-".into(), |n| figure(row.unit, n));
        let better = if row.higher_is_better {
            "higher is better"
        } else {
            "lower is better"
        };
        out.push_str(&format!(
            "  {:<28}{:>14}{:>14}{:>12}  {better}{}{}\n",
            row.name,
            figure(row.unit, row.hub),
            nats,
            ratio(row.hub, row.nats),
            if row.note.is_empty() { "" } else { "; " },
            row.note
        ));
    }
    out
}

/// The name of a pub/sub row: `1 -> 4, 128 B`.
pub(super) fn row_name(shape: Shape, size: usize) -> String {
    format!(
        "{} -> {}, {size} B msg/s",
        shape.publishers, shape.subscribers
    )
}

/// The body of `size` bytes every publish and call carries.
pub(super) fn body(size: usize) -> Bytes {
    Bytes::from((0..size).map(|i| (i % 251) as u8).collect::<Vec<_>>())
}

/// Runs the future `make` returns on a fresh multi-thread runtime of `threads` threads, on its
/// own thread, so the clients do not share the command's one thread; `make` gets the handle of a
/// second runtime of as many threads for subscribers, so they get their share of the CPU however
/// many publisher tasks there are.
async fn on_client_runtime<T, F, Fut>(threads: usize, make: F) -> Result<T, Failure>
where
    F: FnOnce(Handle) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T, Failure>>,
    T: Send + 'static,
{
    let (done, result) = tokio::sync::oneshot::channel();
    let build = |name: &str| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name(name)
            .enable_all()
            .build()
            .map_err(|e| Failure::new(1, format!("cannot start the clients: {e}")))
    };
    let (main, subscribers) = (build("bench-clients")?, build("bench-subscribers")?);
    std::thread::Builder::new()
        .name("hubwire-bench-clients".into())
        .spawn(move || {
            let outcome = main.block_on(make(subscribers.handle().clone()));
            subscribers.shutdown_background();
            main.shutdown_background();
            let _ = done.send(outcome);
        })
        .map_err(|e| Failure::new(1, format!("cannot start the clients: {e}")))?;
    result
        .await
        .map_err(|_| Failure::new(1, "the clients' thread failed"))?
}

/// The subscribers of a pub/sub row, on their own runtime: each connected and subscribed before
/// the window opens, then counting until it has what was published or the drain ends.
pub(super) struct Subscribers {
    handle: Handle,
    window: watch::Sender<Option<Window>>,
    tasks: Vec<tokio::task::JoinHandle<Result<PubsubRun, Failure>>>,
}

impl Subscribers {
    pub fn new(handle: Handle) -> Subscribers {
        Subscribers {
            handle,
            window: watch::channel(None).0,
            tasks: Vec::new(),
        }
    }

    /// Runs `setup` (connect, subscribe, barrier) on the subscribers' runtime and waits for it;
    /// `count` then runs there once the window is known.
    pub async fn add<C, S, SF, R, RF>(&mut self, setup: S, count: R) -> Result<(), Failure>
    where
        S: FnOnce() -> SF + Send + 'static,
        SF: std::future::Future<Output = Result<C, Failure>> + Send,
        C: Send + 'static,
        R: FnOnce(C, Window) -> RF + Send + 'static,
        RF: std::future::Future<Output = PubsubRun> + Send,
    {
        let (ready, is_ready) = tokio::sync::oneshot::channel();
        let mut window = self.window.subscribe();
        let task = self.handle.spawn(async move {
            let client = setup().await?;
            let _ = ready.send(());
            let opened = window
                .wait_for(Option::is_some)
                .await
                .map(|opened| *opened)
                .map_err(|_| Failure::new(1, "the run ended before it started"))?;
            let window = opened.expect("waited for a window");
            Ok(count(client, window).await)
        });
        if is_ready.await.is_err() {
            return match task.await {
                Ok(Err(failure)) => Err(failure),
                _ => Err(Failure::new(1, "a subscriber failed to start")),
            };
        }
        self.tasks.push(task);
        Ok(())
    }

    /// Lets the subscribers count in `window`.
    pub fn start(&self, window: Window) {
        self.window.send_replace(Some(window));
    }

    /// What all subscribers counted.
    pub async fn finish(self) -> Result<PubsubRun, Failure> {
        let mut run = PubsubRun::default();
        for task in self.tasks {
            run.merge(
                task.await
                    .map_err(|e| Failure::new(1, format!("a subscriber failed: {e}")))??,
            );
        }
        Ok(run)
    }
}

/// An in-process hub (default limits) on 127.0.0.1, stopped when dropped.
fn start_hub() -> Result<(InProcessServer, SocketAddr), Failure> {
    let listen = Address::Tcp(([127, 0, 0, 1], 0).into());
    let server = InProcessServer::start(listen, Box::new(|b| Ok(b.hub(HubLimits::default()))))
        .map_err(|e| Failure::new(1, e))?;
    let addr = server
        .address
        .socket_addr()
        .ok_or_else(|| Failure::new(1, "the hub has no TCP address"))?;
    Ok((server, addr))
}

/// Runs `hubwire bench pubsub`.
pub(super) async fn bench_pubsub(args: &PubsubArgs) -> Result<Report, Failure> {
    let timing = args.run.check().map_err(|e| Failure::new(EXIT_USAGE, e))?;
    if args.sizes.is_empty() || args.sizes.iter().any(|&s| s > 1 << 20) {
        return Err(Failure::new(
            EXIT_USAGE,
            "--sizes must be 0..=1048576 bytes each",
        ));
    }
    let (server, addr) = start_hub()?;
    println!(
        "bench pubsub: hub at tcp://{addr} (in-process, {} I/O threads){}; {} s measured after {} s \
         warmup; a PING every {FLUSH_EVERY} publishes, at most {MAX_UNFLUSHED} unanswered; \
         {} client threads",
        server.io_threads,
        args.run
            .nats
            .as_deref()
            .map_or(String::new(), |u| format!(", NATS at {u}")),
        timing.duration.as_secs_f64(),
        timing.warmup.as_secs_f64(),
        args.run.client_threads
    );
    let mut rows = Vec::new();
    let mut received = 0;
    for &size in &args.sizes {
        let shapes = args.shape.map_or(SHAPES.to_vec(), |one| vec![one]);
        for shape in shapes {
            let hub = on_client_runtime(args.run.client_threads, move |subscribers| {
                hub_pubsub(subscribers, addr, shape, size, timing)
            })
            .await?;
            received += hub.received_in_window;
            let nats = match &args.run.nats {
                Some(url) => {
                    Some(nats_pubsub(args.run.client_threads, url, shape, size, timing).await?)
                }
                None => None,
            };
            let row = pubsub_row(shape, size, timing.duration, &hub, nats.as_ref());
            println!(
                "  {}: hubwire {}{}",
                row.name,
                thousands(row.hub),
                drops_note("", &hub, shape)
            );
            if let Some(n) = &nats {
                println!(
                    "  {}: NATS    {}{}",
                    row.name,
                    thousands(n.per_second(timing.duration)),
                    drops_note("", n, shape)
                );
            }
            rows.push(row);
        }
    }
    drop(server);
    println!("\npub/sub, messages/s received by subscribers:");
    print!("{}", side_by_side(&rows));
    Ok(count_only(received, timing.duration))
}

/// A report that carries only a count (what `hubwire bench` checks for "nothing happened").
fn count_only(completed: u64, window: Duration) -> Report {
    Report {
        completed,
        window,
        p50_ns: None,
        p99_ns: None,
        max_ns: None,
        mean_ns: None,
        errors: Default::default(),
    }
}

/// The words about drops and slow consumers of one side.
pub(super) fn drops_note(side: &str, run: &PubsubRun, shape: Shape) -> String {
    let drops = run.drops(shape.subscribers);
    let mut note = format!("{side}{} dropped", thousands(drops as f64));
    if run.slow_consumers > 0 {
        note.push_str(&format!(", {} slow consumer(s)", run.slow_consumers));
    }
    format!(" ({note} of {} published)", thousands(run.published as f64))
}

/// The table row of one pub/sub shape and size.
pub(super) fn pubsub_row(
    shape: Shape,
    size: usize,
    window: Duration,
    hub: &PubsubRun,
    nats: Option<&PubsubRun>,
) -> Row {
    let mut note = format!(
        "drops hub {}",
        thousands(hub.drops(shape.subscribers) as f64)
    );
    if let Some(n) = nats {
        note.push_str(&format!(
            " NATS {}",
            thousands(n.drops(shape.subscribers) as f64)
        ));
    }
    let slow = hub.slow_consumers + nats.map_or(0, |n| n.slow_consumers);
    if slow > 0 {
        note.push_str(&format!(
            ", slow consumers hub {} NATS {}",
            hub.slow_consumers,
            nats.map_or(0, |n| n.slow_consumers)
        ));
    }
    Row {
        name: row_name(shape, size),
        unit: "msg/s",
        hub: hub.per_second(window),
        nats: nats.map(|n| n.per_second(window)),
        note,
        higher_is_better: true,
    }
}

#[cfg(feature = "nats-bench")]
async fn nats_pubsub(
    threads: usize,
    url: &str,
    shape: Shape,
    size: usize,
    timing: Timing,
) -> Result<PubsubRun, Failure> {
    let url = url.to_owned();
    on_client_runtime(threads, move |subscribers| {
        nats::pubsub(subscribers, url, shape, size, timing)
    })
    .await
}

#[cfg(not(feature = "nats-bench"))]
async fn nats_pubsub(
    _: usize,
    _: &str,
    _: Shape,
    _: usize,
    _: Timing,
) -> Result<PubsubRun, Failure> {
    Err(Failure::new(
        EXIT_USAGE,
        "--nats needs a build with `--features nats-bench`",
    ))
}

/// One raw-frame connection to the hub: a socket and what has been read but not yet decoded.
pub(super) struct Conn {
    stream: TcpStream,
    buf: BytesMut,
}

impl Conn {
    /// Connects and completes the CONN handshake.
    async fn connect(addr: SocketAddr) -> std::io::Result<Conn> {
        let stream = tokio::time::timeout(PATIENCE, TcpStream::connect(addr))
            .await
            .map_err(|_| std::io::Error::other("connect timed out"))??;
        stream.set_nodelay(true)?;
        let mut conn = Conn {
            stream,
            buf: BytesMut::with_capacity(READ_CHUNK),
        };
        let hello = Hello {
            version: PROTOCOL_VERSION,
            agent: "hubwire-bench".into(),
            max_frame: 1 << 24,
            max_in_flight: 0,
        };
        conn.send_envelope(&hello).await?;
        match conn.next_frame(PATIENCE).await? {
            Some(frame) if frame.kind == kind::CONN => Ok(conn),
            other => Err(std::io::Error::other(format!("no CONN answer: {other:?}"))),
        }
    }

    async fn send_envelope(&mut self, envelope: &impl Envelope) -> std::io::Result<()> {
        let mut out = BytesMut::new();
        envelope
            .write_frame(&mut out)
            .map_err(std::io::Error::other)?;
        self.stream.write_all(&out).await
    }

    /// The next whole frame, reading if needed; `None` when the hub closed the connection.
    async fn next_frame(&mut self, patience: Duration) -> std::io::Result<Option<Frame>> {
        loop {
            if let Some(frame) = self.decoded()? {
                return Ok(Some(frame));
            }
            if self.fill(patience).await? == 0 {
                return Ok(None);
            }
        }
    }

    /// The next whole frame already read, if any.
    fn decoded(&mut self) -> std::io::Result<Option<Frame>> {
        decode_frame(&mut self.buf, usize::MAX).map_err(std::io::Error::other)
    }

    /// Reads what the socket has (0: closed), waiting at most `patience`.
    async fn fill(&mut self, patience: Duration) -> std::io::Result<usize> {
        if self.buf.capacity() - self.buf.len() < READ_CHUNK / 4 {
            self.buf.reserve(READ_CHUNK);
        }
        tokio::time::timeout(patience, self.stream.read_buf(&mut self.buf))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "nothing to read"))?
    }

    /// Subscribes (sid 1) and waits for the PONG that says the hub applied it.
    async fn subscribe(&mut self, pattern: Pattern) -> std::io::Result<()> {
        self.send_envelope(&Subscribe::new(1, pattern)).await?;
        self.send_envelope(&Ping { nonce: 0 }).await?;
        while let Some(frame) = self.next_frame(PATIENCE).await? {
            if frame.kind == kind::PONG {
                return Ok(());
            }
        }
        Err(std::io::Error::other(
            "closed before the subscription was applied",
        ))
    }
}

/// A pattern of the bench's own channels (always valid).
fn pattern(channel: &str) -> Result<Pattern, Failure> {
    Pattern::parse(channel).map_err(|e| Failure::new(1, format!("pattern {channel}: {e}")))
}

fn cannot_connect(e: std::io::Error) -> Failure {
    Failure::new(EXIT_CANNOT_CONNECT, format!("the hub: {e}"))
}

/// One pub/sub row against the hub at `addr`.
async fn hub_pubsub(
    subscriber_runtime: Handle,
    addr: SocketAddr,
    shape: Shape,
    size: usize,
    timing: Timing,
) -> Result<PubsubRun, Failure> {
    let expected = Arc::new(AtomicU64::new(u64::MAX));
    let mut subscribers = Subscribers::new(subscriber_runtime);
    for _ in 0..shape.subscribers {
        let expected = expected.clone();
        let setup = move || async move {
            let mut conn = Conn::connect(addr).await.map_err(cannot_connect)?;
            let channel = pattern(PUBSUB_CHANNEL)?;
            conn.subscribe(channel).await.map_err(cannot_connect)?;
            Ok(conn)
        };
        let count = move |conn, window| hub_subscriber(conn, window, expected);
        subscribers.add(setup, count).await?;
    }
    let mut publishers = Vec::new();
    for _ in 0..shape.publishers {
        publishers.push(Conn::connect(addr).await.map_err(cannot_connect)?);
    }
    let window = timing.window();
    subscribers.start(window);
    let publishers: Vec<_> = publishers
        .into_iter()
        .map(|conn| tokio::spawn(hub_publisher(conn, size, window)))
        .collect();
    let mut published = 0;
    for one in publishers {
        published += one
            .await
            .map_err(|e| Failure::new(1, format!("a publisher failed: {e}")))?
            .map_err(|e| Failure::new(1, format!("a publisher: {e}")))?;
    }
    expected.store(published, Ordering::SeqCst);
    let mut run = subscribers.finish().await?;
    run.published = published;
    Ok(run)
}

/// Publishes batches of [`FLUSH_EVERY`] and a PING until the window closes, keeping at most
/// [`MAX_UNFLUSHED`] PINGs unanswered; returns the publishes acknowledged.
async fn hub_publisher(mut conn: Conn, size: usize, window: Window) -> std::io::Result<u64> {
    let publish = Publish {
        channel: Channel::parse(PUBSUB_CHANNEL).map_err(std::io::Error::other)?,
        flags: MessageFlags::NONE,
        reply_to: None,
        headers: Headers::new(),
        body: body(size),
    };
    let (mut batches, mut unanswered) = (0u64, 0usize);
    let mut out = BytesMut::new();
    while window.open(Instant::now()) {
        out.clear();
        for _ in 0..FLUSH_EVERY {
            publish
                .write_frame(&mut out)
                .map_err(std::io::Error::other)?;
        }
        Ping { nonce: batches }
            .write_frame(&mut out)
            .map_err(std::io::Error::other)?;
        conn.stream.write_all(&out).await?;
        batches += 1;
        unanswered += 1;
        while unanswered >= MAX_UNFLUSHED {
            unanswered -= pongs(&mut conn).await?;
        }
    }
    while unanswered > 0 {
        unanswered -= pongs(&mut conn).await?;
    }
    Ok(batches * FLUSH_EVERY)
}

/// Waits for PONGs; returns how many came (at least one).
async fn pongs(conn: &mut Conn) -> std::io::Result<usize> {
    let mut count = 0;
    while count == 0 {
        if conn.fill(PATIENCE).await? == 0 {
            return Err(std::io::Error::other("the hub closed the publisher"));
        }
        while let Some(frame) = conn.decoded()? {
            count += usize::from(frame.kind == kind::PONG);
        }
    }
    Ok(count)
}

/// Counts MESSAGEs until it has `expected` (known once the publishers are done) or, after the
/// window, hears nothing for [`DRAIN_IDLE`].
async fn hub_subscriber(mut conn: Conn, window: Window, expected: Arc<AtomicU64>) -> PubsubRun {
    let mut run = PubsubRun::default();
    loop {
        let patience = if window.open(Instant::now()) {
            PATIENCE
        } else {
            DRAIN_IDLE
        };
        match conn.fill(patience).await {
            Ok(0) | Err(_) if window.open(Instant::now()) => {
                run.slow_consumers = 1; // told why or not, cut off while the load was on
                return run;
            }
            Ok(0) | Err(_) => return run,
            Ok(_) => {}
        }
        let at = Instant::now();
        let mut messages = 0;
        while let Ok(Some(frame)) = conn.decoded() {
            match frame.kind {
                kind::MESSAGE => messages += 1,
                kind::ERROR => run.slow_consumers = 1,
                _ => {}
            }
        }
        run.received += messages;
        if window.counts(at) {
            run.received_in_window += messages;
        }
        if run.received >= expected.load(Ordering::SeqCst) {
            return run;
        }
    }
}

/// Runs `hubwire bench rpc`.
pub(super) async fn bench_rpc(args: &RpcArgs) -> Result<Report, Failure> {
    let timing = args.run.check().map_err(|e| Failure::new(EXIT_USAGE, e))?;
    if args.callers == 0 || args.size > 1 << 20 {
        return Err(Failure::new(
            EXIT_USAGE,
            "--callers must be at least 1 and --size at most 1 MiB",
        ));
    }
    let (server, addr) = start_hub()?;
    println!(
        "bench rpc: hub at tcp://{addr} (in-process){}; {}-byte calls echoed by one provider, one \
         call in flight per caller; {} s measured after {} s warmup",
        args.run
            .nats
            .as_deref()
            .map_or(String::new(), |u| format!(", NATS at {u}")),
        args.size,
        timing.duration.as_secs_f64(),
        timing.warmup.as_secs_f64()
    );
    let threads = args.run.client_threads;
    let (size, callers) = (args.size, args.callers);
    let sync = on_client_runtime(threads, move |_| hub_rpc(addr, 1, size, timing)).await?;
    let many = on_client_runtime(threads, move |_| hub_rpc(addr, callers, size, timing)).await?;
    drop(server);
    let (nats_sync, nats_many) = match &args.run.nats {
        Some(url) => (
            Some(nats_rpc(threads, url, 1, args.size, timing).await?),
            Some(nats_rpc(threads, url, args.callers, args.size, timing).await?),
        ),
        None => (None, None),
    };
    for (name, hub, nats) in [
        ("1 caller", &sync, &nats_sync),
        ("many callers", &many, &nats_many),
    ] {
        print!("  {name}, hubwire:\n{}", hub.lines());
        if let Some(n) = nats {
            print!("  {name}, NATS:\n{}", n.lines());
        }
    }
    println!("\nrpc, {}-byte calls:", args.size);
    print!(
        "{}",
        side_by_side(&rpc_rows(
            &sync,
            nats_sync.as_ref(),
            &many,
            nats_many.as_ref(),
            args.callers
        ))
    );
    Ok(sync)
}

/// The RPC rows: sync p50 and p99, and calls/s of `callers`.
pub(super) fn rpc_rows(
    sync: &Report,
    nats_sync: Option<&Report>,
    many: &Report,
    nats_many: Option<&Report>,
    callers: usize,
) -> Vec<Row> {
    let ns = |v: Option<u64>| v.map_or(f64::NAN, |v| v as f64);
    let errors = |r: &Report| r.error_total();
    let note = |hub: &Report, nats: Option<&Report>| match nats {
        Some(n) => format!("errors hub {} NATS {}", errors(hub), errors(n)),
        None => format!("errors hub {}", errors(hub)),
    };
    vec![
        Row {
            name: "1 caller, p50".into(),
            unit: "ns",
            hub: ns(sync.p50_ns),
            nats: nats_sync.map(|n| ns(n.p50_ns)),
            note: note(sync, nats_sync),
            higher_is_better: false,
        },
        Row {
            name: "1 caller, p99".into(),
            unit: "ns",
            hub: ns(sync.p99_ns),
            nats: nats_sync.map(|n| ns(n.p99_ns)),
            note: String::new(),
            higher_is_better: false,
        },
        Row {
            name: "1 caller, calls/s".into(),
            unit: "calls/s",
            hub: sync.per_second(),
            nats: nats_sync.map(Report::per_second),
            note: String::new(),
            higher_is_better: true,
        },
        Row {
            name: format!("{callers} callers, calls/s"),
            unit: "calls/s",
            hub: many.per_second(),
            nats: nats_many.map(Report::per_second),
            note: note(many, nats_many),
            higher_is_better: true,
        },
        Row {
            name: format!("{callers} callers, p50"),
            unit: "ns",
            hub: ns(many.p50_ns),
            nats: nats_many.map(|n| ns(n.p50_ns)),
            note: String::new(),
            higher_is_better: false,
        },
    ]
}

#[cfg(feature = "nats-bench")]
async fn nats_rpc(
    threads: usize,
    url: &str,
    callers: usize,
    size: usize,
    timing: Timing,
) -> Result<Report, Failure> {
    let url = url.to_owned();
    on_client_runtime(threads, move |_| nats::rpc(url, callers, size, timing)).await
}

#[cfg(not(feature = "nats-bench"))]
async fn nats_rpc(_: usize, _: &str, _: usize, _: usize, _: Timing) -> Result<Report, Failure> {
    Err(Failure::new(
        EXIT_USAGE,
        "--nats needs a build with `--features nats-bench`",
    ))
}

/// One provider and `callers` callers against the hub at `addr`.
async fn hub_rpc(
    addr: SocketAddr,
    callers: usize,
    size: usize,
    timing: Timing,
) -> Result<Report, Failure> {
    let mut provider = Conn::connect(addr).await.map_err(cannot_connect)?;
    provider
        .subscribe(pattern(RPC_CHANNEL)?)
        .await
        .map_err(cannot_connect)?;
    let mut conns = Vec::new();
    for token in 0..callers {
        let mut conn = Conn::connect(addr).await.map_err(cannot_connect)?;
        let inbox = Inbox::new(0xbe7c_0000 + token as u128);
        conn.subscribe(inbox.pattern())
            .await
            .map_err(cannot_connect)?;
        conns.push((conn, inbox));
    }
    let window = timing.window();
    let provider = tokio::spawn(hub_provider(provider));
    let loops: Vec<_> = conns
        .into_iter()
        .map(|(conn, inbox)| tokio::spawn(hub_caller(conn, inbox, size, window)))
        .collect();
    let mut sample = Sample::default();
    for one in loops {
        match one.await {
            Ok(part) => sample.merge(part),
            Err(e) => sample.error(format!("caller failed: {e}"), 1),
        }
    }
    provider.abort();
    Ok(Report::new(sample, timing.duration))
}

/// Answers every call it reads with `ACK|REPLY` and the call's body, in one write per read.
async fn hub_provider(mut conn: Conn) -> std::io::Result<()> {
    let mut out = BytesMut::new();
    loop {
        if conn.fill(Duration::from_secs(3600)).await? == 0 {
            return Ok(());
        }
        out.clear();
        while let Some(frame) = conn.decoded()? {
            if frame.kind != kind::MESSAGE {
                continue;
            }
            let call = Message::from_frame(&frame).map_err(std::io::Error::other)?;
            let Some(reply_to) = call.reply_to else {
                continue;
            };
            Publish {
                channel: reply_to,
                flags: MessageFlags::ACK.union(MessageFlags::REPLY),
                reply_to: None,
                headers: Headers::new(),
                body: call.body,
            }
            .write_frame(&mut out)
            .map_err(std::io::Error::other)?;
        }
        conn.stream.write_all(&out).await?;
    }
}

/// One synchronous caller: the next call as soon as the last is answered.
async fn hub_caller(mut conn: Conn, inbox: Inbox, size: usize, window: Window) -> Sample {
    let mut sample = Sample::default();
    let Ok(channel) = Channel::parse(RPC_CHANNEL) else {
        return sample;
    };
    let body = body(size);
    let mut out = BytesMut::new();
    for call in 1u64.. {
        let sent = Instant::now();
        if !window.open(sent) {
            break;
        }
        out.clear();
        let publish = Publish {
            channel: channel.clone(),
            flags: MessageFlags::REQUEST,
            reply_to: Some(inbox.reply_to(call)),
            headers: Headers::new(),
            body: body.clone(),
        };
        if publish.write_frame(&mut out).is_err() || conn.stream.write_all(&out).await.is_err() {
            sample.error("connection lost", 1);
            break;
        }
        match answer(&mut conn, &inbox, call).await {
            Ok(true) => {
                let done = Instant::now();
                sample.success(&window, done, done - sent);
            }
            Ok(false) => sample.error("error reply", 1),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                sample.error("timeout", 1);
                break;
            }
            Err(_) => {
                sample.error("connection lost", 1);
                break;
            }
        }
    }
    sample
}

/// Reads until the reply to `call`: `true` for a REPLY, `false` for an ERROR.
async fn answer(conn: &mut Conn, inbox: &Inbox, call: u64) -> std::io::Result<bool> {
    loop {
        let Some(frame) = conn.next_frame(PATIENCE).await? else {
            return Err(std::io::Error::other("closed"));
        };
        if frame.kind != kind::MESSAGE {
            continue;
        }
        let message = Message::from_frame(&frame).map_err(std::io::Error::other)?;
        if inbox.call_of(&message.channel) != Some(call) {
            continue;
        }
        if message.flags.contains(MessageFlags::ERROR) {
            return Ok(false);
        }
        if message.flags.contains(MessageFlags::REPLY) {
            return Ok(true);
        }
    }
}

#[cfg(test)]
#[path = "pubsub_tests.rs"]
mod tests;
