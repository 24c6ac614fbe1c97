//! One-way latency of a paced stream: one publisher (near) sends a message every [`PACE`],
//! stamped with when it was written; one subscriber (far) takes each stamp from its arrival
//! time. Publisher and subscriber run in the same process, so they read the same clock.
//!
//! Paced well below what either system can carry, so the figure is the path's latency, not
//! time spent queued behind a flood (the 1 -> 1 throughput rows keep up to two batches of
//! 1,024 messages in flight, and their latency would mostly say how deep that window is).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use hubwire_core::protocol::{kind, Envelope, Headers, Message, MessageFlags, Publish};
use hubwire_core::pubsub::Channel;
use tokio::io::AsyncWriteExt;
use tokio::runtime::Handle;

use super::probe::{await_probe, Prober};
use super::pubsub::{PubsubRun, Subscribers, Tally};
use super::raw_client::{cannot_connect, pattern, Conn};
use super::side_by_side::{Ends, Timing, DRAIN_IDLE, PATIENCE};
use super::stats::{Report, Sample, Window};
use super::Failure;

/// Time between two messages of the paced stream (tokio's timers tick in milliseconds).
pub(super) const PACE: Duration = Duration::from_millis(1);
/// Body bytes of a stamped message (the stamp takes the first [`STAMP_BYTES`]).
pub(super) const STAMPED_SIZE: usize = 16;
/// Bytes of the stamp: nanoseconds since the row's epoch, little-endian.
const STAMP_BYTES: usize = 8;
/// The channel of the paced stream (NATS: `bench.oneway`).
const ONE_WAY_CHANNEL: &str = "bench/oneway";

/// A body of `size` bytes (at least [`STAMP_BYTES`]) stamped with `now` since `epoch`.
pub(super) fn stamped_body(size: usize, epoch: Instant, now: Instant) -> Bytes {
    let mut body = vec![0u8; size.max(STAMP_BYTES)];
    let nanos = u64::try_from(now.saturating_duration_since(epoch).as_nanos()).unwrap_or(u64::MAX);
    body[..STAMP_BYTES].copy_from_slice(&nanos.to_le_bytes());
    Bytes::from(body)
}

/// How long ago (at `now`) the message with `body` was stamped; `None` without a stamp.
pub(super) fn since_stamp(body: &[u8], epoch: Instant, now: Instant) -> Option<Duration> {
    let stamp = u64::from_le_bytes(body.get(..STAMP_BYTES)?.try_into().ok()?);
    let at = epoch.checked_add(Duration::from_nanos(stamp))?;
    Some(now.saturating_duration_since(at))
}

/// What the subscriber of a paced stream saw: messages (as a pub/sub row counts them) and
/// each one's latency.
#[derive(Debug, Default)]
pub(super) struct OneWay {
    /// Published, received, received in the window, slow-consumer.
    pub run: PubsubRun,
    /// Latencies of the messages received inside the window.
    pub sample: Sample,
}

impl OneWay {
    /// Counts a message with `body` received at `at`.
    pub fn record(&mut self, window: &Window, epoch: Instant, at: Instant, body: &[u8]) {
        self.run.received += 1;
        if window.counts(at) {
            self.run.received_in_window += 1;
        }
        match since_stamp(body, epoch, at) {
            Some(latency) => self.sample.success(window, at, latency),
            None => self.sample.error("no stamp", 1),
        }
    }

    /// The counts, and the latencies as a report over `window`.
    pub fn finish(self, window: Duration) -> (PubsubRun, Report) {
        (self.run, Report::new(self.sample, window))
    }
}

impl Tally for OneWay {
    fn merge(&mut self, other: OneWay) {
        self.run.merge(other.run);
        self.sample.merge(other.sample);
    }
}

/// The paced stream from the hub at `ends.near` to a subscriber on `ends.far`.
pub(super) async fn hub_one_way(
    subscriber_runtime: Handle,
    ends: Ends<SocketAddr>,
    timing: Timing,
) -> Result<OneWay, Failure> {
    let epoch = Instant::now();
    let expected = Arc::new(AtomicU64::new(u64::MAX));
    let prober = match ends.across() {
        true => Some(Prober::start(ends.near).await?),
        false => None,
    };
    let mut subscribers = Subscribers::<OneWay>::new(subscriber_runtime);
    let setup = move || async move {
        let mut conn = Conn::connect(ends.far).await.map_err(cannot_connect)?;
        conn.subscribe(pattern(ONE_WAY_CHANNEL)?)
            .await
            .map_err(cannot_connect)?;
        if ends.across() {
            await_probe(&mut conn).await.map_err(cannot_connect)?;
        }
        Ok(conn)
    };
    let until_all = expected.clone();
    let count = move |conn, window| hub_stamp_reader(conn, window, epoch, until_all);
    subscribers.add(setup, count).await?;
    let publisher = Conn::connect(ends.near).await.map_err(cannot_connect)?;
    drop(prober);
    let window = timing.window();
    subscribers.start(window);
    let published = hub_paced_publisher(publisher, window, epoch)
        .await
        .map_err(|e| Failure::new(1, format!("the paced publisher: {e}")))?;
    expected.store(published, Ordering::SeqCst);
    let mut one_way = subscribers.finish().await?;
    one_way.run.published = published;
    Ok(one_way)
}

/// Publishes one stamped message every [`PACE`] until the window closes, then waits for the
/// PONG that says the hub routed them all; returns how many.
async fn hub_paced_publisher(
    mut conn: Conn,
    window: Window,
    epoch: Instant,
) -> std::io::Result<u64> {
    let channel = Channel::parse(ONE_WAY_CHANNEL).map_err(std::io::Error::other)?;
    let mut tick = tokio::time::interval(PACE);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut out, mut published) = (BytesMut::new(), 0u64);
    loop {
        tick.tick().await;
        let now = Instant::now();
        if !window.open(now) {
            break;
        }
        out.clear();
        Publish {
            channel: channel.clone(),
            flags: MessageFlags::NONE,
            reply_to: None,
            headers: Headers::new(),
            body: stamped_body(STAMPED_SIZE, epoch, now),
        }
        .write_frame(&mut out)
        .map_err(std::io::Error::other)?;
        conn.stream.write_all(&out).await?;
        published += 1;
    }
    conn.pinged("the hub closed the paced publisher").await?;
    Ok(published)
}

/// Takes the stamp of every MESSAGE until it has `expected` or, after the window, hears
/// nothing for [`DRAIN_IDLE`].
async fn hub_stamp_reader(
    mut conn: Conn,
    window: Window,
    epoch: Instant,
    expected: Arc<AtomicU64>,
) -> OneWay {
    let mut one_way = OneWay::default();
    while one_way.run.received < expected.load(Ordering::SeqCst) {
        let open = window.open(Instant::now());
        let frame = match conn
            .next_frame(if open { PATIENCE } else { DRAIN_IDLE })
            .await
        {
            Ok(Some(frame)) => frame,
            _ => {
                one_way.run.slow_consumers = u64::from(window.open(Instant::now()));
                break;
            }
        };
        let at = Instant::now();
        match frame.kind {
            kind::MESSAGE => match Message::from_frame(&frame) {
                Ok(message) => one_way.record(&window, epoch, at, &message.body),
                Err(_) => one_way.sample.error("undecodable", 1),
            },
            kind::ERROR => one_way.run.slow_consumers = 1,
            _ => {}
        }
    }
    one_way
}
