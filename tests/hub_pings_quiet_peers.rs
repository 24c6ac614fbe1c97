//! Guards the hub's keepalive: a quiet hub connection is sent PINGs; one that answers stays,
//! one that does not (a dead peer) is closed after `hub_max_pings_out` PINGs and its
//! subscriptions go with it.

mod support;

use std::time::{Duration, Instant};

use hubwire::hub::HubLimits;
use hubwire::protocol::{kind, Envelope, ErrorCode, ErrorFrame, Ping, Pong, Subscribe};
use hubwire::pubsub::Pattern;
use support::*;

const PING_INTERVAL: Duration = Duration::from_millis(150);

fn hub() -> TestServer {
    let mut config = loopback_config();
    config.hub_ping_interval = PING_INTERVAL;
    config.hub_max_pings_out = 2;
    config.idle_timeout = Duration::from_secs(60);
    TestServer::start(config, |b| b.hub(HubLimits::default())).expect("the hub starts")
}

/// A connection the hub counts as a hub peer (it has subscribed), after the table applied it.
async fn subscriber(server: &TestServer) -> Raw {
    let mut raw = Raw::handshake(&server.tcp()).await;
    raw.send_envelope(&Subscribe::new(1, Pattern::parse("news").unwrap()))
        .await;
    raw.send_envelope(&Ping { nonce: 0 }).await;
    let pong = recv_or_fail("the barrier's PONG", raw.recv())
        .await
        .unwrap();
    assert_eq!(pong.kind, kind::PONG);
    raw
}

#[tokio::test]
async fn a_peer_that_never_answers_is_pinged_then_dropped_with_its_subscriptions() {
    let server = hub();
    let mut dead = subscriber(&server).await;
    let subscriptions = || {
        server
            .registry
            .snapshot()
            .gauge("hub.subscriptions", &[])
            .unwrap_or(-1)
    };
    assert_eq!(subscriptions(), 1);
    let quiet_since = Instant::now();
    let mut pings = 0;
    let error = recv_or_fail("the hub gives up on the peer", async {
        loop {
            let frame = dead.recv().await.expect("told before the close");
            match frame.kind {
                kind::PING => pings += 1,
                kind::ERROR => return ErrorFrame::from_frame(&frame).unwrap(),
                other => panic!("unexpected frame kind {other}"),
            }
        }
    })
    .await;
    assert_eq!(pings, 2, "hub_max_pings_out PINGs, then the close");
    assert_eq!(error.code, ErrorCode::Timeout);
    assert!(error.message.contains("PINGs"), "{}", error.message);
    assert!(quiet_since.elapsed() >= PING_INTERVAL * 3);
    dead.expect_closed().await;
    recv_or_fail("the table drops the subscription", async {
        while subscriptions() != 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_peer_that_answers_pings_stays_connected() {
    let server = hub();
    let mut alive = subscriber(&server).await;
    let mut answered = 0;
    // Five times as long as the hub would wait for a silent peer.
    while answered < 10 {
        let frame = recv_or_fail("a PING", alive.recv())
            .await
            .expect("still connected");
        assert_eq!(frame.kind, kind::PING, "{frame:?}");
        let Ping { nonce } = Ping::from_frame(&frame).unwrap();
        alive.send_envelope(&Pong { nonce }).await;
        answered += 1;
    }
    alive.send_envelope(&Ping { nonce: 9 }).await;
    let pong = recv_or_fail("a PONG", alive.recv()).await.unwrap();
    assert_eq!(pong.kind, kind::PONG, "the hub still serves the peer");
}
