//! Guards the connection limits: past the most connections per peer or per listener a new
//! connection is refused with busy, logged and counted, and a place freed is taken again.

mod support;

use std::time::Duration;

use hubwire::prelude::*;
use hubwire::protocol::kind;
use support::*;

fn refused(server: &TestServer) -> u64 {
    server
        .registry
        .snapshot()
        .counter("connections.refused", &[("transport", "tcp")])
        .unwrap_or(0)
}

/// A peer address holding the most connections allowed gets busy on the next; others don't.
#[tokio::test]
async fn a_peer_over_its_connection_limit_is_refused() {
    let config = Config {
        max_connections_per_peer: 2,
        ..loopback_config()
    };
    let server = TestServer::with_test_routes(config);
    let mut first = Raw::connect_from(&server.tcp(), "127.0.0.1").await;
    assert_eq!(first.hello().await.unwrap().kind, kind::CONN);
    let mut second = Raw::connect_from(&server.tcp(), "127.0.0.1").await;
    assert_eq!(second.hello().await.unwrap().kind, kind::CONN);
    let mut third = Raw::connect_from(&server.tcp(), "127.0.0.1").await;
    let err = third.expect_error().await;
    assert_eq!(err.code, ErrorCode::Busy);
    assert!(err.message.contains("per peer"), "{}", err.message);
    third.expect_closed().await;
    assert_eq!(refused(&server), 1);

    // Another peer address is not affected.
    let mut other = Raw::connect_from(&server.tcp(), "127.0.0.2").await;
    assert_eq!(other.hello().await.unwrap().kind, kind::CONN);

    // A place freed is taken again.
    drop(first);
    let mut again = None;
    for _ in 0..100 {
        let mut raw = Raw::connect_from(&server.tcp(), "127.0.0.1").await;
        if raw.hello().await.map(|f| f.kind) == Some(kind::CONN) {
            again = Some(raw);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(again.is_some(), "the freed place was not given back");
}

/// A listener holding the most connections allowed refuses the next, whoever it is from.
#[tokio::test]
async fn a_listener_over_its_connection_limit_is_refused() {
    let config = Config {
        max_connections_per_listener: 1,
        ..loopback_config()
    };
    let server = TestServer::with_test_routes(config);
    let mut first = Raw::connect_from(&server.tcp(), "127.0.0.1").await;
    assert_eq!(first.hello().await.unwrap().kind, kind::CONN);
    let mut second = Raw::connect_from(&server.tcp(), "127.0.0.2").await;
    let err = second.expect_error().await;
    assert_eq!(err.code, ErrorCode::Busy);
    assert_eq!(refused(&server), 1);
}
