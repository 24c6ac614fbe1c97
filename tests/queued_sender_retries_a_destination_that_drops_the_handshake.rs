//! Guards queued senders against giving up early: a destination that accepts the connection and
//! then drops it during the CONN handshake (closes, resets, or says DISCONN as a server shutting
//! down does) is retried like one that refuses the connection, and the message is delivered
//! once a real server answers on that port, instead of being parked after one attempt.

mod support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hubwire::backoff::BackoffPolicy;
use hubwire::prelude::*;
use hubwire::protocol::{Disconnect, Envelope};
use hubwire::queue::{QueueAdmin, QueueData, StoreHandle};
use hubwire::sender::{Destination, SenderSpec};
use hubwire::stats::StatsRegistry;
use hubwire::store::MemoryStore;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

/// Connections the destination drops before a real server takes its port.
const DROPPED: u64 = 3;
/// The sender's wait between attempts, on its own clock: only the test moves it.
const RETRY_EVERY: Duration = Duration::from_secs(30);

/// How the destination drops a connection during the handshake.
#[derive(Debug, Clone, Copy)]
enum Hangup {
    /// Reads the sender's CONN, then closes: an end of stream where the CONN answer should be.
    Close,
    /// Closes with a zero linger: a reset.
    Reset,
    /// Answers DISCONN, as a server that is shutting down does, then closes.
    Disconnect,
}

/// A destination on an ephemeral loopback port that drops its first `DROPPED` connections as
/// `hangup` says, reporting each, then stops listening (so a server can take the port).
async fn dropping_destination(
    hangup: Hangup,
) -> (
    SocketAddr,
    UnboundedReceiver<u64>,
    tokio::task::JoinHandle<()>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (dropped, reports) = unbounded_channel();
    let door = tokio::spawn(async move {
        for n in 1..=DROPPED {
            let (stream, _) = listener.accept().await.unwrap();
            hang_up(stream, hangup).await;
            let _ = dropped.send(n);
        }
    });
    (addr, reports, door)
}

async fn hang_up(mut stream: TcpStream, hangup: Hangup) {
    // Read the CONN first: closing on unread bytes would be a reset, not a close.
    let mut conn = [0u8; 256];
    let _ = stream.read(&mut conn).await;
    match hangup {
        Hangup::Close => {}
        Hangup::Reset => socket2::SockRef::from(&stream)
            .set_linger(Some(Duration::ZERO))
            .unwrap(),
        Hangup::Disconnect => {
            let bye = Disconnect {
                reason: "the server is shutting down".into(),
            };
            let _ = stream.write_all(&bye.to_frame_bytes().unwrap()).await;
        }
    }
}

/// The sender's figures.
async fn figures(admin: &QueueAdmin, queue: &str) -> QueueData {
    admin.data(queue).await.unwrap()
}

/// Waits until `check` holds, or fails saying `what`.
async fn until(what: &str, check: impl Fn() -> bool) {
    recv_or_fail(what, async {
        while !check() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
}

async fn delivered_after_dropped_handshakes(hangup: Hangup) {
    let (addr, mut dropped, door) = dropping_destination(hangup).await;
    let store = StoreHandle::start(Box::new(MemoryStore::new())).unwrap();
    let registry = StatsRegistry::new();
    let clock = Arc::new(AtomicU64::new(1_700_000_000_000));
    let now = clock.clone();
    let name = format!("{hangup:?}").to_lowercase();
    let destination = Destination::new(Address::tcp(addr), "test.echo");
    let (sender, _supervisor) = SenderSpec::new(&name, destination)
        .backoff(BackoffPolicy::fixed(RETRY_EVERY))
        .max_attempts(10)
        .clock(move || now.load(Ordering::SeqCst))
        .start(&store, &registry)
        .unwrap();
    let admin = QueueAdmin::senders(store.clone());
    let retried = registry.counter("sender.retried", &[("sender", name.as_str())]);
    let errored = registry.counter("sender.errored", &[("sender", name.as_str())]);

    let message = Message {
        message: "through".into(),
    };
    let id = sender.send(&message).await.unwrap();
    for n in 1..=DROPPED {
        let seen = recv_or_fail("a dropped handshake", dropped.recv()).await;
        assert_eq!(seen, Some(n));
        until("the attempt's outcome", || {
            retried.get() >= n || errored.get() > 0
        })
        .await;
        if errored.get() > 0 {
            let parked = admin.inspect(&name, id).await.unwrap();
            panic!(
                "{hangup:?}: parked after attempt {n} instead of retried: {:?}",
                parked.last_error()
            );
        }
        if n < DROPPED {
            clock.fetch_add(RETRY_EVERY.as_millis() as u64, Ordering::SeqCst);
        }
    }

    // The destination comes back: a real server on the same port.
    recv_or_fail("the destination to stop listening", door)
        .await
        .unwrap();
    let config = Config {
        listen: vec![Address::tcp(addr)],
        ..loopback_config()
    };
    let server = TestServer::with_test_routes(config);
    clock.fetch_add(RETRY_EVERY.as_millis() as u64, Ordering::SeqCst);
    recv_or_fail("the delivery", async {
        while figures(&admin, &name).await.processed < 1 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    let data = figures(&admin, &name).await;
    assert_eq!((data.pending, data.errors), (0, 0), "{hangup:?}: {data:?}");
    assert_eq!(retried.get(), DROPPED, "one retry per dropped handshake");
    assert_eq!(server.stats("test.echo").succeeded, 1, "delivered once");
}

#[actix::test]
async fn a_handshake_closed_by_the_destination_is_retried_until_delivered() {
    delivered_after_dropped_handshakes(Hangup::Close).await;
}

#[actix::test]
async fn a_handshake_reset_by_the_destination_is_retried_until_delivered() {
    delivered_after_dropped_handshakes(Hangup::Reset).await;
}

#[actix::test]
async fn a_disconn_during_the_handshake_is_retried_until_delivered() {
    delivered_after_dropped_handshakes(Hangup::Disconnect).await;
}
