//! `hubwire bench bounds`: what peers that misbehave cost an in-process server, in resident
//! memory (this process's RSS, which is the server's: the raw clients hold next to nothing).
//!
//! - A peer that sends a million PINGs and never reads the PONGs.
//! - A peer that sends a million echo requests and never reads the replies.
//! - Bursts of simultaneous connections that open, handshake and close.
//!
//! Each row reports RSS growth next to the bound the server is configured with.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use hubwire_core::protocol::{kind, Envelope, Hello, Ping, Request, Subscribe, PROTOCOL_VERSION};
use hubwire_core::{Address, Config};
use tokio::io::AsyncWriteExt;

use super::hub::{BenchEcho, Echoer, InProcessServer};
use super::pubsub::count_only;
use super::raw_client::Conn;
use super::stats::Report;
use super::{request_body, Failure, EXIT_CANNOT_CONNECT};

/// Arguments of `hubwire bench bounds`.
#[derive(Debug, Clone, clap::Args)]
pub struct BoundsArgs {
    /// The server's max_outbound_bytes, in MiB.
    #[arg(long, default_value_t = 8)]
    pub bound_mib: usize,
    /// Frames each non-reading peer sends.
    #[arg(long, default_value_t = 1_000_000)]
    pub frames: usize,
    /// Simultaneous connections per burst.
    #[arg(long, default_value_t = 2_000)]
    pub connections: usize,
    /// Bursts of connections, one after the other.
    #[arg(long, default_value_t = 3)]
    pub bursts: usize,
    /// SUBSCRIBE frames one peer writes at once to a hub.
    #[arg(long, default_value_t = 25_000)]
    pub subscribes: u64,
}

/// Resident memory of this process, in bytes.
fn rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: usize = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0);
    kib * 1024
}

fn mib(bytes: isize) -> String {
    format!("{:+.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Sends `frames` (built by `frame`) without ever reading, until they are all written or the
/// server has stopped taking them for `quiet`; answers how many were written.
async fn flood(
    addr: SocketAddr,
    frames: usize,
    frame: impl Fn(u64) -> BytesMut,
) -> Result<usize, String> {
    let mut conn = Conn::connect(addr).await.map_err(|e| e.to_string())?;
    let mut chunk = BytesMut::new();
    const PER_WRITE: usize = 1000;
    for i in 0..PER_WRITE {
        chunk.extend_from_slice(&frame(i as u64 + 1));
    }
    let mut sent = 0;
    while sent < frames {
        let write = conn.stream.write_all(&chunk);
        match tokio::time::timeout(Duration::from_secs(2), write).await {
            Ok(Ok(())) => sent += PER_WRITE,
            // Held back (or cut off): the server stopped reading.
            Ok(Err(_)) | Err(_) => break,
        }
    }
    // Let the server settle with what it read, then measure with the peer still connected.
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(conn);
    Ok(sent)
}

/// Floods without reading (see [`flood`]) and prints the row: RSS growth and frames taken.
async fn non_reader_row(
    row: &str,
    addr: SocketAddr,
    frames: usize,
    frame: impl Fn(u64) -> BytesMut,
) -> Result<(), String> {
    let before = rss();
    let taken = flood(addr, frames, frame).await?;
    let grown = rss() as isize - before as isize;
    println!("{row:<44} {:>12} {taken:>12}", mib(grown));
    Ok(())
}

/// Connects and completes the handshake with no more memory than that takes (the bench's
/// own buffers must not be what is measured).
async fn lean_connect(addr: SocketAddr) -> std::io::Result<tokio::net::TcpStream> {
    use tokio::io::AsyncReadExt;
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let hello = Hello {
        version: PROTOCOL_VERSION,
        agent: "hubwire-bench".into(),
        max_frame: 1 << 20,
        max_in_flight: 0,
    };
    stream
        .write_all(&hello.to_frame_bytes().map_err(std::io::Error::other)?)
        .await?;
    let mut answer = [0u8; 256];
    let n = stream.read(&mut answer).await?;
    if n < 6 || u16::from_be_bytes([answer[4], answer[5]]) != kind::CONN {
        return Err(std::io::Error::other("no CONN answer"));
    }
    Ok(stream)
}

/// Opens `n` connections at once (each through the handshake), then closes them all.
async fn burst(addr: SocketAddr, n: usize) -> Result<usize, String> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        tasks.spawn(lean_connect(addr));
    }
    let mut opened = Vec::with_capacity(n);
    while let Some(conn) = tasks.join_next().await {
        if let Ok(Ok(conn)) = conn {
            opened.push(conn);
        }
    }
    let ok = opened.len();
    drop(opened);
    Ok(ok)
}

/// Runs `hubwire bench bounds`.
pub(super) async fn bench_bounds(args: &BoundsArgs) -> Result<Report, Failure> {
    let bound = args.bound_mib * 1024 * 1024;
    let config = Config {
        listen: vec!["tcp://127.0.0.1:0".parse::<Address>().expect("an address")],
        max_outbound_bytes: bound,
        // Long enough that the flood is measured held back, not cut off.
        outbound_stall_timeout: Duration::from_secs(60),
        max_connections_per_peer: args.connections + 16,
        max_connections_per_listener: args.connections + 16,
        ..Config::default()
    };
    let server = InProcessServer::with_config(
        config,
        Box::new(|builder| Ok(builder.route(BenchEcho, || Echoer))),
    )
    .map_err(|e| Failure::new(EXIT_CANNOT_CONNECT, e))?;
    let addr = server
        .address
        .socket_addr()
        .ok_or_else(|| Failure::new(EXIT_CANNOT_CONNECT, "a TCP address"))?;
    let fail = |e: String| Failure::new(EXIT_CANNOT_CONNECT, e);
    println!(
        "hubwire bench bounds: max_outbound_bytes {} MiB, {} frames per non-reader, {} bursts of {} connections",
        args.bound_mib, args.frames, args.bursts, args.connections
    );
    println!("{:<44} {:>12} {:>12}", "row", "RSS growth", "taken");

    let ping = |nonce| Ping { nonce }.to_frame_bytes().unwrap().into();
    non_reader_row("non-reader: PINGs", addr, args.frames, ping)
        .await
        .map_err(fail)?;
    let body = request_body("echo", 100);
    let request = |id| {
        let request = Request {
            id,
            route: "echo".into(),
            headers: Default::default(),
            body: body.clone(),
        };
        request.to_frame_bytes().unwrap().into()
    };
    non_reader_row("non-reader: echo requests", addr, args.frames, request)
        .await
        .map_err(fail)?;

    tokio::time::sleep(Duration::from_secs(1)).await;
    let base = rss();
    for round in 1..=args.bursts {
        let started = Instant::now();
        let opened = burst(addr, args.connections).await.map_err(fail)?;
        // Closed connections are reaped by the server's threads: give them a moment.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let grown = rss() as isize - base as isize;
        let row = format!(
            "burst {round}: open+close, after ({:.1} s)",
            started.elapsed().as_secs_f64()
        );
        println!("{row:<44} {:>12} {:>12}", mib(grown), opened);
    }
    drop(server);
    subscription_flood(args.subscribes).await.map_err(fail)?;
    // Not a throughput run: one "completed" row says the bench ran to the end.
    Ok(count_only(1, Duration::from_secs(1)))
}

/// One peer writes `count` SUBSCRIBEs and a PING at once to an in-process hub: how long until
/// the PONG (all applied), and the slowest of ten other peers' handshakes meanwhile.
async fn subscription_flood(count: u64) -> Result<(), String> {
    let config = Config {
        listen: vec!["tcp://127.0.0.1:0".parse::<Address>().expect("an address")],
        ..Config::default()
    };
    let limits = hubwire_actors::hub::HubLimits::from(&config);
    let hub = InProcessServer::with_config(config, Box::new(move |b| Ok(b.hub(limits))))?;
    let addr = hub.address.socket_addr().ok_or("a TCP address")?;
    let mut flooder = Conn::connect(addr).await.map_err(|e| e.to_string())?;
    let mut flood = BytesMut::new();
    for sid in 1..=count {
        let pattern = hubwire_core::pubsub::Pattern::parse(&format!("load/{sid}/x"))
            .map_err(|e| e.to_string())?;
        Subscribe::new(sid, pattern)
            .write_frame(&mut flood)
            .map_err(|e| e.to_string())?;
    }
    Ping { nonce: 1 }
        .write_frame(&mut flood)
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    flooder
        .stream
        .write_all(&flood)
        .await
        .map_err(|e| e.to_string())?;
    let mut slowest = Duration::ZERO;
    for _ in 0..10 {
        let asked = Instant::now();
        let _other = lean_connect(addr).await.map_err(|e| e.to_string())?;
        slowest = slowest.max(asked.elapsed());
    }
    loop {
        match flooder.next_frame(Duration::from_secs(30)).await {
            Ok(Some(frame)) if frame.kind == kind::PONG => break,
            Ok(Some(_)) => {}
            other => return Err(format!("no PONG after the flood: {other:?}")),
        }
    }
    let applied = started.elapsed();
    let row = format!("{count} SUBSCRIBEs in one write, applied");
    println!(
        "{row:<44} {:>12}",
        format!("{:.0} ms", applied.as_secs_f64() * 1e3)
    );
    let row = "slowest of 10 handshakes during the flood";
    println!(
        "{row:<44} {:>12}",
        format!("{:.1} ms", slowest.as_secs_f64() * 1e3)
    );
    Ok(())
}
