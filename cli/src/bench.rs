//! `hubwire bench`: load a route with pipelined calls and report throughput and latency, next to
//! a bare echo over the same framing (the floor hubwire is compared with).
//!
//! - `hubwire bench request`: typed clients calling a route (an in-process echo server unless
//!   `--address` names one).
//! - `hubwire bench floor`: a bare tokio echo server and client, no MessagePack, no actors.
//! - `hubwire bench compare`: both, one after the other with the same parameters, and a table.
//! - `hubwire bench queue`: queued routes (acknowledged enqueues on redb and in memory, durable
//!   processing) and a bare redb loop, next to the request floor, in one table.
//! - `hubwire bench sender`: a queued sender's deliveries to an in-process echo route (durable
//!   and in memory), next to the request floor, in one table.
//! - `hubwire bench pubsub` / `hubwire bench rpc`: an in-process hub under raw-frame publishers,
//!   subscribers and callers, and with `--nats URL` the same against a nats-server, side by side.
//! - `hubwire bench bounds`: peers that never read, and bursts of connections, against an
//!   in-process server: RSS growth next to the configured bound.
//! - `hubwire bench bridge`: two bridged in-process hubs, publisher and caller on one,
//!   subscriber and provider on the other; with `--nats URL --nats-b URL` the same across two
//!   clustered nats-servers.
//!
//! - `hubwire bench work`: items/s through a work queue (1 producer, 1, 4 and 16 workers,
//!   durable and in memory), next to NATS JetStream in the same run.
//!
//! Every server the bench starts listens on 127.0.0.1 or on a Unix socket in a fresh temporary
//! directory, and is stopped (and the directory removed) before the command returns.

mod bounds;
mod bridge;
mod floor;
mod hub;
mod lean_nats;
mod lean_nats_load;
#[cfg(feature = "nats-bench")]
mod nats;
mod one_way;
mod probe;
mod pubsub;
mod queue;
mod raw_client;
mod rpc;
mod sender;
mod side_by_side;
mod stats;
mod wire;
mod work;
#[cfg(feature = "nats-bench")]
mod work_nats;

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use hubwire_core::config::DEFAULT_MAX_FRAME;
use hubwire_core::{encode_body, Address, Config};

use floor::{Conn, FloorServer};
use hub::{Calls, EchoMessage, Expect, InProcessServer};
use stats::{human_ns, Report, Window};

use super::{EXIT_CANNOT_CONNECT, EXIT_CONNECTION_LOST, EXIT_OK, EXIT_USAGE};

/// Arguments of `hubwire bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// What to measure.
    #[command(subcommand)]
    pub mode: BenchMode,
    /// `io_spin_us` of the servers and hubs the bench starts in-process (default: the
    /// configuration's, 200); 0 measures them without the poll after reads.
    #[arg(long, global = true)]
    pub io_spin_us: Option<u64>,
}

/// The kinds of bench run.
#[derive(Debug, clap::Subcommand)]
pub enum BenchMode {
    /// Call a route with typed clients (pipelined) and report requests/s and latency.
    Request(RequestArgs),
    /// The floor: a bare tokio echo of the same framing, no MessagePack, no actors.
    Floor(LoadArgs),
    /// Run floor, then request on an in-process server, and print them side by side.
    Compare(LoadArgs),
    /// Queued routes: durable and in-memory enqueues, durable processing and a bare redb loop,
    /// next to the request floor (8 clients x depth 64 unless told otherwise).
    Queue(queue::QueueArgs),
    /// Queued sender: messages sent by producers and delivered to an in-process echo route,
    /// durable and in memory, next to the request floor (8 producers x depth 64).
    Sender(sender::SenderArgs),
    /// Pub/sub on an in-process hub: 1 -> 1, 1 -> 4 and 4 -> 1, messages/s received and drops
    /// (with --nats URL, the same against a nats-server and the ratio per row).
    Pubsub(pubsub::PubsubArgs),
    /// Calls over pub/sub on an in-process hub: one caller's p50/p99 and many callers' calls/s
    /// (with --nats URL, the same against a nats-server).
    Rpc(rpc::RpcArgs),
    /// Pub/sub and calls across a bridge: two bridged in-process hubs, publisher (caller) on
    /// one, subscriber (provider) on the other: 1 -> 1 messages/s, one-way latency and RPC
    /// p50/p99 (with --nats URL --nats-b URL, the same across two clustered nats-servers).
    Bridge(bridge::BridgeArgs),
    /// What misbehaving peers cost an in-process server in memory: a million PINGs and a
    /// million requests from peers that never read, and bursts of connections.
    Bounds(bounds::BoundsArgs),
    /// Work queue: items/s enqueued by 1 producer and acknowledged by 1, 4 and 16 workers,
    /// durable and in memory, next to NATS JetStream (nats-server -js, started by the bench).
    Work(work::WorkArgs),
}

/// The stream transports a bench can start servers on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Transport {
    /// TCP on 127.0.0.1, ephemeral port.
    Tcp,
    /// A Unix socket in a fresh temporary directory.
    Unix,
}

/// The load: how many connections, how many calls in flight on each, how big, how long.
#[derive(Debug, Clone, clap::Args)]
pub struct LoadArgs {
    /// Transport of the servers the bench starts (tcp: 127.0.0.1; unix: a temporary socket).
    #[arg(long, value_enum, default_value_t = Transport::Tcp)]
    pub transport: Transport,
    /// Payload bytes per request (for route echo: the length of the message string).
    #[arg(long, default_value_t = 128)]
    pub size: usize,
    /// Client connections.
    #[arg(long, default_value_t = 1)]
    pub clients: usize,
    /// Calls kept in flight on each connection (1: one synchronous caller).
    #[arg(long, default_value_t = 1)]
    pub depth: usize,
    /// Seconds measured.
    #[arg(long, default_value_t = 5.0)]
    pub duration: f64,
    /// Seconds of load before measuring starts.
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
}

/// Arguments of `hubwire bench request`.
#[derive(Debug, Clone, clap::Args)]
pub struct RequestArgs {
    /// The load.
    #[command(flatten)]
    pub load: LoadArgs,
    /// Server to call: tcp://HOST:PORT, tls://HOST:PORT or unix:///PATH (default: start an in-process echo
    /// server on --transport, and stop it at the end; HUBWIRE_URL is not read here).
    #[arg(
        short = 's',
        long = "server",
        visible_alias = "address",
        value_name = "URL"
    )]
    pub address: Option<String>,
    /// Route key to call. For echo the body is {"message": "<size chars>"}; for any other route
    /// a MessagePack bin of --size bytes.
    #[arg(long, default_value = "echo")]
    pub route: String,
    /// Seconds each call may take before it counts as a timeout.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
    /// For a tls:// --server: the CA file and client certificate.
    #[command(flatten)]
    pub tls: crate::TlsArgs,
    /// Compression (the in-process server allows it) and what the echo bodies hold.
    #[command(flatten)]
    pub wire: wire::WireArgs,
}

/// Checked load parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Plan {
    transport: Transport,
    size: usize,
    clients: usize,
    depth: usize,
    warmup: Duration,
    duration: Duration,
}

/// Room left in a frame for the envelope around the largest body.
const ENVELOPE_ROOM: usize = 1024;

impl LoadArgs {
    fn plan(&self) -> Result<Plan, String> {
        let seconds = |name: &str, value: f64, zero_ok: bool| {
            if value.is_finite() && (value > 0.0 || (zero_ok && value == 0.0)) && value < 1e6 {
                Ok(Duration::from_secs_f64(value))
            } else {
                Err(format!("--{name} must be a positive number of seconds"))
            }
        };
        if self.clients == 0 || self.depth == 0 {
            return Err("--clients and --depth must be at least 1".into());
        }
        if self.size > DEFAULT_MAX_FRAME - ENVELOPE_ROOM {
            return Err(format!(
                "--size must be at most {} bytes (the default maximum frame less room for the envelope)",
                DEFAULT_MAX_FRAME - ENVELOPE_ROOM
            ));
        }
        Ok(Plan {
            transport: self.transport,
            size: self.size,
            clients: self.clients,
            depth: self.depth,
            warmup: seconds("warmup", self.warmup, true)?,
            duration: seconds("duration", self.duration, false)?,
        })
    }
}

impl Plan {
    fn describe(&self) -> String {
        format!(
            "{} client{} x depth {}, {} s measured after {} s warmup",
            self.clients,
            if self.clients == 1 { "" } else { "s" },
            self.depth,
            self.duration.as_secs_f64(),
            self.warmup.as_secs_f64()
        )
    }

    fn window(&self) -> Window {
        Window::starting_now(self.warmup, self.duration)
    }
}

/// The request body of `size` bytes for `route`: for `echo`, the map `{"message": "<size ASCII
/// chars>"}` the echo route takes; for any other route, a MessagePack `bin` of `size` bytes.
pub fn request_body(route: &str, size: usize) -> Bytes {
    if route == "echo" {
        let message = (0..size)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        return encode_body(&EchoMessage { message }).expect("a string map always encodes");
    }
    let mut out = Vec::with_capacity(size + 5);
    match u8::try_from(size) {
        Ok(len) => out.extend_from_slice(&[0xc4, len]),
        Err(_) => match u16::try_from(size) {
            Ok(len) => {
                out.push(0xc5);
                out.extend_from_slice(&len.to_be_bytes());
            }
            Err(_) => {
                out.push(0xc6);
                out.extend_from_slice(&(size as u32).to_be_bytes());
            }
        },
    }
    out.extend((0..size).map(|i| (i % 251) as u8));
    Bytes::from(out)
}

/// A request body of `size` bytes of `payload` for `route` (see [`request_body`]).
fn payload_body(route: &str, size: usize, payload: wire::Payload, seed: u64) -> Bytes {
    let text = wire::text(payload, size, seed);
    if route == "echo" {
        return encode_body(&EchoMessage { message: text }).expect("a string map always encodes");
    }
    // The same bin header, then the payload's bytes.
    let mut bytes = request_body(route, size).to_vec();
    bytes.truncate(bytes.len() - size);
    bytes.extend_from_slice(text.as_bytes());
    Bytes::from(bytes)
}

/// A failed bench run: the exit code and what to say.
#[derive(Debug)]
struct Failure {
    code: i32,
    message: String,
}

impl Failure {
    fn new(code: i32, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }
}

/// A fresh private temporary directory, removed (with what is in it) when dropped.
#[derive(Debug)]
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir, Failure> {
        use std::os::unix::fs::DirBuilderExt;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path =
            std::env::temp_dir().join(format!("hubwire-bench-{}-{nanos:09}", std::process::id()));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .map_err(|e| Failure::new(1, format!("cannot create {}: {e}", path.display())))?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Where a server the bench starts listens: an ephemeral port on 127.0.0.1, or `name` in a
/// fresh temporary directory (returned, to be dropped after the server).
fn listen_address(transport: Transport, name: &str) -> Result<(Address, Option<TempDir>), Failure> {
    match transport {
        Transport::Tcp => Ok((Address::tcp(([127, 0, 0, 1], 0).into()), None)),
        Transport::Unix => {
            let dir = TempDir::new()?;
            Ok((Address::Unix(dir.0.join(name)), Some(dir)))
        }
    }
}

/// Runs `hubwire bench`; returns the exit code.
pub async fn bench(args: BenchArgs) -> i32 {
    if let Some(us) = args.io_spin_us {
        hub::set_io_spin(Duration::from_micros(us));
    }
    let result = match args.mode {
        BenchMode::Request(args) => bench_request(&args)
            .await
            .inspect(|report| print!("{}", report.lines())),
        BenchMode::Floor(args) => bench_floor(&args)
            .await
            .inspect(|report| print!("{}", report.lines())),
        BenchMode::Compare(args) => bench_compare(&args).await,
        BenchMode::Queue(args) => queue::bench_queue(&args).await,
        BenchMode::Sender(args) => sender::bench_sender(&args).await,
        BenchMode::Pubsub(args) => pubsub::bench_pubsub(&args).await,
        BenchMode::Rpc(args) => rpc::bench_rpc(&args).await,
        BenchMode::Bridge(args) => bridge::bench_bridge(&args).await,
        BenchMode::Bounds(args) => bounds::bench_bounds(&args).await,
        BenchMode::Work(args) => work::bench_work(&args).await,
    };
    match result {
        Ok(report) if report.completed == 0 => {
            eprintln!("hubwire bench: no request succeeded");
            EXIT_CONNECTION_LOST
        }
        Ok(_) => EXIT_OK,
        Err(failure) => {
            eprintln!("hubwire bench: {}", failure.message);
            failure.code
        }
    }
}

async fn bench_request(args: &RequestArgs) -> Result<Report, Failure> {
    let plan = args.load.plan().map_err(|e| Failure::new(EXIT_USAGE, e))?;
    if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout < 1e6) {
        return Err(Failure::new(
            EXIT_USAGE,
            "--timeout must be a positive number of seconds",
        ));
    }
    // Letters: one body, as ever. Text and random: many different bodies, sent in turn.
    let bodies: Vec<Bytes> = match args.wire.payload {
        wire::Payload::Letters => Vec::new(),
        payload => (0..wire::DISTINCT_BODIES as u64)
            .map(|seed| payload_body(&args.route, plan.size, payload, seed))
            .collect(),
    };
    let compression = args.wire.compression.algorithms();
    let calls = Calls {
        route: args.route.clone(),
        body: request_body(&args.route, plan.size),
        bodies: bodies.into(),
        expect: if args.route == "echo" {
            Expect::Echo
        } else {
            Expect::Any
        },
        timeout: Duration::from_secs_f64(args.timeout),
        gate: None,
    };
    match &args.address {
        Some(address) => {
            let address: Address = address
                .parse()
                .map_err(|e: hubwire_core::AddressError| Failure::new(EXIT_USAGE, e.to_string()))?;
            println!(
                "hubwire: route {} at {address}, {}-byte body, {}",
                calls.route,
                calls.body.len(),
                plan.describe()
            );
            let tls = args.tls.client().map_err(|e| Failure::new(EXIT_USAGE, e))?;
            load_hub(&address, tls, compression, &plan, &calls).await
        }
        None => run_hub_in_process(&plan, &calls, compression).await,
    }
}

/// Starts the in-process echo server on the plan's transport, loads it, stops it.
async fn run_hub_in_process(
    plan: &Plan,
    calls: &Calls,
    compression: Vec<hubwire_core::compression::Algorithm>,
) -> Result<Report, Failure> {
    let (listen, dir) = listen_address(plan.transport, "hubwire.sock")?;
    let config = Config {
        listen: vec![listen],
        compression: compression.clone(),
        ..Config::default()
    };
    let server =
        InProcessServer::with_config(config, hub::echo_routes()).map_err(|e| Failure::new(1, e))?;
    println!(
        "hubwire: route {} at {} (in-process server, {}), {}-byte body, {}",
        calls.route,
        server.address,
        server.threads(),
        calls.body.len(),
        plan.describe()
    );
    let report = load_hub(&server.address, None, compression, plan, calls).await;
    drop(server);
    drop(dir);
    report
}

async fn load_hub(
    address: &Address,
    tls: Option<hubwire_core::tls::TlsClient>,
    compression: Vec<hubwire_core::compression::Algorithm>,
    plan: &Plan,
    calls: &Calls,
) -> Result<Report, Failure> {
    let clients = hub::connect(address, plan.clients, calls.timeout, tls, compression)
        .await
        .map_err(|e| Failure::new(EXIT_CANNOT_CONNECT, e.to_string()))?;
    let window = plan.window();
    let port = address.socket_addr().map(|a| a.port());
    let meter = wire::WireMeter::start(window, port);
    let sample = hub::drive(&clients, plan.depth, calls, window).await;
    drop(clients);
    let report = Report::new(sample, plan.duration);
    println!(
        "{}",
        wire::wire_line(meter.bytes().await, report.completed, "request")
    );
    Ok(report)
}

async fn bench_floor(args: &LoadArgs) -> Result<Report, Failure> {
    let plan = args.plan().map_err(|e| Failure::new(EXIT_USAGE, e))?;
    let (listen, dir) = listen_address(plan.transport, "floor.sock")?;
    let threads = Config::default().io_thread_count();
    let server =
        FloorServer::start(&listen, threads, DEFAULT_MAX_FRAME).map_err(|e| Failure::new(1, e))?;
    let frame = floor::floor_frame(plan.size);
    println!(
        "floor: bare tokio echo at {} ({threads} I/O threads), {}-byte frames, {}",
        server.address,
        frame.len(),
        plan.describe()
    );
    let mut conns = Vec::with_capacity(plan.clients);
    for _ in 0..plan.clients {
        let conn = Conn::connect(&server.address).await.map_err(|e| {
            Failure::new(
                EXIT_CANNOT_CONNECT,
                format!("cannot connect to {}: {e}", server.address),
            )
        })?;
        conns.push(conn);
    }
    let window = plan.window();
    let loops: Vec<_> = conns
        .into_iter()
        .map(|conn| tokio::spawn(floor::drive(conn, frame.clone(), plan.depth, window)))
        .collect();
    let mut sample = stats::Sample::default();
    for one in loops {
        match one.await {
            Ok(part) => sample.merge(part),
            Err(e) => sample.error(format!("load task failed: {e}"), 1),
        }
    }
    drop(server);
    drop(dir);
    Ok(Report::new(sample, plan.duration))
}

async fn bench_compare(args: &LoadArgs) -> Result<Report, Failure> {
    let floor = bench_floor(args).await?;
    print!("{}", floor.lines());
    let request = RequestArgs {
        load: args.clone(),
        address: None,
        route: "echo".into(),
        timeout: 10.0,
        tls: crate::TlsArgs::default(),
        wire: Default::default(),
    };
    let hub = bench_request(&request).await?;
    print!("{}", hub.lines());
    let transport = match args.transport {
        Transport::Tcp => "tcp",
        Transport::Unix => "unix",
    };
    println!();
    println!(
        "compare over {transport}, size {}, {}:",
        args.size,
        args.plan().map(|p| p.describe()).unwrap_or_default()
    );
    print!("{}", compare_table(&floor, &hub));
    Ok(hub)
}

/// The side-by-side table of a floor and a hubwire report.
fn compare_table(floor: &Report, hub: &Report) -> String {
    fn ratio(hub: Option<f64>, floor: Option<f64>) -> String {
        match (hub, floor) {
            (Some(h), Some(f)) if f > 0.0 => format!("{:.2}", h / f),
            _ => "-".into(),
        }
    }
    let ns = |v: Option<u64>| v.map(|v| v as f64);
    let mut rows = vec![(
        "requests/s".to_owned(),
        format!("{:.0}", floor.per_second()),
        format!("{:.0}", hub.per_second()),
        ratio(Some(hub.per_second()), Some(floor.per_second())),
        "higher",
    )];
    let latencies = [
        ("latency p50", floor.p50_ns, hub.p50_ns),
        ("latency p99", floor.p99_ns, hub.p99_ns),
        ("latency max", floor.max_ns, hub.max_ns),
        ("latency mean", floor.mean_ns, hub.mean_ns),
    ];
    for (name, f, h) in latencies {
        rows.push((
            name.to_owned(),
            human_ns(f),
            human_ns(h),
            ratio(ns(h), ns(f)),
            "lower",
        ));
    }
    rows.push((
        "errors".to_owned(),
        floor.error_total().to_string(),
        hub.error_total().to_string(),
        "-".into(),
        "lower",
    ));
    let mut out = format!(
        "  {:<14}{:>14}{:>14}{:>16}  {}\n",
        "metric", "floor", "hubwire", "hubwire/floor", "better"
    );
    for (name, f, h, r, better) in rows {
        out.push_str(&format!("  {name:<14}{f:>14}{h:>14}{r:>16}  {better}\n"));
    }
    out.push_str(
        "  (requests/s: a ratio under 1 is hubwire's slowdown; latency: a ratio over 1 is hubwire's overhead)\n",
    );
    out
}

#[cfg(test)]
mod tests;
