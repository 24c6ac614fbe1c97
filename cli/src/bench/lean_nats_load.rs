//! The pub/sub and RPC workloads of `--via-nats` with the lean NATS client (`lean_nats.rs`):
//! the same flow control and counting as the raw hubwire clients (`pubsub.rs`, `rpc.rs`), so
//! a row against the hub's `nats://` listener and one against a nats-server differ only in the
//! server.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::{BufMut, BytesMut};
use tokio::runtime::Handle;

use super::lean_nats::{LeanNats, Op};
use super::pubsub::{PubsubRun, Shape, Subscribers, FLUSH_EVERY, MAX_UNFLUSHED};
use super::side_by_side::{body, Timing, DRAIN_IDLE, PATIENCE};
use super::stats::{Report, Sample, Window};
use super::{Failure, EXIT_CANNOT_CONNECT};

const PUBSUB_SUBJECT: &str = "bench.pubsub";
const RPC_SUBJECT: &str = "bench.rpc";

fn cannot_connect(url: &str) -> impl Fn(std::io::Error) -> Failure + '_ {
    move |e| Failure::new(EXIT_CANNOT_CONNECT, format!("NATS at {url}: {e}"))
}

/// One pub/sub row: publishers and subscribers on the server at `url`.
pub(super) async fn pubsub(
    subscriber_runtime: Handle,
    url: String,
    shape: Shape,
    size: usize,
    timing: Timing,
) -> Result<PubsubRun, Failure> {
    let expected = Arc::new(AtomicU64::new(u64::MAX));
    let mut subscribers = Subscribers::new(subscriber_runtime);
    for _ in 0..shape.subscribers {
        let (url, expected) = (url.clone(), expected.clone());
        let setup = move || async move {
            let mut conn = LeanNats::connect(&url)
                .await
                .map_err(cannot_connect(&url))?;
            conn.subscribe(PUBSUB_SUBJECT, 1)
                .await
                .map_err(cannot_connect(&url))?;
            Ok(conn)
        };
        let count = move |conn, window| subscriber(conn, window, expected);
        subscribers.add(setup, count).await?;
    }
    let mut publishers = Vec::new();
    for _ in 0..shape.publishers {
        publishers.push(
            LeanNats::connect(&url)
                .await
                .map_err(cannot_connect(&url))?,
        );
    }
    let window = timing.window();
    subscribers.start(window);
    let batch = publish_batch(size);
    let publishers: Vec<_> = publishers
        .into_iter()
        .map(|conn| tokio::spawn(publisher(conn, batch.clone(), window)))
        .collect();
    let mut published = 0;
    for one in publishers {
        published += one
            .await
            .map_err(|e| Failure::new(1, format!("a publisher failed: {e}")))?
            .map_err(|e| Failure::new(1, format!("a NATS publisher: {e}")))?;
    }
    expected.store(published, Ordering::SeqCst);
    let mut run = subscribers.finish().await?;
    run.published = published;
    Ok(run)
}

/// [`FLUSH_EVERY`] PUBs of a `size`-byte body, then a PING: what a publisher writes at once.
fn publish_batch(size: usize) -> bytes::Bytes {
    let body = body(size);
    let mut batch = BytesMut::new();
    for _ in 0..FLUSH_EVERY {
        batch.put_slice(format!("PUB {PUBSUB_SUBJECT} {size}\r\n").as_bytes());
        batch.put_slice(&body);
        batch.put_slice(b"\r\n");
    }
    batch.put_slice(b"PING\r\n");
    batch.freeze()
}

/// Writes `batch` until the window closes, keeping at most [`MAX_UNFLUSHED`] PINGs
/// unanswered; returns the publishes acknowledged.
async fn publisher(
    mut conn: LeanNats,
    batch: bytes::Bytes,
    window: Window,
) -> std::io::Result<u64> {
    let (mut batches, mut unanswered) = (0u64, 0usize);
    while window.open(Instant::now()) {
        conn.send(&batch).await?;
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
async fn pongs(conn: &mut LeanNats) -> std::io::Result<usize> {
    let mut count = 0;
    while count == 0 {
        if conn.fill(PATIENCE).await? == 0 {
            return Err(std::io::Error::other("the server closed the publisher"));
        }
        let mut pings = 0;
        while let Some(parsed) = conn.parsed()? {
            conn.consume(&parsed);
            match parsed.op {
                Op::Pong => count += 1,
                Op::Ping => pings += 1,
                Op::Err(text) => return Err(std::io::Error::other(format!("-ERR {text}"))),
                _ => {}
            }
        }
        conn.send(&b"PONG\r\n".repeat(pings)).await?;
    }
    Ok(count)
}

/// Counts MSGs until it has `expected` (known once the publishers are done) or, after the
/// window, hears nothing for [`DRAIN_IDLE`].
async fn subscriber(mut conn: LeanNats, window: Window, expected: Arc<AtomicU64>) -> PubsubRun {
    let mut run = PubsubRun::default();
    loop {
        let patience = match window.open(Instant::now()) {
            true => PATIENCE,
            false => DRAIN_IDLE,
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
        let (mut messages, mut pings) = (0, 0);
        loop {
            match conn.parsed() {
                Ok(Some(parsed)) => {
                    conn.consume(&parsed);
                    match parsed.op {
                        Op::Msg { .. } => messages += 1,
                        Op::Ping => pings += 1,
                        Op::Err(_) => run.slow_consumers = 1,
                        _ => {}
                    }
                }
                Ok(None) => break,
                Err(_) => {
                    run.slow_consumers = 1;
                    return run;
                }
            }
        }
        if pings > 0 && conn.send(&b"PONG\r\n".repeat(pings)).await.is_err() {
            return run;
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

/// One provider and `callers` callers, each with one request in flight, on the server at
/// `url`.
pub(super) async fn rpc(
    url: String,
    callers: usize,
    size: usize,
    timing: Timing,
) -> Result<Report, Failure> {
    let mut provider = LeanNats::connect(&url)
        .await
        .map_err(cannot_connect(&url))?;
    provider
        .subscribe(RPC_SUBJECT, 1)
        .await
        .map_err(cannot_connect(&url))?;
    let provider = tokio::spawn(provide(provider));
    let mut clients = Vec::new();
    for n in 0..callers {
        let mut conn = LeanNats::connect(&url)
            .await
            .map_err(cannot_connect(&url))?;
        let inbox = format!("_INBOX.bench.{}.{n}", std::process::id());
        conn.subscribe(&inbox, 1)
            .await
            .map_err(cannot_connect(&url))?;
        let call = call_bytes(&inbox, size);
        // The first call warms the path up: not measured.
        request(&mut conn, &call)
            .await
            .map_err(|e| Failure::new(1, format!("NATS request: {e}")))?;
        clients.push((conn, call));
    }
    let window = timing.window();
    let loops: Vec<_> = clients
        .into_iter()
        .map(|(conn, call)| tokio::spawn(caller(conn, call, window)))
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

/// A request to the provider with the reply going to `inbox`.
fn call_bytes(inbox: &str, size: usize) -> Vec<u8> {
    let mut call = format!("PUB {RPC_SUBJECT} {inbox} {size}\r\n").into_bytes();
    call.extend_from_slice(&body(size));
    call.extend_from_slice(b"\r\n");
    call
}

/// Sends `call` and reads up to its reply.
async fn request(conn: &mut LeanNats, call: &[u8]) -> std::io::Result<()> {
    conn.send(call).await?;
    loop {
        while let Some(parsed) = conn.parsed()? {
            conn.consume(&parsed);
            match parsed.op {
                Op::Msg { .. } => return Ok(()),
                Op::Ping => conn.send(b"PONG\r\n").await?,
                Op::Err(text) => return Err(std::io::Error::other(format!("-ERR {text}"))),
                _ => {}
            }
        }
        if conn.fill(PATIENCE).await? == 0 {
            return Err(std::io::Error::other("the server closed the caller"));
        }
    }
}

/// One synchronous caller.
async fn caller(mut conn: LeanNats, call: Vec<u8>, window: Window) -> Sample {
    let mut sample = Sample::default();
    loop {
        let sent = Instant::now();
        if !window.open(sent) {
            return sample;
        }
        match request(&mut conn, &call).await {
            Ok(()) => {
                let done = Instant::now();
                sample.success(&window, done, done - sent);
            }
            Err(e) => {
                sample.error(e.to_string(), 1);
                return sample;
            }
        }
    }
}

/// Answers every request with its own body, the answers to one read in one write.
async fn provide(mut conn: LeanNats) -> std::io::Result<()> {
    let mut out = Vec::new();
    loop {
        match conn.fill(PATIENCE).await {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            // Idle between rows: the provider is stopped by the row that started it.
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => continue,
            Err(e) => return Err(e),
        }
        out.clear();
        while let Some(parsed) = conn.parsed()? {
            match &parsed.op {
                Op::Msg {
                    reply: Some(reply),
                    payload,
                    ..
                } => {
                    let reply = conn.bytes(reply.clone());
                    out.extend_from_slice(b"PUB ");
                    out.extend_from_slice(reply);
                    out.extend_from_slice(format!(" {}\r\n", payload.len()).as_bytes());
                    out.extend_from_slice(conn.bytes(payload.clone()));
                    out.extend_from_slice(b"\r\n");
                }
                Op::Ping => out.extend_from_slice(b"PONG\r\n"),
                _ => {}
            }
            conn.consume(&parsed);
        }
        conn.send(&out).await?;
    }
}
