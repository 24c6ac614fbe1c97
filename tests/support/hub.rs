//! Hubs and spokes for tests: a hub on a chosen loopback port (to restart it on the same
//! one), and spokes with quick reconnects and keepalive.

use std::time::Duration;

use hubwire::backoff::BackoffPolicy;
use hubwire::hub::HubLimits;
use hubwire::spoke::{Spoke, SpokeEvent, SpokeOptions, SpokeSpec};
use hubwire::stats::StatsRegistry;
use hubwire::Address;

use super::{loopback_config, recv_or_fail, TestServer};

/// A loopback port free right now (bound, then released), never one handed out before in
/// this process: a test that restarts a hub on its port must not find another test's hub
/// there.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    loop {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().unwrap().port();
        let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// A hub listening on `127.0.0.1:port`.
pub fn hub_on(port: u16) -> TestServer {
    let mut config = loopback_config();
    config.listen = vec![format!("tcp://127.0.0.1:{port}").parse().unwrap()];
    TestServer::start(config, |b| b.hub(HubLimits::default())).expect("the hub starts")
}

/// A hub on an ephemeral loopback port.
pub fn hub() -> TestServer {
    TestServer::start(loopback_config(), |b| b.hub(HubLimits::default())).expect("the hub starts")
}

/// Spoke options for tests: reconnects from 20 ms to 200 ms, a PING every 500 ms.
pub fn quick_spoke_options() -> SpokeOptions {
    SpokeOptions {
        connect_timeout: Duration::from_secs(2),
        backoff: BackoffPolicy::exponential(Duration::from_millis(20), Duration::from_millis(200))
            .with_max_attempts(None),
        ping_every: Duration::from_millis(500),
        ..SpokeOptions::default()
    }
}

/// A supervised spoke of `address` with quick options, ready (connected and subscribed).
/// Call it inside an actix system.
pub async fn ready_spoke(address: Address, name: &str) -> Spoke {
    let (spoke, _supervisor) = SpokeSpec::new(address)
        .name(name)
        .options(quick_spoke_options())
        .start(&StatsRegistry::new());
    spoke
        .ready(super::PATIENCE)
        .await
        .unwrap_or_else(|e| panic!("spoke {name} is not ready: {e}"));
    spoke
}

/// Waits for the first event that `want` accepts, skipping the others.
pub async fn wait_event(
    events: &mut tokio::sync::broadcast::Receiver<SpokeEvent>,
    what: &str,
    want: impl Fn(&SpokeEvent) -> bool,
) -> SpokeEvent {
    recv_or_fail(what, async {
        loop {
            match events.recv().await {
                Ok(event) if want(&event) => return event,
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("events ended while waiting for {what}: {e}"),
            }
        }
    })
    .await
}

/// A new publisher that writes 1 KiB messages to `load/x`, 64 per write, until `done` holds
/// (a slow consumer found, a bridge peer frozen...); answers the publisher, still connected.
pub async fn flood_until(hub: &TestServer, what: &str, done: impl Fn() -> bool) -> super::Raw {
    use hubwire::protocol::{Envelope, Headers, MessageFlags, Publish};
    use tokio::io::AsyncWriteExt;
    let mut publisher = super::Raw::handshake(&hub.tcp()).await;
    let publish = Publish {
        channel: hubwire::pubsub::Channel::parse("load/x").unwrap(),
        flags: MessageFlags::NONE,
        reply_to: None,
        headers: Headers::new(),
        body: bytes::Bytes::from(vec![7u8; 1024]),
    };
    let mut chunk = Vec::new();
    for _ in 0..64 {
        chunk.extend_from_slice(&publish.to_frame_bytes().unwrap());
    }
    recv_or_fail(what, async {
        while !done() {
            publisher.stream.write_all(&chunk).await.unwrap();
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    publisher
}
