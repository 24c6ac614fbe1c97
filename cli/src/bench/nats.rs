//! The NATS side of `hubwire bench pubsub`, `rpc` and `bridge` (feature `nats-bench`): the same
//! workloads, with the same flow control and counting, through the `async-nats` client. Across
//! two clustered servers, subscribers and callers probe first, as the hubwire side does
//! (`probe.rs`).

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;

use async_nats::{Client, ConnectOptions, Event, Subject, Subscriber};
use futures::StreamExt;
use tokio::runtime::Handle;

use super::one_way::{stamped_body, OneWay, PACE, STAMPED_SIZE};
use super::probe::{PROBE_EVERY, PROBE_PATIENCE, PROBE_QUIET};
use super::pubsub::{PubsubRun, Shape, Subscribers, FLUSH_EVERY, MAX_UNFLUSHED};
use super::side_by_side::{body, Ends, Timing, DRAIN_IDLE, PATIENCE};
use super::stats::{Report, Sample, Window};
use super::{Failure, EXIT_CANNOT_CONNECT};

const PUBSUB_SUBJECT: &str = "bench.pubsub";
const RPC_SUBJECT: &str = "bench.rpc";
const PROBE_SUBJECT: &str = "bench.probe";
const ONE_WAY_SUBJECT: &str = "bench.oneway";
/// Messages the client queues per subscription before it drops them itself (its default is
/// 65,536): large, so what drops is the server's slow-consumer limit, as with the hub's.
const SUBSCRIPTION_CAPACITY: usize = 1 << 20;
/// Messages counted per wake-up at most, so a busy subscriber still looks at the clock (about
/// what one 256 KiB read of the hubwire subscriber holds at 16 B).
const COUNT_BATCH: u64 = 8192;

/// The CA that `tls://` NATS URLs are dialled trusting (`hubwire bench pubsub --tls DIR`).
static TRUSTED_CA: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

/// Dial `tls://` NATS URLs trusting `ca` (set once per run).
pub(super) fn trust(ca: std::path::PathBuf) {
    let _ = TRUSTED_CA.set(ca);
}

/// A client of `url`; `troubles` counts its slow-consumer and disconnect events.
async fn connect(url: &str, troubles: Arc<AtomicU64>) -> Result<Client, Failure> {
    let mut options = ConnectOptions::new();
    if let (Some(ca), true) = (TRUSTED_CA.get(), url.starts_with("tls://")) {
        options = options.add_root_certificates(ca.clone()).require_tls(true);
    }
    options
        .connection_timeout(PATIENCE)
        .subscription_capacity(SUBSCRIPTION_CAPACITY)
        .event_callback(move |event| {
            let troubles = troubles.clone();
            async move {
                if matches!(event, Event::SlowConsumer(_) | Event::Disconnected) {
                    troubles.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
        .connect(url)
        .await
        .map_err(|e| Failure::new(EXIT_CANNOT_CONNECT, format!("NATS at {url}: {e}")))
}

/// A client of `url` subscribed to `subject`, the subscription flushed to the server, and
/// (`across` a cluster route) a probe from the near server seen; with its trouble count.
async fn subscribed(
    url: &str,
    subject: &'static str,
    across: bool,
) -> Result<(Client, Subscriber, Arc<AtomicU64>), Failure> {
    let troubles = Arc::new(AtomicU64::new(0));
    let client = connect(url, troubles.clone()).await?;
    let sub = client
        .subscribe(subject)
        .await
        .map_err(|e| failed("subscribe")(e.to_string()))?;
    client
        .flush()
        .await
        .map_err(|e| failed("flush")(e.to_string()))?;
    if across {
        await_probe(&client).await?;
    }
    Ok((client, sub, troubles))
}

fn failed(what: &str) -> impl Fn(String) -> Failure + '_ {
    move |e| Failure::new(1, format!("NATS {what}: {e}"))
}

/// One pub/sub row: publishers on the nats-server at `urls.near`, subscribers on `urls.far`.
pub(super) async fn pubsub(
    subscriber_runtime: Handle,
    urls: Ends<String>,
    shape: Shape,
    size: usize,
    timing: Timing,
) -> Result<PubsubRun, Failure> {
    let expected = Arc::new(AtomicU64::new(u64::MAX));
    let across = urls.across();
    let prober = match across {
        true => Some(Prober::start(&urls.near).await?),
        false => None,
    };
    let mut subscribers = Subscribers::new(subscriber_runtime);
    for _ in 0..shape.subscribers {
        let (url, expected) = (urls.far.clone(), expected.clone());
        // Connected on the subscribers' runtime, so the client's own tasks run there too.
        let setup = move || async move { subscribed(&url, PUBSUB_SUBJECT, across).await };
        let count = move |(client, sub, troubles), window| {
            subscriber(client, sub, troubles, window, expected)
        };
        subscribers.add(setup, count).await?;
    }
    let mut publishers = Vec::new();
    for _ in 0..shape.publishers {
        publishers.push(connect(&urls.near, Arc::new(AtomicU64::new(0))).await?);
    }
    drop(prober);
    let window = timing.window();
    subscribers.start(window);
    let publishers: Vec<_> = publishers
        .into_iter()
        .map(|client| tokio::spawn(publisher(client, size, window)))
        .collect();
    let mut published = 0;
    for one in publishers {
        published += one
            .await
            .map_err(|e| failed("publisher")(e.to_string()))??;
    }
    expected.store(published, Ordering::SeqCst);
    let mut run = subscribers.finish().await?;
    run.published = published;
    Ok(run)
}

/// Publishes batches of [`FLUSH_EVERY`] and a flush until the window closes, keeping at most
/// [`MAX_UNFLUSHED`] flushes unanswered; returns the publishes flushed.
async fn publisher(client: Client, size: usize, window: Window) -> Result<u64, Failure> {
    let subject = Subject::from_static(PUBSUB_SUBJECT);
    let body = body(size);
    let mut flushes = VecDeque::new();
    let mut batches = 0u64;
    while window.open(Instant::now()) {
        for _ in 0..FLUSH_EVERY {
            client
                .publish(subject.clone(), body.clone())
                .await
                .map_err(|e| failed("publish")(e.to_string()))?;
        }
        let flusher = client.clone();
        flushes.push_back(tokio::spawn(async move { flusher.flush().await }));
        batches += 1;
        while flushes.len() >= MAX_UNFLUSHED {
            wait_flush(flushes.pop_front()).await?;
        }
    }
    while !flushes.is_empty() {
        wait_flush(flushes.pop_front()).await?;
    }
    Ok(batches * FLUSH_EVERY)
}

type Flush = tokio::task::JoinHandle<Result<(), async_nats::client::FlushError>>;

async fn wait_flush(flush: Option<Flush>) -> Result<(), Failure> {
    if let Some(flush) = flush {
        flush
            .await
            .map_err(|e| failed("flush")(e.to_string()))?
            .map_err(|e| failed("flush")(e.to_string()))?;
    }
    Ok(())
}

/// The messages ready on `sub` now (at most [`COUNT_BATCH`]), waiting for at least one; `None`
/// when the subscription ended.
///
/// Outside tokio's cooperative budget: with it, each wake-up takes 128 messages off the
/// subscription's channel, while the client's connection task pushes up to 128 socket reads
/// (64 KiB each, thousands of messages) per turn, so the counter fell behind and the channel
/// overflowed ("slow consumer"): the hubwire subscriber counts a whole 256 KiB read per wake-up.
async fn ready(sub: &mut Subscriber) -> Option<u64> {
    tokio::task::unconstrained(poll_fn(|cx| {
        let mut count = 0;
        loop {
            match sub.poll_next_unpin(cx) {
                Poll::Ready(Some(_)) => {
                    count += 1;
                    if count >= COUNT_BATCH {
                        return Poll::Ready(Some(count));
                    }
                }
                Poll::Ready(None) if count == 0 => return Poll::Ready(None),
                Poll::Pending if count == 0 => return Poll::Pending,
                _ => return Poll::Ready(Some(count)),
            }
        }
    }))
    .await
}

/// Counts messages as the hubwire subscriber does.
async fn subscriber(
    client: Client,
    mut sub: Subscriber,
    troubles: Arc<AtomicU64>,
    window: Window,
    expected: Arc<AtomicU64>,
) -> PubsubRun {
    let mut run = PubsubRun::default();
    loop {
        let patience = if window.open(Instant::now()) {
            PATIENCE
        } else {
            DRAIN_IDLE
        };
        let Ok(Some(messages)) = tokio::time::timeout(patience, ready(&mut sub)).await else {
            break;
        };
        run.received += messages;
        if window.counts(Instant::now()) {
            run.received_in_window += messages;
        }
        if run.received >= expected.load(Ordering::SeqCst) {
            break;
        }
    }
    run.slow_consumers = u64::from(troubles.load(Ordering::Relaxed) > 0);
    drop(client);
    run
}

/// One provider on the nats-server at `urls.far` and `callers` callers on `urls.near`.
pub(super) async fn rpc(
    urls: Ends<String>,
    callers: usize,
    size: usize,
    timing: Timing,
) -> Result<Report, Failure> {
    let provider = connect(&urls.far, Arc::new(AtomicU64::new(0))).await?;
    let calls = provider
        .subscribe(RPC_SUBJECT)
        .await
        .map_err(|e| failed("subscribe")(e.to_string()))?;
    provider
        .flush()
        .await
        .map_err(|e| failed("flush")(e.to_string()))?;
    let provider = tokio::spawn(provide(provider, calls));
    let mut clients = Vec::new();
    for _ in 0..callers {
        let client = connect(&urls.near, Arc::new(AtomicU64::new(0))).await?;
        // The first request sets up the client's reply inbox: not measured.
        if urls.across() {
            probe_calls(&client, size).await?;
        } else {
            client
                .request(RPC_SUBJECT, body(size))
                .await
                .map_err(|e| failed("request")(e.to_string()))?;
        }
        clients.push(client);
    }
    let window = timing.window();
    let loops: Vec<_> = clients
        .into_iter()
        .map(|client| tokio::spawn(caller(client, size, window)))
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

/// Answers every request with its own body.
async fn provide(client: Client, mut calls: Subscriber) {
    while let Some(call) = calls.next().await {
        if let Some(reply) = call.reply {
            if client.publish(reply, call.payload).await.is_err() {
                return;
            }
        }
    }
}

/// One synchronous caller.
async fn caller(client: Client, size: usize, window: Window) -> Sample {
    let subject = Subject::from_static(RPC_SUBJECT);
    let body = body(size);
    let mut sample = Sample::default();
    loop {
        let sent = Instant::now();
        if !window.open(sent) {
            return sample;
        }
        match client.request(subject.clone(), body.clone()).await {
            Ok(_) => {
                let done = Instant::now();
                sample.success(&window, done, done - sent);
            }
            Err(e) => {
                sample.error(format!("{:?}", e.kind()), 1);
                return sample;
            }
        }
    }
}

/// A client on the near server publishing a probe every [`PROBE_EVERY`] until dropped.
struct Prober(tokio::task::JoinHandle<()>);

impl Prober {
    async fn start(near: &str) -> Result<Prober, Failure> {
        let client = connect(near, Arc::new(AtomicU64::new(0))).await?;
        Ok(Prober(tokio::spawn(async move {
            while client.publish(PROBE_SUBJECT, "probe".into()).await.is_ok() {
                tokio::time::sleep(PROBE_EVERY).await;
            }
        })))
    }
}

impl Drop for Prober {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Waits (on `client`, on the far server, already subscribed to its row's subject) for a probe
/// published on the near server: the route has the row's interest too (sent before). The probe
/// subscription is its own, so no probe is ever counted as a row's message.
async fn await_probe(client: &Client) -> Result<(), Failure> {
    let mut probes = client
        .subscribe(PROBE_SUBJECT)
        .await
        .map_err(|e| failed("subscribe")(e.to_string()))?;
    match tokio::time::timeout(PROBE_PATIENCE, probes.next()).await {
        Ok(Some(_)) => Ok(()),
        _ => Err(failed("probe")(format!(
            "nothing crossed the route in {PROBE_PATIENCE:?}"
        ))),
    }
}

/// Requests (each given [`PROBE_QUIET`] to be answered) until one is answered, for at most
/// [`PROBE_PATIENCE`]: the provider's interest has crossed to the caller's server, and the
/// caller's inbox to the provider's.
async fn probe_calls(client: &Client, size: usize) -> Result<(), Failure> {
    let given_up = Instant::now() + PROBE_PATIENCE;
    while Instant::now() < given_up {
        match tokio::time::timeout(PROBE_QUIET, client.request(RPC_SUBJECT, body(size))).await {
            Ok(Ok(_)) => return Ok(()),
            // No responders yet, or the reply got lost: try again.
            Ok(Err(_)) => tokio::time::sleep(PROBE_QUIET / 10).await,
            Err(_) => {}
        }
    }
    Err(failed("request")(format!(
        "no call answered across the route in {PROBE_PATIENCE:?}"
    )))
}

/// The paced stream (`one_way.rs`) from the nats-server at `urls.near` to a subscriber on
/// `urls.far`.
pub(super) async fn one_way(
    subscriber_runtime: Handle,
    urls: Ends<String>,
    timing: Timing,
) -> Result<OneWay, Failure> {
    let epoch = Instant::now();
    let expected = Arc::new(AtomicU64::new(u64::MAX));
    let across = urls.across();
    let prober = match across {
        true => Some(Prober::start(&urls.near).await?),
        false => None,
    };
    let mut subscribers = Subscribers::<OneWay>::new(subscriber_runtime);
    let far = urls.far.clone();
    let setup = move || async move { subscribed(&far, ONE_WAY_SUBJECT, across).await };
    let until_all = expected.clone();
    let count = move |(client, sub, troubles), window| {
        stamp_reader(client, sub, troubles, window, epoch, until_all)
    };
    subscribers.add(setup, count).await?;
    let publisher = connect(&urls.near, Arc::new(AtomicU64::new(0))).await?;
    drop(prober);
    let window = timing.window();
    subscribers.start(window);
    let mut tick = tokio::time::interval(PACE);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let subject = Subject::from_static(ONE_WAY_SUBJECT);
    let mut published = 0u64;
    loop {
        tick.tick().await;
        let now = Instant::now();
        if !window.open(now) {
            break;
        }
        publisher
            .publish(subject.clone(), stamped_body(STAMPED_SIZE, epoch, now))
            .await
            .map_err(|e| failed("publish")(e.to_string()))?;
        published += 1;
    }
    publisher
        .flush()
        .await
        .map_err(|e| failed("flush")(e.to_string()))?;
    expected.store(published, Ordering::SeqCst);
    let mut one_way = subscribers.finish().await?;
    one_way.run.published = published;
    Ok(one_way)
}

/// Takes the stamp of every message, as the hubwire reader does.
async fn stamp_reader(
    client: Client,
    mut sub: Subscriber,
    troubles: Arc<AtomicU64>,
    window: Window,
    epoch: Instant,
    expected: Arc<AtomicU64>,
) -> OneWay {
    let mut one_way = OneWay::default();
    while one_way.run.received < expected.load(Ordering::SeqCst) {
        let patience = if window.open(Instant::now()) {
            PATIENCE
        } else {
            DRAIN_IDLE
        };
        let Ok(Some(message)) = tokio::time::timeout(patience, sub.next()).await else {
            break;
        };
        one_way.record(&window, epoch, Instant::now(), &message.payload);
    }
    one_way.run.slow_consumers = u64::from(troubles.load(Ordering::Relaxed) > 0);
    drop(client);
    one_way
}
