//! Guards what a NATS client is refused on a hub's `nats://` listener, raw bytes in and out,
//! with nats-server's texts: an oversized control line or payload and an unknown operation
//! close the connection after their `-ERR`; an invalid subject does not; credentials are
//! checked through the hub's gate (`-ERR 'Authorization Violation'`) and what a client may
//! publish or subscribe to by its permissions (`-ERR 'Permissions Violation for ...'`); and a
//! subscriber that stops reading is cut off as a slow consumer, `-ERR 'Slow Consumer'` last.

/// Hubs with a `nats://` listener and NATS clients of them (a module of its own, not in
/// `support`: only the tests that speak NATS build it).
#[path = "support/nats.rs"]
mod nats_support;
mod support;

use std::sync::Arc;
use std::time::Duration;

use hubwire::hub::HubLimits;
use hubwire::nats::{Credentials, NatsGate, NatsPermissions};
use hubwire::pubsub::{Channel, Pattern};
use nats_support::*;
use support::*;

#[actix::test]
async fn an_oversized_control_line_or_payload_or_an_unknown_operation_closes() {
    let mut config = nats_hub_config(0, 0);
    config.nats_max_payload = 64;
    config.nats_max_control_line = 256;
    let hub = start_nats_hub(config);

    let mut raw = RawNats::connect(&hub).await;
    raw.send(b"CONNECT {}\r\nPUB a.b 65\r\n").await;
    raw.refused_and_closed("-ERR 'Maximum Payload Violation'")
        .await;

    let mut raw = RawNats::connect(&hub).await;
    raw.send(format!("SUB {} 1\r\n", "a".repeat(300)).as_bytes())
        .await;
    raw.refused_and_closed("-ERR 'Maximum Control Line Exceeded'")
        .await;

    let mut raw = RawNats::connect(&hub).await;
    raw.send(b"HELLO\r\n").await;
    raw.refused_and_closed("-ERR 'Unknown Protocol Operation'")
        .await;

    // The hub serves everyone else meanwhile.
    let client = nats_client(&hub.nats_url()).await;
    client.publish("still.here", "ok".into()).await.unwrap();
}

#[actix::test]
async fn invalid_subjects_are_refused_and_the_connection_stays() {
    let hub = nats_hub();
    let mut raw = RawNats::connect(&hub).await;
    raw.send(b"CONNECT {\"verbose\":true}\r\n").await;
    assert_eq!(raw.line().await.as_deref(), Some("+OK"));
    raw.send(b"PUB a.* 1\r\nx\r\n").await;
    assert_eq!(
        raw.line().await.as_deref(),
        Some("-ERR 'Invalid Publish Subject'")
    );
    raw.send(b"SUB a..b 1\r\n").await;
    assert_eq!(raw.line().await.as_deref(), Some("-ERR 'Invalid Subject'"));
    raw.send(b"SUB a.>.b 1\r\n").await;
    assert_eq!(raw.line().await.as_deref(), Some("-ERR 'Invalid Subject'"));
    raw.send(b"SUB a.b 1\r\nPUB a.b 2\r\nhi\r\nPING\r\n").await;
    for want in ["+OK", "+OK", "MSG a.b 1 2", "hi", "PONG"] {
        assert_eq!(raw.line().await.as_deref(), Some(want));
    }
}

/// A gate with one user, `alice`/`secret`, who may publish and subscribe under `ok.` only.
#[derive(Debug)]
struct OneUser;

#[derive(Debug)]
struct UnderOk;

impl NatsPermissions for UnderOk {
    fn may_publish(&self, channel: &Channel) -> bool {
        channel.as_str().starts_with("ok/")
    }

    fn may_subscribe(&self, pattern: &Pattern) -> bool {
        pattern.to_string().starts_with("ok/")
    }
}

impl NatsGate for OneUser {
    fn auth_required(&self) -> bool {
        true
    }

    fn admit(&self, c: Credentials<'_>) -> Option<Arc<dyn NatsPermissions>> {
        (c.user == Some("alice") && c.pass == Some("secret")).then(|| Arc::new(UnderOk) as _)
    }
}

fn hub_with_one_user() -> TestServer {
    TestServer::start(nats_hub_config(0, 0), |b| {
        b.hub(HubLimits::default()).nats_gate(Arc::new(OneUser))
    })
    .expect("the hub starts")
}

#[actix::test]
async fn credentials_are_checked_and_permissions_enforced_through_the_gate() {
    let hub = hub_with_one_user();

    let mut raw = RawNats::connect(&hub).await;
    raw.send(b"CONNECT {\"user\":\"alice\",\"pass\":\"wrong\"}\r\n")
        .await;
    raw.refused_and_closed("-ERR 'Authorization Violation'")
        .await;

    let mut raw = RawNats::connect(&hub).await;
    raw.send(b"SUB ok.x 1\r\n").await;
    raw.refused_and_closed("-ERR 'Authorization Violation'")
        .await;

    let mut raw = RawNats::connect(&hub).await;
    raw.send(b"CONNECT {\"user\":\"alice\",\"pass\":\"secret\"}\r\n")
        .await;
    raw.send(b"PUB no.x 1\r\nx\r\nSUB no.> 1\r\nSUB ok.> 2\r\nPUB ok.x 1\r\ny\r\nPING\r\n")
        .await;
    for want in [
        "-ERR 'Permissions Violation for Publish to \"no.x\"'",
        "-ERR 'Permissions Violation for Subscription to \"no.>\"'",
        "MSG ok.x 2 1",
        "y",
        "PONG",
    ] {
        assert_eq!(raw.line().await.as_deref(), Some(want));
    }

    // The official client with the same credentials.
    let options =
        async_nats::ConnectOptions::with_user_and_password("alice".into(), "secret".into());
    let client = nats_client_with(&hub.nats_url(), options).await;
    assert!(client.server_info().auth_required);
    let wrong = async_nats::ConnectOptions::with_user_and_password("alice".into(), "nope".into())
        .connect(hub.nats_url())
        .await;
    assert!(wrong.is_err(), "refused");
}

#[actix::test]
async fn a_nats_subscriber_that_stops_reading_is_cut_off_as_a_slow_consumer() {
    let mut config = nats_hub_config(0, 0);
    config.send_buffer_bytes = 64 * 1024;
    let limits = HubLimits {
        max_outbound_bytes: 256 * 1024,
        ..HubLimits::default()
    };
    let hub = TestServer::start(config, move |b| b.hub(limits)).expect("the hub starts");
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(32 * 1024).unwrap();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", hub.nats_port()).parse().unwrap();
    socket.connect(&addr.into()).unwrap();
    socket.set_nonblocking(true).unwrap();
    let mut raw = RawNats::over(tokio::net::TcpStream::from_std(socket.into()).unwrap());
    assert!(raw.line().await.unwrap().starts_with("INFO"));
    raw.send(b"CONNECT {}\r\nSUB load.> 1\r\nPING\r\n").await;
    assert_eq!(raw.line().await.as_deref(), Some("PONG"));

    let publisher = nats_client(&hub.nats_url()).await;
    let slow = || {
        hub.registry
            .snapshot()
            .counter("hub.slow_consumers", &[])
            .unwrap_or(0)
    };
    recv_or_fail("the subscriber to be found slow", async {
        while slow() == 0 {
            for _ in 0..64 {
                publisher
                    .publish("load.x", vec![7u8; 1024].into())
                    .await
                    .unwrap();
            }
            publisher.flush().await.unwrap();
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    // What was already on its way comes first, whole messages only, then the error, then the
    // end.
    let mut last = None;
    while let Some(line) = raw.line().await {
        assert!(
            line.starts_with("MSG load.x 1 1024") || line.len() == 1024 || line.starts_with("-ERR"),
            "{line:.60}"
        );
        last = Some(line);
    }
    assert_eq!(last.as_deref(), Some("-ERR 'Slow Consumer'"));
}
