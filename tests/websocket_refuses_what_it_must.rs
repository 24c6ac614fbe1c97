//! Guards what a WebSocket listener refuses, and that each refusal touches only its own peer:
//! browser origins not allowed (HTTP 403), text messages (close 1003), messages that are not
//! one frame (1007) or are over the frame size (1009), peers off the allow-list (1008) or over
//! a connection limit (1013), upgrades that never come (the handshake timeout), refused peers
//! past the bound of those being answered (closed at once), and slow consumers. Pings are
//! answered.

mod support;
#[path = "support/websocket.rs"]
mod ws;

use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use hubwire::hub::HubLimits;
use hubwire::prelude::*;
use hubwire::protocol::{kind, Envelope, Headers, Ping, Request, Subscribe};
use hubwire::pubsub::Pattern;
use hubwire::AllowList;
use support::*;
use tokio::io::AsyncReadExt;
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage};
use ws::{Seen, WsPeer};

fn ws_config() -> Config {
    Config {
        listen: vec!["ws://127.0.0.1:0".parse().unwrap()],
        ..loopback_config()
    }
}

fn ws_address(server: &TestServer) -> Address {
    server
        .addresses
        .iter()
        .find(|a| a.scheme() == "ws")
        .cloned()
        .expect("a ws:// listener")
}

fn counter(server: &TestServer, name: &str) -> u64 {
    server
        .registry
        .snapshot()
        .counter(name, &[("transport", "ws")])
        .unwrap_or(0)
}

/// Waits for counter `name` to reach `n` (it is counted just after the peer is answered).
async fn until_counted(server: &TestServer, name: &str, n: u64) {
    recv_or_fail(name, async {
        while counter(server, name) != n {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

fn http_status(result: Result<WsPeer, WsError>) -> u16 {
    match result {
        Err(WsError::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("expected an HTTP refusal, got {e}"),
        Ok(_) => panic!("expected an HTTP refusal, the upgrade succeeded"),
    }
}

/// A served connection still gets its answers.
async fn still_served(peer: &mut WsPeer) {
    let m = Message {
        message: "still here".into(),
    };
    let reply = peer.call(99, "test.echo", &m).await.expect("a RESPONSE");
    assert_eq!(hubwire::decode_body::<Message>(&reply.body).unwrap(), m);
}

#[tokio::test]
async fn browser_origins_are_refused_unless_configured_and_programs_pass() {
    let server = TestServer::with_test_routes(ws_config());
    let address = ws_address(&server);
    // By default a page of any origin is refused, before the upgrade.
    let page = WsPeer::open(&address, "/", Some("https://evil.example"), None).await;
    assert_eq!(http_status(page), 403);
    until_counted(&server, "connections.ws_origins_refused", 1).await;
    // A program (no Origin header) is served.
    let mut program = WsPeer::open(&address, "/", None, None).await.unwrap();
    program.hello().await;

    let config = Config {
        ws_allowed_origins: vec!["http://localhost:8080".into()],
        ..ws_config()
    };
    let server = TestServer::with_test_routes(config);
    let address = ws_address(&server);
    let mut listed = WsPeer::open(&address, "/", Some("http://localhost:8080"), None)
        .await
        .expect("a listed origin is let in");
    listed.hello().await;
    still_served(&mut listed).await;
    let other = WsPeer::open(&address, "/", Some("http://localhost:8081"), None).await;
    assert_eq!(http_status(other), 403);
}

#[tokio::test]
async fn bad_origins_in_the_config_stop_the_start() {
    let config = Config {
        ws_allowed_origins: vec!["localhost:8080".into()],
        ..ws_config()
    };
    let err = TestServer::start(config, |b| b).err().expect("refused");
    assert!(err.contains("ws_allowed_origins"), "{err}");
}

#[tokio::test]
async fn a_text_message_gets_a_protocol_error_and_close_1003_and_others_are_served() {
    let server = TestServer::with_test_routes(ws_config());
    let address = ws_address(&server);
    let mut bystander = WsPeer::handshake(&address).await;
    let mut peer = WsPeer::handshake(&address).await;
    peer.send(WsMessage::text("{\"route\":\"test.echo\"}"))
        .await;
    let err = peer.expect_error().await;
    assert_eq!(err.code, ErrorCode::Protocol);
    assert!(err.message.contains("binary"), "{}", err.message);
    assert_eq!(peer.expect_close().await, Some(1003));
    still_served(&mut bystander).await;
}

#[tokio::test]
async fn a_message_that_is_not_one_frame_gets_close_1007() {
    let server = TestServer::with_test_routes(ws_config());
    let mut peer = WsPeer::handshake(&ws_address(&server)).await;
    let ping = Ping { nonce: 1 }.to_frame_bytes().unwrap();
    let two = [&ping[..], &ping[..]].concat();
    peer.send(WsMessage::Binary(Bytes::from(two))).await;
    let err = peer.expect_error().await;
    assert_eq!(err.code, ErrorCode::Protocol);
    assert!(err.message.contains("exactly one frame"), "{}", err.message);
    assert_eq!(peer.expect_close().await, Some(1007));
}

#[tokio::test]
async fn an_oversized_message_gets_frame_too_large_and_others_keep_being_served() {
    let config = Config {
        max_frame: 1024,
        ..ws_config()
    };
    let server = TestServer::with_test_routes(config);
    let address = ws_address(&server);
    let mut bystander = WsPeer::handshake(&address).await;
    let mut peer = WsPeer::handshake(&address).await;
    // A message of a frame just over the maximum: refused before it is buffered whole.
    let mut big = vec![0u8; 4 + 1025];
    big[..4].copy_from_slice(&1025u32.to_be_bytes());
    peer.send(WsMessage::Binary(Bytes::from(big))).await;
    let err = peer.expect_error().await;
    assert_eq!(err.code, ErrorCode::FrameTooLarge);
    assert_eq!(peer.expect_close().await, Some(1009));
    still_served(&mut bystander).await;
    // A message of a frame of exactly the maximum size is carried.
    let mut fits = WsPeer::handshake(&address).await;
    let request = |n: usize| Request {
        id: 1,
        route: "test.echo".into(),
        headers: Headers::new(),
        body: hubwire::encode_body(&Message {
            message: "x".repeat(n),
        })
        .unwrap(),
    };
    let n = (900..1024)
        .find(|&n| request(n).to_frame_bytes().unwrap().len() == 4 + 1024)
        .expect("a body that makes the frame 1024 bytes long");
    fits.send_envelope(&request(n)).await;
    match fits.next().await {
        Seen::Frame(frame) => assert_eq!(frame.kind, kind::RESPONSE),
        other => panic!("expected the RESPONSE, saw {other:?}"),
    }
}

#[tokio::test]
async fn pings_are_answered_with_their_payload() {
    let server = TestServer::with_test_routes(ws_config());
    let mut peer = WsPeer::handshake(&ws_address(&server)).await;
    peer.ws
        .send(WsMessage::Ping(Bytes::from_static(b"are you there")))
        .await
        .unwrap();
    let pong = recv_or_fail("a pong", async {
        loop {
            match peer.ws.next().await {
                Some(Ok(WsMessage::Pong(payload))) => return payload,
                Some(Ok(_)) => {}
                other => panic!("the connection ended: {other:?}"),
            }
        }
    })
    .await;
    assert_eq!(&pong[..], b"are you there");
    still_served(&mut peer).await;
}

#[tokio::test]
async fn a_peer_off_the_allow_list_reads_denied_and_close_1008() {
    let config = Config {
        allow: Some(AllowList::try_from(vec!["127.0.0.2".to_owned()]).unwrap()),
        ..ws_config()
    };
    let server = TestServer::with_test_routes(config);
    let mut peer = WsPeer::connect(&ws_address(&server)).await;
    let err = peer.expect_error().await;
    assert_eq!(err.code, ErrorCode::Denied);
    assert!(err.message.contains("allow-list"), "{}", err.message);
    assert_eq!(peer.expect_close().await, Some(1008));
    assert_eq!(counter(&server, "peers.denied"), 1);
}

/// Refused peers get the upgrade that tells them why, at most 64 at once per listener; past
/// that a refused peer's socket is closed at once, and once they go a refusal is read again.
#[tokio::test]
async fn refused_peers_waiting_for_their_upgrade_are_bounded() {
    let config = Config {
        allow: Some(AllowList::try_from(vec!["127.0.0.2".to_owned()]).unwrap()),
        handshake_timeout: Duration::from_secs(20),
        ..ws_config()
    };
    let server = TestServer::with_test_routes(config);
    let address = ws_address(&server);
    let at = address.socket_addr().unwrap();
    let silent = silent_sockets(at, 64).await;
    assert!(
        closed_at_once(at, Duration::from_secs(5)).await,
        "a refused peer past the bound was held"
    );
    drop(silent);
    let mut peer = recv_or_fail("the upgrade again", async {
        loop {
            match WsPeer::open(&address, "/", None, None).await {
                Ok(peer) => return peer,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    })
    .await;
    assert_eq!(peer.expect_error().await.code, ErrorCode::Denied);
}

#[tokio::test]
async fn a_peer_over_the_connection_limit_reads_busy_and_close_1013() {
    let config = Config {
        max_connections_per_listener: 1,
        ..ws_config()
    };
    let server = TestServer::with_test_routes(config);
    let address = ws_address(&server);
    let mut first = WsPeer::handshake(&address).await;
    let mut second = WsPeer::connect(&address).await;
    let err = second.expect_error().await;
    assert_eq!(err.code, ErrorCode::Busy);
    assert_eq!(second.expect_close().await, Some(1013));
    still_served(&mut first).await;
}

#[tokio::test]
async fn a_socket_that_never_upgrades_is_closed_after_the_handshake_timeout() {
    let config = Config {
        handshake_timeout: Duration::from_millis(200),
        ..ws_config()
    };
    let server = TestServer::with_test_routes(config);
    let addr = ws_address(&server).socket_addr().unwrap();
    let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut buf = [0u8; 64];
    let read = recv_or_fail("the close", silent.read(&mut buf)).await;
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    until_counted(&server, "connections.ws_upgrades_failed", 1).await;
    // A request that is no upgrade at all is closed too, and the listener carries on.
    let mut http = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut http, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = recv_or_fail("the close", http.read_to_end(&mut answer)).await;
    let mut peer = WsPeer::handshake(&ws_address(&server)).await;
    still_served(&mut peer).await;
}

/// A subscriber over ws:// that stops reading is a slow consumer like any other: cut off,
/// and counted, while the publisher goes on.
#[actix_rt::test]
async fn a_ws_subscriber_that_never_reads_is_cut_off_as_a_slow_consumer() {
    let mut config = loopback_config();
    config.listen.push("ws://127.0.0.1:0".parse().unwrap());
    let limits = HubLimits {
        max_outbound_bytes: 2 * 1024 * 1024,
        ..HubLimits::default()
    };
    let hub = TestServer::start(config, move |b| b.hub(limits)).unwrap();
    let mut subscriber = WsPeer::handshake(&ws_address(&hub)).await;
    subscriber
        .send_envelope(&Subscribe::new(1, Pattern::parse("load/**").unwrap()))
        .await;
    subscriber.send_envelope(&Ping { nonce: 1 }).await;
    loop {
        match subscriber.next().await {
            Seen::Frame(frame) if frame.kind == kind::PONG => break,
            Seen::Frame(_) => {}
            other => panic!("expected PONG, saw {other:?}"),
        }
    }
    let slow = || {
        hub.registry
            .snapshot()
            .counter("hub.slow_consumers", &[])
            .unwrap_or(0)
            > 0
    };
    let _publisher = support::hub::flood_until(&hub, "a slow consumer", slow).await;
    // Its connection is closed: the writer ends however much it was owed.
    recv_or_fail("the subscriber's connection to close", async {
        loop {
            let open = hub
                .registry
                .snapshot()
                .gauge("connections.open", &[("transport", "ws")])
                .unwrap_or(0);
            if open == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

/// A client that speaks plain WebSocket to a `wss://` port fails the TLS handshake: counted
/// as such, and the listener carries on.
#[tokio::test]
async fn a_plain_client_on_a_wss_port_is_a_failed_tls_handshake() {
    let pki = support::certs::Pki::new("wss-plain");
    let config = Config {
        listen: vec!["wss://127.0.0.1:0".parse().unwrap()],
        tls: Some(pki.server_config(&pki.server(&["localhost"]), hubwire::tls::ClientAuth::None)),
        ..loopback_config()
    };
    let server = TestServer::with_test_routes(config);
    let wss = server
        .addresses
        .iter()
        .find(|a| a.scheme() == "wss")
        .cloned()
        .unwrap();
    let plain: Address = wss.to_string().replace("wss://", "ws://").parse().unwrap();
    assert!(WsPeer::open(&plain, "/", None, None).await.is_err());
    recv_or_fail("the failed handshake to be counted", async {
        loop {
            let failed = server
                .registry
                .snapshot()
                .counter("connections.tls_handshakes_failed", &[("transport", "wss")])
                .unwrap_or(0);
            if failed == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

/// A connection that ends normally (here, the idle timeout) says DISCONN and closes with the
/// normal close code, 1000.
#[tokio::test]
async fn an_idle_connection_is_closed_with_disconn_and_code_1000() {
    let config = Config {
        idle_timeout: Duration::from_millis(200),
        ..ws_config()
    };
    let server = TestServer::with_test_routes(config);
    let mut peer = WsPeer::handshake(&ws_address(&server)).await;
    match peer.next().await {
        Seen::Frame(frame) => assert_eq!(frame.kind, kind::DISCONN),
        other => panic!("expected DISCONN, saw {other:?}"),
    }
    assert_eq!(peer.expect_close().await, Some(1000));
}
