//! Guards the cut-off of slow consumers: once the hub finds a subscriber slow, its backlog is
//! dropped, the error goes ahead of what was still queued, and its socket is shut within a
//! second even if it never reads again.

mod support;

use std::time::{Duration, Instant};

use hubwire::hub::HubLimits;
use hubwire::protocol::{kind, Envelope, ErrorCode, ErrorFrame, Ping, Subscribe};
use hubwire::pubsub::Pattern;
use support::hub::flood_until;
use support::*;

const BOUND: usize = 2 * 1024 * 1024;

fn hub_with_small_bound() -> TestServer {
    let mut config = loopback_config();
    config.send_buffer_bytes = 64 * 1024;
    let limits = HubLimits {
        max_outbound_bytes: BOUND,
        ..HubLimits::default()
    };
    TestServer::start(config, move |b| b.hub(limits)).expect("the hub starts")
}

fn slow_consumers(hub: &TestServer) -> u64 {
    hub.registry
        .snapshot()
        .counter("hub.slow_consumers", &[])
        .unwrap_or(0)
}

fn writers(hub: &TestServer) -> i64 {
    let stats = hub.registry.snapshot();
    stats
        .gauge("connections.writers", &[("transport", "tcp")])
        .unwrap_or(0)
}

/// A subscriber to `load/**` with a small receive buffer, its subscription in force.
async fn subscriber(hub: &TestServer) -> Raw {
    let mut raw = Raw::connect_with_recv_buffer(&hub.tcp(), 32 * 1024).await;
    assert_eq!(raw.hello().await.unwrap().kind, kind::CONN);
    raw.send_envelope(&Subscribe::new(1, Pattern::parse("load/**").unwrap()))
        .await;
    raw.send_envelope(&Ping { nonce: 1 }).await;
    while raw.recv().await.expect("a PONG").kind != kind::PONG {}
    raw
}

/// Publishes 1 KiB messages to `load/x` until the hub finds a subscriber slow.
async fn flood_until_slow(hub: &TestServer) -> Raw {
    flood_until(hub, "a slow consumer", || slow_consumers(hub) > 0).await
}

#[actix_rt::test]
async fn a_subscriber_that_never_reads_again_has_its_socket_shut_within_a_second() {
    let hub = hub_with_small_bound();
    let _subscriber = subscriber(&hub).await;
    let _publisher = flood_until_slow(&hub).await;
    let cut = Instant::now();
    until_writers(&hub, 1).await;
    assert!(
        cut.elapsed() < Duration::from_secs(3),
        "shut after {:?}",
        cut.elapsed()
    );
}

async fn until_writers(hub: &TestServer, n: i64) {
    recv_or_fail("the subscriber's writer to end", async {
        while writers(hub) != n {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

#[actix_rt::test]
async fn the_error_goes_ahead_of_the_backlog() {
    let hub = hub_with_small_bound();
    let mut subscriber = subscriber(&hub).await;
    let _publisher = flood_until_slow(&hub).await;
    let mut messages = 0usize;
    let mut last = None;
    while let Some(frame) = subscriber.recv().await {
        if frame.kind == kind::MESSAGE {
            messages += frame.payload.len() + 6;
        }
        last = Some(frame);
    }
    let last = last.expect("frames before the end");
    assert_eq!(last.kind, kind::ERROR, "the error is the last frame");
    let error = ErrorFrame::from_frame(&last).unwrap();
    assert_eq!(error.code, ErrorCode::Busy);
    assert!(error.message.contains("slow consumer"), "{}", error.message);
    assert!(
        messages < BOUND / 2,
        "the backlog was dropped, not delivered ahead of the error ({messages} bytes came first)"
    );
}
