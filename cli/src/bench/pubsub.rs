//! `hubwire bench pubsub`: an in-process hub under publishers and subscribers speaking raw
//! frames over TCP on 127.0.0.1 (`raw_client.rs`), and, with `--nats URL`, the same workloads
//! against a nats-server, side by side (with the lean NATS client, or async-nats in a build
//! with the `nats-bench` feature). `rpc.rs` has
//! the calls, `bridge.rs` the same rows across a bridge.
//!
//! - pub/sub: 1 -> 1, 1 -> 4 (fan-out) and 4 -> 1 (fan-in), for each body size. The figure is
//!   MESSAGEs *received* by subscribers inside the window, per second; drops are
//!   `published x subscribers - received` after a drain, so a subscriber that falls behind shows
//!   as drops (or a slow-consumer disconnect), never as a higher rate.
//! - Flow control, the same on both sides: a publisher writes [`FLUSH_EVERY`] publishes and a
//!   PING (NATS: a flush), and keeps at most [`MAX_UNFLUSHED`] PINGs unanswered. A PONG says the
//!   hub routed everything before it, so at most that many batches are in flight per publisher.
//!
//! The clients run on their own tokio runtime of `--client-threads` threads (the same for both
//! systems), so that a hub or a nats-server is measured and not one client thread.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use hubwire_actors::hub::HubLimits;
use hubwire_core::protocol::{kind, Envelope, Headers, MessageFlags, Ping, Publish};
use hubwire_core::pubsub::Channel;
use hubwire_core::Address;
use tokio::io::AsyncWriteExt;
use tokio::runtime::Handle;
use tokio::sync::watch;

use super::hub::InProcessServer;
use super::probe::{await_probe, Prober};
use super::raw_client::{cannot_connect, pattern, pongs, Conn, Over};
use super::side_by_side::{
    on_client_runtime, side_by_side, Ends, NatsClient, Row, SideBySideArgs, Timing, DRAIN_IDLE,
    PATIENCE,
};
use super::stats::{thousands, Report, Window};
use super::wire::{bodies, wire_line, Payload, WireMeter};
use super::{Failure, EXIT_USAGE};

/// Publishes written between two PINGs (NATS: between two flushes).
pub(super) const FLUSH_EVERY: u64 = 1024;
/// PINGs (flushes) a publisher leaves unanswered before it waits.
pub(super) const MAX_UNFLUSHED: usize = 2;
/// The channel published to (NATS: `bench.pubsub`).
pub(super) const PUBSUB_CHANNEL: &str = "bench/pubsub";

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
    /// Measure the in-process hub through its `nats://` listener with the NATS client (the
    /// client of --nats), instead of hubwire's own protocol: the hub and a nats-server side by
    /// side with the same client.
    #[arg(long)]
    pub via_nats: bool,
    /// The NATS client of the NATS rows (and of the hub's rows with --via-nats).
    #[arg(long, value_enum, default_value_t = NatsClient::Lean)]
    pub nats_client: NatsClient,
    /// Compression and payload of the hubwire side (NATS has no compression for clients).
    #[command(flatten)]
    pub wire: super::wire::WireArgs,
    /// Run the hub's side over TLS with certificates in DIR (`ca.pem`, `cert.pem`, `key.pem`,
    /// made for localhost and 127.0.0.1 if missing); a tls:// --nats URL is dialled trusting
    /// the same `ca.pem` (start nats-server with `--tls --tlscert DIR/cert.pem --tlskey
    /// DIR/key.pem`).
    #[arg(long, value_name = "DIR")]
    pub tls: Option<std::path::PathBuf>,
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
    /// TCP bytes to and from the hub inside the window, both directions, where measured.
    pub wire_bytes: Option<super::wire::Wire>,
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

/// The name of a pub/sub row: `1 -> 4, 128 B`.
pub(super) fn row_name(shape: Shape, size: usize) -> String {
    format!(
        "{} -> {}, {size} B msg/s",
        shape.publishers, shape.subscribers
    )
}

/// The subscribers of a pub/sub row, on their own runtime: each connected and subscribed before
/// the window opens, then counting until it has what was published or the drain ends.
pub(super) struct Subscribers<T = PubsubRun> {
    handle: Handle,
    window: watch::Sender<Option<Window>>,
    tasks: Vec<tokio::task::JoinHandle<Result<T, Failure>>>,
}

/// What subscribers count, added up over all of them.
pub(super) trait Tally: Default + Send + 'static {
    /// Adds one subscriber's figures.
    fn merge(&mut self, other: Self);
}

impl Tally for PubsubRun {
    fn merge(&mut self, other: PubsubRun) {
        PubsubRun::merge(self, other);
    }
}

impl<T: Tally> Subscribers<T> {
    pub fn new(handle: Handle) -> Subscribers<T> {
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
        RF: std::future::Future<Output = T> + Send,
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
    pub async fn finish(self) -> Result<T, Failure> {
        let mut run = T::default();
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
pub(super) fn start_hub() -> Result<(InProcessServer, SocketAddr), Failure> {
    start_hub_with(Vec::new(), None)
}

/// [`start_hub`] allowing `compression`, and listening on `tls://` with `tls` if given.
pub(super) fn start_hub_with(
    compression: Vec<hubwire_core::compression::Algorithm>,
    tls: Option<&super::wire::TlsFiles>,
) -> Result<(InProcessServer, SocketAddr), Failure> {
    let listen: Address = match tls {
        Some(_) => "tls://127.0.0.1:0".parse().expect("a valid address"),
        None => Address::tcp(([127, 0, 0, 1], 0).into()),
    };
    let config = hubwire_core::Config {
        listen: vec![listen],
        compression,
        tls: tls.map(super::wire::TlsFiles::server),
        ..hubwire_core::Config::default()
    };
    let hub: super::hub::Routes = Box::new(|b| Ok(b.hub(HubLimits::default())));
    let server = InProcessServer::with_config(config, hub).map_err(|e| Failure::new(1, e))?;
    let addr = server
        .address
        .socket_addr()
        .ok_or_else(|| Failure::new(1, "the hub has no TCP address"))?;
    Ok((server, addr))
}

/// An in-process hub (default limits) with only a `nats://` listener on 127.0.0.1, stopped
/// when dropped, and its URL.
pub(super) fn start_nats_hub() -> Result<(InProcessServer, String), Failure> {
    let listen: Address = "nats://127.0.0.1:0".parse().expect("a valid address");
    let server = InProcessServer::start(listen, Box::new(|b| Ok(b.hub(HubLimits::default()))))
        .map_err(|e| Failure::new(1, e))?;
    let url = server.address.to_string();
    Ok((server, url))
}

/// `hubwire bench pubsub --via-nats`: every row through the in-process hub's `nats://`
/// listener and, with --nats, against that nats-server, both with the NATS client.
async fn bench_pubsub_via_nats(args: &PubsubArgs, timing: Timing) -> Result<Report, Failure> {
    let (server, url) = start_nats_hub()?;
    println!(
        "bench pubsub --via-nats: hub at {url} (in-process, {}){}; {} s measured \
         after {} s warmup; {} on both sides; {} client threads",
        server.threads(),
        args.run
            .nats
            .as_deref()
            .map_or(String::new(), |u| format!(", NATS at {u}")),
        timing.duration.as_secs_f64(),
        timing.warmup.as_secs_f64(),
        args.nats_client.name(),
        args.run.client_threads
    );
    let mut rows = Vec::new();
    let mut received = 0;
    for &size in &args.sizes {
        for shape in args.shape.map_or(SHAPES.to_vec(), |one| vec![one]) {
            let clients = (args.nats_client, args.run.client_threads);
            let hub = nats_client_pubsub(clients, url.clone(), shape, size, timing).await?;
            received += hub.received_in_window;
            let nats = match &args.run.nats {
                Some(nats) => {
                    Some(nats_client_pubsub(clients, nats.clone(), shape, size, timing).await?)
                }
                None => None,
            };
            let row = pubsub_row(shape, size, timing.duration, &hub, nats.as_ref());
            println!(
                "  {}: hub (NATS client) {}{}",
                row.name,
                thousands(row.hub),
                drops_note("", &hub, shape)
            );
            if let Some(n) = &nats {
                println!(
                    "  {}: nats-server       {}{}",
                    row.name,
                    thousands(n.per_second(timing.duration)),
                    drops_note("", n, shape)
                );
            }
            rows.push(row);
        }
    }
    drop(server);
    println!(
        "\npub/sub through {}, messages/s received by subscribers:",
        args.nats_client.name()
    );
    print!("{}", side_by_side(&rows));
    Ok(count_only(received, timing.duration))
}

/// Runs `hubwire bench pubsub`.
pub(super) async fn bench_pubsub(args: &PubsubArgs) -> Result<Report, Failure> {
    let tls_url = args
        .run
        .nats
        .as_deref()
        .is_some_and(|u| u.starts_with("tls://"));
    if tls_url && args.nats_client == NatsClient::Lean {
        return Err(Failure::new(
            EXIT_USAGE,
            "the lean NATS client dials nats:// only: add --nats-client async-nats for a tls:// \
             --nats URL",
        ));
    }
    let async_nats = args.nats_client == NatsClient::AsyncNats;
    let timing = args
        .run
        .check_with(async_nats && (args.via_nats || args.run.nats.is_some()))
        .map_err(|e| Failure::new(EXIT_USAGE, e))?;
    if args.sizes.is_empty() || args.sizes.iter().any(|&s| s > 1 << 20) {
        return Err(Failure::new(
            EXIT_USAGE,
            "--sizes must be 0..=1048576 bytes each",
        ));
    }
    if args.via_nats {
        return bench_pubsub_via_nats(args, timing).await;
    }
    let tls = match &args.tls {
        Some(dir) => Some(super::wire::certificates(dir)?),
        None => None,
    };
    let over = Over {
        compression: args.wire.compression.algorithms(),
        tls: tls
            .as_ref()
            .map(super::wire::TlsFiles::client)
            .transpose()?,
    };
    #[cfg(feature = "nats-bench")]
    if let Some(tls) = &tls {
        super::nats::trust(tls.ca.clone());
    }
    let (server, addr) = start_hub_with(over.compression.clone(), tls.as_ref())?;
    println!(
        "bench pubsub: hub at {}://{addr} (compression {:?}, payload {:?}) (in-process, {}){}; {} s measured after {} s \
         warmup; a PING every {FLUSH_EVERY} publishes, at most {MAX_UNFLUSHED} unanswered; \
         {} client threads; NATS rows with {}",
        if tls.is_some() { "tls" } else { "tcp" },
        args.wire.compression,
        args.wire.payload,
        server.threads(),
        args.run
            .nats
            .as_deref()
            .map_or(String::new(), |u| format!(", NATS at {u}")),
        timing.duration.as_secs_f64(),
        timing.warmup.as_secs_f64(),
        args.run.client_threads,
        args.nats_client.name()
    );
    let mut rows = Vec::new();
    let mut received = 0;
    let payload = args.wire.payload;
    for &size in &args.sizes {
        let shapes = args.shape.map_or(SHAPES.to_vec(), |one| vec![one]);
        for shape in shapes {
            let over = over.clone();
            let sent = Sent {
                size,
                payload,
                over,
                meter: Some(addr.port()),
            };
            let hub = on_client_runtime(args.run.client_threads, move |subscribers| {
                hub_pubsub_over(subscribers, Ends::one(addr), shape, sent, timing)
            })
            .await?;
            let wire = hub.wire_bytes;
            received += hub.received_in_window;
            println!(
                "{}",
                wire_line(wire, hub.received_in_window, "message received")
            );
            let nats = match &args.run.nats {
                Some(url) => Some(
                    nats_client_pubsub(
                        (args.nats_client, args.run.client_threads),
                        url.clone(),
                        shape,
                        size,
                        timing,
                    )
                    .await?,
                ),
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
pub(super) fn count_only(completed: u64, window: Duration) -> Report {
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

/// One pub/sub row against the NATS server at `url` with `clients` (which client, how many
/// threads), on fresh client runtimes.
pub(super) async fn nats_client_pubsub(
    clients: (NatsClient, usize),
    url: String,
    shape: Shape,
    size: usize,
    timing: Timing,
) -> Result<PubsubRun, Failure> {
    match clients {
        (NatsClient::Lean, threads) => {
            on_client_runtime(threads, move |subscribers| {
                super::lean_nats_load::pubsub(subscribers, url, shape, size, timing)
            })
            .await
        }
        (NatsClient::AsyncNats, threads) => {
            nats_pubsub(threads, Ends::one(url), shape, size, timing).await
        }
    }
}

/// One pub/sub row against the nats-servers at `urls` (publishers near, subscribers far), on
/// fresh client runtimes, with `async-nats`.
#[cfg(feature = "nats-bench")]
pub(super) async fn nats_pubsub(
    threads: usize,
    urls: Ends<String>,
    shape: Shape,
    size: usize,
    timing: Timing,
) -> Result<PubsubRun, Failure> {
    on_client_runtime(threads, move |subscribers| {
        super::nats::pubsub(subscribers, urls, shape, size, timing)
    })
    .await
}

#[cfg(not(feature = "nats-bench"))]
pub(super) async fn nats_pubsub(
    _: usize,
    _: Ends<String>,
    _: Shape,
    _: usize,
    _: Timing,
) -> Result<PubsubRun, Failure> {
    Err(Failure::new(
        EXIT_USAGE,
        "async-nats needs a build with `--features nats-bench`",
    ))
}

/// One pub/sub row: publishers on the hub at `ends.near`, subscribers on `ends.far`. Across a
/// bridge, each subscriber is ready only once a probe published near has reached it, so the
/// window does not open while its interest is still crossing.
pub(super) async fn hub_pubsub(
    subscriber_runtime: Handle,
    ends: Ends<SocketAddr>,
    shape: Shape,
    size: usize,
    timing: Timing,
) -> Result<PubsubRun, Failure> {
    let sent = Sent {
        size,
        payload: Payload::Letters,
        over: Over::default(),
        meter: None,
    };
    hub_pubsub_over(subscriber_runtime, ends, shape, sent, timing).await
}

/// What publishers send, and how every client reaches the hub.
#[derive(Debug, Clone)]
pub(super) struct Sent {
    /// Body bytes.
    pub size: usize,
    /// What the bodies hold.
    pub payload: Payload,
    /// TLS and compression.
    pub over: Over,
    /// The hub's port, to measure the bytes on the wire at.
    pub meter: Option<u16>,
}

/// [`hub_pubsub`] with the bodies and the connections of `sent`.
pub(super) async fn hub_pubsub_over(
    subscriber_runtime: Handle,
    ends: Ends<SocketAddr>,
    shape: Shape,
    sent: Sent,
    timing: Timing,
) -> Result<PubsubRun, Failure> {
    let expected = Arc::new(AtomicU64::new(u64::MAX));
    let prober = match ends.across() {
        true => Some(Prober::start(ends.near).await?),
        false => None,
    };
    let mut subscribers = Subscribers::new(subscriber_runtime);
    for _ in 0..shape.subscribers {
        let expected = expected.clone();
        let over = sent.over.clone();
        let setup = move || async move {
            let mut conn = Conn::connect_over(ends.far, &over)
                .await
                .map_err(cannot_connect)?;
            let channel = pattern(PUBSUB_CHANNEL)?;
            conn.subscribe(channel).await.map_err(cannot_connect)?;
            if ends.across() {
                await_probe(&mut conn).await.map_err(cannot_connect)?;
            }
            Ok(conn)
        };
        let count = move |conn, window| hub_subscriber(conn, window, expected);
        subscribers.add(setup, count).await?;
    }
    let mut publishers = Vec::new();
    for _ in 0..shape.publishers {
        let conn = Conn::connect_over(ends.near, &sent.over).await;
        publishers.push(conn.map_err(cannot_connect)?);
    }
    drop(prober);
    let window = timing.window();
    let meter = WireMeter::start(window, sent.meter);
    subscribers.start(window);
    let publishers: Vec<_> = publishers
        .into_iter()
        .map(|conn| tokio::spawn(hub_publisher(conn, bodies(sent.payload, sent.size), window)))
        .collect();
    let mut published = 0;
    let mut done = Vec::new();
    for one in publishers {
        let (count, conn) = one
            .await
            .map_err(|e| Failure::new(1, format!("a publisher failed: {e}")))?
            .map_err(|e| Failure::new(1, format!("a publisher: {e}")))?;
        published += count;
        done.push(conn);
    }
    let wire_bytes = meter.bytes().await;
    expected.store(published, Ordering::SeqCst);
    let mut run = subscribers.finish().await?;
    run.published = published;
    run.wire_bytes = wire_bytes;
    drop(done);
    Ok(run)
}

/// Publishes batches of [`FLUSH_EVERY`] and a PING until the window closes, keeping at most
/// [`MAX_UNFLUSHED`] PINGs unanswered; returns the publishes acknowledged.
async fn hub_publisher(
    mut conn: Conn,
    bodies: Vec<Bytes>,
    window: Window,
) -> std::io::Result<(u64, Conn)> {
    let channel = Channel::parse(PUBSUB_CHANNEL).map_err(std::io::Error::other)?;
    let publishes: Vec<Publish> = bodies
        .into_iter()
        .map(|body| Publish {
            channel: channel.clone(),
            flags: MessageFlags::NONE,
            reply_to: None,
            headers: Headers::new(),
            body,
        })
        .collect();
    let (mut batches, mut unanswered) = (0u64, 0usize);
    let mut turn = 0;
    let mut out = BytesMut::new();
    while window.open(Instant::now()) {
        out.clear();
        for _ in 0..FLUSH_EVERY {
            publishes[turn % publishes.len()]
                .write_frame(&mut out)
                .map_err(std::io::Error::other)?;
            turn += 1;
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
    // The connection is handed back, to close after the bytes on the wire are sampled.
    Ok((batches * FLUSH_EVERY, conn))
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

#[cfg(test)]
#[path = "pubsub_tests.rs"]
mod tests;
