//! Probing a bridge before a row: a subscriber on the far hub is ready only once a message
//! published on the near hub has reached it, so no row's window opens while interest is still
//! crossing (about 20 ms per hop, longer while the bridge itself is being admitted).
//!
//! The subscriber subscribes to the row's channel first and to [`PROBE_CHANNEL`] second. Interest
//! crosses a bridge in order (versioned updates, applied in sequence), so once a probe arrives
//! the row's channel is known beyond the bridge too. It then unsubscribes the probe, reads up
//! to the PONG that says the hub applied it, and passes over whatever comes in the next
//! [`PROBE_QUIET`] (a PONG is written in the urgent lane, so a probe already queued may follow
//! it): no row message is sent before every subscriber is ready, so no probe is counted as one.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use hubwire_core::protocol::{kind, Envelope, Headers, MessageFlags, Publish, Unsubscribe};
use hubwire_core::pubsub::Channel;
use tokio::io::AsyncWriteExt;

use super::raw_client::{cannot_connect, pattern, Conn};
use super::Failure;

/// The channel probes are published to (NATS: `bench.probe`).
pub(super) const PROBE_CHANNEL: &str = "bench/probe";
/// How long a probe may take to cross, from the first try (the dialer's first attempt and
/// admission included).
pub(super) const PROBE_PATIENCE: Duration = Duration::from_secs(10);
/// How often the prober publishes.
pub(super) const PROBE_EVERY: Duration = Duration::from_millis(5);
/// How long a subscriber reads (and passes over) after its probe subscription is gone.
pub(super) const PROBE_QUIET: Duration = Duration::from_millis(100);
/// The sid of the probe subscription (the row's own is 1).
const PROBE_SID: u64 = 2;

/// A connection on the near hub publishing a probe every [`PROBE_EVERY`] until dropped.
#[derive(Debug)]
pub(super) struct Prober(tokio::task::JoinHandle<()>);

impl Prober {
    /// Connects to `near` and starts probing.
    pub async fn start(near: SocketAddr) -> Result<Prober, Failure> {
        let mut conn = Conn::connect(near).await.map_err(cannot_connect)?;
        let probe = Publish {
            channel: Channel::parse(PROBE_CHANNEL)
                .map_err(|e| Failure::new(1, format!("{PROBE_CHANNEL}: {e}")))?,
            flags: MessageFlags::NONE,
            reply_to: None,
            headers: Headers::new(),
            body: bytes::Bytes::from_static(b"probe"),
        };
        let mut out = BytesMut::new();
        probe
            .write_frame(&mut out)
            .map_err(|e| Failure::new(1, format!("probe: {e}")))?;
        Ok(Prober(tokio::spawn(async move {
            // Unanswered PINGs are not needed: the prober's connection is read by no one, and a
            // few hundred small probes fit in the socket buffers.
            while conn.stream.write_all(&out).await.is_ok() {
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

/// Subscribes `conn` (on the far hub, already subscribed to its row's channel) to the probes,
/// waits for one, unsubscribes and reads up to the PONG after which no probe follows.
pub(super) async fn await_probe(conn: &mut Conn) -> std::io::Result<()> {
    conn.subscribe_as(PROBE_SID, probe_pattern()?).await?;
    let crossed = async {
        loop {
            match conn.next_frame(PROBE_PATIENCE).await? {
                Some(frame) if frame.kind == kind::MESSAGE => return Ok(()),
                Some(_) => {}
                None => return Err(std::io::Error::other("closed while probing")),
            }
        }
    };
    tokio::time::timeout(PROBE_PATIENCE, crossed)
        .await
        .map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no probe crossed the bridge in {PROBE_PATIENCE:?}"),
            )
        })??;
    conn.send_envelope(&Unsubscribe { sid: PROBE_SID }).await?;
    conn.pinged("closed while unsubscribing the probe").await?;
    loop {
        match conn.next_frame(PROBE_QUIET).await {
            Ok(Some(_)) => {}
            Ok(None) => return Err(std::io::Error::other("closed after probing")),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

fn probe_pattern() -> std::io::Result<hubwire_core::pubsub::Pattern> {
    pattern(PROBE_CHANNEL).map_err(|f| std::io::Error::other(f.message))
}
