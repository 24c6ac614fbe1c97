//! Guards the UDP transport: one self-contained frame per datagram, replies to the sender,
//! malformed datagrams dropped and counted, deadlines as the only timeout, and resending only for
//! routes declared idempotent.

mod support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hubwire::prelude::*;
use hubwire::protocol::{decode_datagram, kind, Envelope, ErrorFrame, Headers, Request};
use support::*;
use tokio::net::UdpSocket;

fn udp_config() -> Config {
    let mut config = loopback_config();
    config.listen.push("udp://127.0.0.1:0".parse().unwrap());
    config
}

fn udp_addr(address: &Address) -> SocketAddr {
    address.socket_addr().unwrap()
}

route!(
    /// The same route declared idempotent on the client side, so a lost datagram is resent.
    EchoIdempotent = "test.echo", Message => Message, idempotent = true
);

/// A typed call over UDP gets its reply, from the handler that also serves TCP.
#[tokio::test]
async fn a_typed_call_over_udp_gets_its_reply() {
    let server = TestServer::with_test_routes(udp_config());
    let client = Client::new(server.udp());
    let m = Message {
        message: "datagram".into(),
    };
    assert_eq!(client.call::<Echo>(&m).await.unwrap(), m);
    let calls = (0..20u64).map(|i| {
        let client = client.clone();
        async move { (i, client.call::<Delay>(&(i * 3)).await) }
    });
    for (i, got) in recv_or_fail("20 calls", futures::future::join_all(calls)).await {
        assert_eq!(got.unwrap(), i * 3);
    }
}

/// Garbage and a datagram whose length field disagrees with its size are dropped and counted,
/// with no reply; the endpoint keeps serving.
#[tokio::test]
async fn malformed_datagrams_are_dropped_and_counted() {
    let server = TestServer::with_test_routes(udp_config());
    let target = udp_addr(&server.udp());
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.send_to(b"garbage!", target).await.unwrap();
    let mut frame = Request {
        id: 1,
        route: "test.echo".into(),
        headers: Headers::new(),
        body: Default::default(),
    }
    .to_frame_bytes()
    .unwrap()
    .to_vec();
    frame.push(0); // one byte more than the length field says
    socket.send_to(&frame, target).await.unwrap();
    let mut buf = [0u8; 1024];
    let reply = tokio::time::timeout(Duration::from_millis(300), socket.recv_from(&mut buf)).await;
    assert!(reply.is_err(), "no reply to a malformed datagram");
    let m = Message {
        message: "still".into(),
    };
    assert_eq!(Client::new(server.udp()).call::<Echo>(&m).await.unwrap(), m);
    let stats = server.udp_stats.as_ref().unwrap();
    assert_eq!(stats.dropped.get(), 2);
    assert_eq!(server.stats("test.echo").dispatched, 1);
}

/// A datagram whose frame is over the maximum frame size is dropped and counted.
#[tokio::test]
async fn an_oversized_datagram_is_dropped_and_counted() {
    let config = Config {
        max_frame: 512,
        ..udp_config()
    };
    let server = TestServer::with_test_routes(config);
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let body = hubwire_core::encode_body(&Message {
        message: "x".repeat(2_000),
    })
    .unwrap();
    let frame = Request {
        id: 2,
        route: "test.echo".into(),
        headers: Headers::new(),
        body,
    }
    .to_frame_bytes()
    .unwrap();
    socket
        .send_to(&frame, udp_addr(&server.udp()))
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let reply = tokio::time::timeout(Duration::from_millis(300), socket.recv_from(&mut buf)).await;
    assert!(reply.is_err(), "no reply to an oversized datagram");
    assert_eq!(server.udp_stats.as_ref().unwrap().dropped.get(), 1);
    assert_eq!(server.stats("test.echo").dispatched, 0);
    // The client checks the size itself and says so, rather than timing out.
    let client = Client::new(server.udp());
    let err = client
        .call::<Echo>(&Message {
            message: "x".repeat(2_000),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, CallError::TooLarge { max: 512, .. }), "{err}");
}

/// A request with no time left is answered timeout over UDP too, and not processed.
#[tokio::test]
async fn udp_requests_honour_deadlines() {
    let server = TestServer::with_test_routes(udp_config());
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut headers = Headers::new();
    headers.set_deadline(Duration::ZERO);
    let body = hubwire_core::encode_body(&Message {
        message: "late".into(),
    })
    .unwrap();
    let frame = Request {
        id: 8,
        route: "test.echo".into(),
        headers,
        body,
    }
    .to_frame_bytes()
    .unwrap();
    socket
        .send_to(&frame, udp_addr(&server.udp()))
        .await
        .unwrap();
    let mut buf = vec![0u8; 65_536];
    let (n, _) = recv_or_fail("a reply", socket.recv_from(&mut buf))
        .await
        .unwrap();
    let reply = decode_datagram(&buf[..n], 65_507).unwrap();
    assert_eq!(reply.kind, kind::ERROR);
    let err = ErrorFrame::from_frame(&reply).unwrap();
    assert_eq!((err.id, err.code), (Some(8), ErrorCode::Timeout));
    assert_eq!(server.stats("test.echo").succeeded, 0);
}

/// Forwards datagrams between one client and the server, dropping the first REQUEST.
async fn lossy_relay(server: SocketAddr) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let relay = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let address = relay.local_addr().unwrap();
    let dropped = Arc::new(AtomicBool::new(false));
    let task = tokio::spawn(async move {
        let mut client = None;
        let mut buf = vec![0u8; 65_536];
        while let Ok((n, from)) = relay.recv_from(&mut buf).await {
            if from == server {
                if let Some(client) = client {
                    let _ = relay.send_to(&buf[..n], client).await;
                }
                continue;
            }
            client = Some(from);
            let is_request = n >= 6 && u16::from_be_bytes([buf[4], buf[5]]) == kind::REQUEST;
            if is_request && !dropped.swap(true, Ordering::SeqCst) {
                continue;
            }
            let _ = relay.send_to(&buf[..n], server).await;
        }
    });
    (address, task)
}

/// A lost datagram of an idempotent route is resent and the call succeeds.
#[tokio::test]
async fn an_idempotent_call_is_resent_after_a_lost_datagram() {
    let server = TestServer::with_test_routes(udp_config());
    let (relay, task) = lossy_relay(udp_addr(&server.udp())).await;
    let client = Client::new(Address::udp(relay));
    let m = Message {
        message: "again".into(),
    };
    let got = client
        .call_with_timeout::<EchoIdempotent>(&m, Duration::from_secs(5))
        .await;
    assert_eq!(got.unwrap(), m);
    task.abort();
}

/// A lost datagram of a route not declared idempotent is not resent: the call times out.
#[tokio::test]
async fn a_non_idempotent_call_is_not_resent() {
    let server = TestServer::with_test_routes(udp_config());
    let (relay, task) = lossy_relay(udp_addr(&server.udp())).await;
    let client = Client::new(Address::udp(relay));
    let m = Message {
        message: "once".into(),
    };
    let err = client
        .call_with_timeout::<Echo>(&m, Duration::from_millis(500))
        .await
        .unwrap_err();
    assert!(matches!(err, CallError::Timeout { .. }), "{err}");
    assert_eq!(
        server.stats("test.echo").dispatched,
        0,
        "never reached the server"
    );
    task.abort();
}

/// Nobody listening on a UDP address: the client's connect fails instead of hanging.
#[tokio::test]
async fn a_udp_client_with_nobody_listening_cannot_connect() {
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let options = ClientOptions {
        connect_timeout: Duration::from_millis(500),
        ..ClientOptions::default()
    };
    let err = Client::connect(Address::udp(port), options)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CallError::Connect { .. } | CallError::ConnectTimeout { .. }
        ),
        "{err}"
    );
}
