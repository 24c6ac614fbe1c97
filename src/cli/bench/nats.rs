//! The NATS side of `hubwire bench pubsub` and `hubwire bench rpc` (feature `nats-bench`): the
//! same workloads, with the same flow control and counting, through the `async-nats` client.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;

use async_nats::{Client, ConnectOptions, Event, Subject, Subscriber};
use futures::StreamExt;
use tokio::runtime::Handle;

use super::{
    body, Failure, PubsubRun, Report, Sample, Shape, Subscribers, Timing, Window, DRAIN_IDLE,
    EXIT_CANNOT_CONNECT, FLUSH_EVERY, MAX_UNFLUSHED, PATIENCE,
};

const PUBSUB_SUBJECT: &str = "bench.pubsub";
const RPC_SUBJECT: &str = "bench.rpc";
/// Messages the client queues per subscription before it drops them itself (its default is
/// 65,536): large, so what drops is the server's slow-consumer limit, as with the hub's.
const SUBSCRIPTION_CAPACITY: usize = 1 << 20;
/// Messages counted per wake-up at most, so a busy subscriber still looks at the clock (about
/// what one 256 KiB read of the hubwire subscriber holds at 16 B).
const COUNT_BATCH: u64 = 8192;

/// A client of `url`; `troubles` counts its slow-consumer and disconnect events.
async fn connect(url: &str, troubles: Arc<AtomicU64>) -> Result<Client, Failure> {
    ConnectOptions::new()
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

fn failed(what: &str) -> impl Fn(String) -> Failure + '_ {
    move |e| Failure::new(1, format!("NATS {what}: {e}"))
}

/// One pub/sub row against the nats-server at `url`.
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
        // Connected on the subscribers' runtime, so the client's own tasks run there too.
        let setup = move || async move {
            let troubles = Arc::new(AtomicU64::new(0));
            let client = connect(&url, troubles.clone()).await?;
            let sub = client
                .subscribe(PUBSUB_SUBJECT)
                .await
                .map_err(|e| failed("subscribe")(e.to_string()))?;
            client
                .flush()
                .await
                .map_err(|e| failed("flush")(e.to_string()))?;
            Ok((client, sub, troubles))
        };
        let count = move |(client, sub, troubles), window| {
            subscriber(client, sub, troubles, window, expected)
        };
        subscribers.add(setup, count).await?;
    }
    let mut publishers = Vec::new();
    for _ in 0..shape.publishers {
        publishers.push(connect(&url, Arc::new(AtomicU64::new(0))).await?);
    }
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

/// One provider and `callers` callers against the nats-server at `url`.
pub(super) async fn rpc(
    url: String,
    callers: usize,
    size: usize,
    timing: Timing,
) -> Result<Report, Failure> {
    let provider = connect(&url, Arc::new(AtomicU64::new(0))).await?;
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
        let client = connect(&url, Arc::new(AtomicU64::new(0))).await?;
        // The first request sets up the client's reply inbox: not measured.
        client
            .request(RPC_SUBJECT, body(size))
            .await
            .map_err(|e| failed("request")(e.to_string()))?;
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
