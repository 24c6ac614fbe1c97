//! `hubwire bench rpc`: calls over pub/sub on an in-process hub (a provider answering on each
//! call's reply-to, callers with one inbox and one call in flight each), and with `--nats URL`
//! the same against a nats-server: 1 caller (p50, p99) and `--callers` (calls/s).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use hubwire_core::protocol::{kind, Envelope, Headers, Inbox, Message, MessageFlags, Publish};
use hubwire_core::pubsub::Channel;
use tokio::io::AsyncWriteExt;

use super::probe::PROBE_PATIENCE;
use super::pubsub::start_hub;
use super::raw_client::{cannot_connect, pattern, Conn};
use super::side_by_side::{
    body, on_client_runtime, side_by_side, Ends, NatsClient, Row, SideBySideArgs, Timing, PATIENCE,
};
use super::stats::{Report, Sample, Window};
use super::{Failure, EXIT_USAGE};

/// The channel the provider serves (NATS: `bench.rpc`).
pub(super) const RPC_CHANNEL: &str = "bench/rpc";

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
    /// Measure the in-process hub through its `nats://` listener with the NATS client (the
    /// client of --nats: a NATS responder, NATS requests), instead of hubwire's own protocol.
    #[arg(long)]
    pub via_nats: bool,
    /// The NATS client of the NATS rows (and of the hub's rows with --via-nats).
    #[arg(long, value_enum, default_value_t = NatsClient::Lean)]
    pub nats_client: NatsClient,
}

/// Runs `hubwire bench rpc`.
pub(super) async fn bench_rpc(args: &RpcArgs) -> Result<Report, Failure> {
    let async_nats = args.nats_client == NatsClient::AsyncNats;
    let timing = args
        .run
        .check_with(async_nats && (args.via_nats || args.run.nats.is_some()))
        .map_err(|e| Failure::new(EXIT_USAGE, e))?;
    if args.callers == 0 || args.size > 1 << 20 {
        return Err(Failure::new(
            EXIT_USAGE,
            "--callers must be at least 1 and --size at most 1 MiB",
        ));
    }
    let (server, addr) = start_hub()?;
    println!(
        "bench rpc: hub at tcp://{addr} (in-process, {}){}; {}-byte calls echoed by one provider, one \
         call in flight per caller; {} s measured after {} s warmup",
        server.threads(),
        args.run.nats.as_deref().map_or(String::new(), |u| format!(
            ", NATS at {u} with {}",
            args.nats_client.name()
        )),
        args.size,
        timing.duration.as_secs_f64(),
        timing.warmup.as_secs_f64()
    );
    let threads = args.run.client_threads;
    let clients = (args.nats_client, threads);
    let (size, callers) = (args.size, args.callers);
    let (sync, many) = if args.via_nats {
        drop(server);
        let (server, url) = super::pubsub::start_nats_hub()?;
        println!(
            "  (--via-nats: the hub measured at {url} with {})",
            args.nats_client.name()
        );
        let sync = nats_client_rpc(clients, url.clone(), 1, size, timing).await?;
        let many = nats_client_rpc(clients, url, callers, size, timing).await?;
        drop(server);
        (sync, many)
    } else {
        let ends = Ends::one(addr);
        let sync = on_client_runtime(threads, move |_| hub_rpc(ends, 1, size, timing)).await?;
        let many =
            on_client_runtime(threads, move |_| hub_rpc(ends, callers, size, timing)).await?;
        drop(server);
        (sync, many)
    };
    let (nats_sync, nats_many) = match &args.run.nats {
        Some(url) => (
            Some(nats_client_rpc(clients, url.clone(), 1, size, timing).await?),
            Some(nats_client_rpc(clients, url.clone(), callers, size, timing).await?),
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
    let mut rows = sync_rows("1 caller", sync, nats_sync);
    rows.extend([
        Row {
            name: format!("{callers} callers, calls/s"),
            unit: "calls/s",
            hub: many.per_second(),
            nats: nats_many.map(Report::per_second),
            note: errors_note(many, nats_many),
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
    ]);
    rows
}

/// A latency in nanoseconds as a row's figure (NaN when there is none: no ratio).
fn ns(value: Option<u64>) -> f64 {
    value.map_or(f64::NAN, |v| v as f64)
}

/// `errors hub N NATS M`, the note of a row from reports.
fn errors_note(hub: &Report, nats: Option<&Report>) -> String {
    match nats {
        Some(n) => format!("errors hub {} NATS {}", hub.error_total(), n.error_total()),
        None => format!("errors hub {}", hub.error_total()),
    }
}

/// The rows of one synchronous caller named `name`: p50, p99 and calls/s.
pub(super) fn sync_rows(name: &str, sync: &Report, nats_sync: Option<&Report>) -> Vec<Row> {
    vec![
        Row {
            name: format!("{name}, p50"),
            unit: "ns",
            hub: ns(sync.p50_ns),
            nats: nats_sync.map(|n| ns(n.p50_ns)),
            note: errors_note(sync, nats_sync),
            higher_is_better: false,
        },
        Row {
            name: format!("{name}, p99"),
            unit: "ns",
            hub: ns(sync.p99_ns),
            nats: nats_sync.map(|n| ns(n.p99_ns)),
            note: String::new(),
            higher_is_better: false,
        },
        Row {
            name: format!("{name}, calls/s"),
            unit: "calls/s",
            hub: sync.per_second(),
            nats: nats_sync.map(Report::per_second),
            note: String::new(),
            higher_is_better: true,
        },
    ]
}

/// One provider and `callers` callers against the NATS server at `url` with `clients` (which
/// client, how many threads), on a fresh client runtime.
pub(super) async fn nats_client_rpc(
    clients: (NatsClient, usize),
    url: String,
    callers: usize,
    size: usize,
    timing: Timing,
) -> Result<Report, Failure> {
    match clients {
        (NatsClient::Lean, threads) => {
            on_client_runtime(threads, move |_| {
                super::lean_nats_load::rpc(url, callers, size, timing)
            })
            .await
        }
        (NatsClient::AsyncNats, threads) => {
            nats_rpc(threads, Ends::one(url), callers, size, timing).await
        }
    }
}

/// One provider (far) and `callers` callers (near) against the nats-servers at `urls`, on a
/// fresh client runtime, with `async-nats`.
#[cfg(feature = "nats-bench")]
pub(super) async fn nats_rpc(
    threads: usize,
    urls: Ends<String>,
    callers: usize,
    size: usize,
    timing: Timing,
) -> Result<Report, Failure> {
    on_client_runtime(threads, move |_| {
        super::nats::rpc(urls, callers, size, timing)
    })
    .await
}

#[cfg(not(feature = "nats-bench"))]
pub(super) async fn nats_rpc(
    _: usize,
    _: Ends<String>,
    _: usize,
    _: usize,
    _: Timing,
) -> Result<Report, Failure> {
    Err(Failure::new(
        EXIT_USAGE,
        "async-nats needs a build with `--features nats-bench`",
    ))
}

/// One provider on the hub at `ends.far` and `callers` callers on `ends.near`. Across a
/// bridge, each caller first calls (unmeasured) until a call is answered, so the window does
/// not open while the provider's or the inbox's interest is still crossing.
pub(super) async fn hub_rpc(
    ends: Ends<SocketAddr>,
    callers: usize,
    size: usize,
    timing: Timing,
) -> Result<Report, Failure> {
    let mut provider = Conn::connect(ends.far).await.map_err(cannot_connect)?;
    provider
        .subscribe(pattern(RPC_CHANNEL)?)
        .await
        .map_err(cannot_connect)?;
    let provider = tokio::spawn(hub_provider(provider));
    let mut conns = Vec::new();
    for token in 0..callers {
        let mut conn = Conn::connect(ends.near).await.map_err(cannot_connect)?;
        let inbox = Inbox::new(0xbe7c_0000 + token as u128);
        conn.subscribe(inbox.pattern())
            .await
            .map_err(cannot_connect)?;
        let first_call = match ends.across() {
            true => probe_calls(&mut conn, &inbox, size)
                .await
                .map_err(|e| Failure::new(1, format!("no call crossed the bridge: {e}")))?,
            false => 1,
        };
        conns.push((conn, inbox, first_call));
    }
    let window = timing.window();
    let loops: Vec<_> = conns
        .into_iter()
        .map(|(conn, inbox, first)| tokio::spawn(hub_caller(conn, inbox, first, size, window)))
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

/// Calls (with [`PROBE_WAIT`] each to be answered) until one is answered, for at most
/// [`PROBE_PATIENCE`]; answers the number of the next call.
async fn probe_calls(conn: &mut Conn, inbox: &Inbox, size: usize) -> std::io::Result<u64> {
    let (channel, body) = (rpc_channel()?, body(size));
    let mut out = BytesMut::new();
    let given_up = Instant::now() + PROBE_PATIENCE;
    for call in 1u64.. {
        if Instant::now() >= given_up {
            break;
        }
        send_call(conn, &mut out, &channel, inbox, call, &body).await?;
        match answer(conn, inbox, call, PROBE_WAIT).await {
            Ok(true) => return Ok(call + 1),
            // No responders yet: the provider's interest has not crossed.
            Ok(false) => tokio::time::sleep(PROBE_WAIT / 10).await,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!("no call answered in {PROBE_PATIENCE:?}"),
    ))
}

/// How long a probing call waits for its answer before the next is sent.
const PROBE_WAIT: Duration = Duration::from_millis(100);

fn rpc_channel() -> std::io::Result<Channel> {
    Channel::parse(RPC_CHANNEL).map_err(std::io::Error::other)
}

/// Writes call number `call` (a REQUEST replied to on `inbox`), in one write.
async fn send_call(
    conn: &mut Conn,
    out: &mut BytesMut,
    channel: &Channel,
    inbox: &Inbox,
    call: u64,
    body: &bytes::Bytes,
) -> std::io::Result<()> {
    out.clear();
    Publish {
        channel: channel.clone(),
        flags: MessageFlags::REQUEST,
        reply_to: Some(inbox.reply_to(call)),
        headers: Headers::new(),
        body: body.clone(),
    }
    .write_frame(out)
    .map_err(std::io::Error::other)?;
    conn.stream.write_all(out).await
}

/// One synchronous caller: the next call as soon as the last is answered, from call number
/// `first_call` on.
async fn hub_caller(
    mut conn: Conn,
    inbox: Inbox,
    first_call: u64,
    size: usize,
    window: Window,
) -> Sample {
    let mut sample = Sample::default();
    let Ok(channel) = rpc_channel() else {
        return sample;
    };
    let body = body(size);
    let mut out = BytesMut::new();
    for call in first_call.. {
        let sent = Instant::now();
        if !window.open(sent) {
            break;
        }
        if send_call(&mut conn, &mut out, &channel, &inbox, call, &body)
            .await
            .is_err()
        {
            sample.error("connection lost", 1);
            break;
        }
        match answer(&mut conn, &inbox, call, PATIENCE).await {
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

/// Reads until the reply to `call`: `true` for a REPLY, `false` for an ERROR; a frame must
/// come within `patience`.
async fn answer(
    conn: &mut Conn,
    inbox: &Inbox,
    call: u64,
    patience: Duration,
) -> std::io::Result<bool> {
    loop {
        let Some(frame) = conn.next_frame(patience).await? else {
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
