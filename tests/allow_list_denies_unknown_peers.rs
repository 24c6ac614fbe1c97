//! Guards deny-by-default admission: peers not on the allow-list are refused on every transport
//! (a denied ERROR and a close on streams, silence on UDP), logged and counted; binding a
//! non-loopback address needs an explicit list. 127.0.0.2 stands for another machine.

mod support;

use std::time::Duration;

use hubwire::prelude::*;
use hubwire::protocol::{kind, Envelope, Headers, Request};
use hubwire::AllowList;
use support::*;
use tokio::net::UdpSocket;

fn only(entries: &[&str]) -> Option<AllowList> {
    let entries: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
    Some(AllowList::try_from(entries).unwrap())
}

fn config_allowing(entries: &[&str]) -> Config {
    let mut config = loopback_and_unix_config();
    config.listen.push("udp://127.0.0.1:0".parse().unwrap());
    config.allow = only(entries);
    config
}

fn denied(server: &TestServer, transport: &str) -> u64 {
    server
        .registry
        .snapshot()
        .counter("peers.denied", &[("transport", transport)])
        .unwrap_or(0)
}

/// A TCP peer outside the list gets a denied ERROR and is disconnected; an allowed one is served.
#[tokio::test]
async fn a_denied_tcp_peer_gets_denied_and_is_disconnected() {
    let server = TestServer::with_test_routes(config_allowing(&["127.0.0.1"]));
    let mut stranger = Raw::connect_from(&server.tcp(), "127.0.0.2").await;
    let err = stranger.expect_error().await;
    assert_eq!(err.code, ErrorCode::Denied);
    assert!(
        err.message.contains("127.0.0.2") && err.message.contains("allow-list"),
        "{}",
        err.message
    );
    stranger.expect_closed().await;
    assert_eq!(denied(&server, "tcp"), 1);

    let mut friend = Raw::connect_from(&server.tcp(), "127.0.0.1").await;
    assert_eq!(friend.hello().await.expect("CONN").kind, kind::CONN);
}

/// The default list allows the whole loopback range and the own uid.
#[tokio::test]
async fn the_default_allows_loopback_peers() {
    let server = TestServer::with_test_routes(loopback_and_unix_config());
    let mut neighbour = Raw::connect_from(&server.tcp(), "127.0.0.2").await;
    assert_eq!(neighbour.hello().await.expect("CONN").kind, kind::CONN);
    let m = Message {
        message: "uid".into(),
    };
    assert_eq!(
        Client::new(server.unix()).call::<Echo>(&m).await.unwrap(),
        m
    );
}

/// A datagram from a peer outside the list is dropped without a reply, and counted.
#[tokio::test]
async fn a_denied_datagram_gets_no_reply() {
    let server = TestServer::with_test_routes(config_allowing(&["127.0.0.1"]));
    let target = server.udp().socket_addr().unwrap();
    let stranger = UdpSocket::bind("127.0.0.2:0").await.unwrap();
    let body = hubwire_core::encode_body(&Message {
        message: "hi".into(),
    })
    .unwrap();
    let frame = Request {
        id: 1,
        route: "test.echo".into(),
        headers: Headers::new(),
        body,
    }
    .to_frame_bytes()
    .unwrap();
    stranger.send_to(&frame, target).await.unwrap();
    let mut buf = [0u8; 2048];
    let reply =
        tokio::time::timeout(Duration::from_millis(300), stranger.recv_from(&mut buf)).await;
    assert!(reply.is_err(), "no reply to a denied datagram");
    assert_eq!(denied(&server, "udp"), 1);
    assert_eq!(server.stats("test.echo").dispatched, 0);

    let friend = Client::new(server.udp());
    let m = Message {
        message: "allowed".into(),
    };
    assert_eq!(friend.call::<Echo>(&m).await.unwrap(), m);
}

/// A Unix-socket peer whose uid is not on the list is denied by its peer credentials.
#[tokio::test]
async fn a_unix_peer_with_another_uid_is_denied() {
    // Only loopback addresses: no uid at all, so the (own-uid) test client is a stranger here.
    let server = TestServer::with_test_routes(config_allowing(&["loopback"]));
    let mut stranger = Raw::connect(&server.unix()).await;
    let err = stranger.expect_error().await;
    assert_eq!(err.code, ErrorCode::Denied);
    assert!(err.message.contains("uid"), "{}", err.message);
    stranger.expect_closed().await;
    assert_eq!(denied(&server, "unix"), 1);
}

/// Listening on a non-loopback address with no explicit list is refused before anything binds.
#[test]
fn an_open_address_without_an_explicit_list_is_refused_at_start() {
    let config = Config {
        listen: vec!["tcp://0.0.0.0:0".parse().unwrap()],
        ..Config::default()
    };
    let err = TestServer::start(config, all_test_routes)
        .err()
        .expect("refused");
    assert!(err.contains("0.0.0.0") && err.contains("allow"), "{err}");
}
