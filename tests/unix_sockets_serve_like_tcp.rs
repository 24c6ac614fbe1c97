//! Guards that Unix sockets are a full transport: the same framing, pipelining, errors and
//! timeouts as TCP, served by the same handlers at the same time.

mod support;

use std::time::Duration;

use bytes::Bytes;
use hubwire::prelude::*;
use hubwire::protocol::{kind, Envelope, Headers, Request};
use support::*;

/// One server serves the same route on TCP and on a Unix socket at once.
#[tokio::test]
async fn one_handler_serves_tcp_and_unix_together() {
    let server = TestServer::with_test_routes(loopback_and_unix_config());
    let m = Message {
        message: "both".into(),
    };
    for address in [server.tcp(), server.unix()] {
        let client = Client::new(address);
        assert_eq!(client.call::<Echo>(&m).await.unwrap(), m);
    }
    assert_eq!(server.stats("test.echo").succeeded, 2);
}

/// Calls are pipelined on one Unix connection and matched by id.
#[tokio::test]
async fn unix_calls_are_pipelined() {
    let server = TestServer::with_test_routes(loopback_and_unix_config());
    let client = Client::new(server.unix());
    let calls = (0..30u64).map(|i| {
        let client = client.clone();
        async move { (150 - i * 5, client.call::<Delay>(&(150 - i * 5)).await) }
    });
    for (sent, got) in recv_or_fail("30 calls", futures::future::join_all(calls)).await {
        assert_eq!(got.unwrap(), sent);
    }
}

/// Garbage and oversized frames on a Unix socket get frame-too-large and a close; a truncated
/// frame is dropped; the server keeps serving.
#[tokio::test]
async fn bad_input_on_unix_is_refused_and_the_server_carries_on() {
    let config = Config {
        max_frame: 1024,
        ..loopback_and_unix_config()
    };
    let server = TestServer::with_test_routes(config);
    let mut raw = Raw::connect(&server.unix()).await;
    raw.send(b"\xff\xff\xff\xffgarbage").await;
    assert_eq!(raw.expect_error().await.code, ErrorCode::FrameTooLarge);
    raw.expect_closed().await;

    let mut raw = Raw::handshake(&server.unix()).await;
    raw.send(&[0, 0, 4, 1, 0, 16]).await;
    assert_eq!(raw.expect_error().await.code, ErrorCode::FrameTooLarge);
    raw.expect_closed().await;

    let mut raw = Raw::handshake(&server.unix()).await;
    let frame = Request {
        id: 1,
        route: "test.echo".into(),
        headers: Headers::new(),
        body: Bytes::new(),
    }
    .to_frame_bytes()
    .unwrap();
    raw.send(&frame[..frame.len() - 2]).await;
    drop(raw);

    let m = Message {
        message: "fine".into(),
    };
    assert_eq!(
        Client::new(server.unix()).call::<Echo>(&m).await.unwrap(),
        m
    );
    assert_eq!(server.stats("test.echo").dispatched, 1);
}

/// The handshake and idle timeouts apply to Unix sockets.
#[tokio::test]
async fn unix_connections_time_out_like_tcp() {
    let config = Config {
        handshake_timeout: Duration::from_millis(150),
        idle_timeout: Duration::from_millis(150),
        ..loopback_and_unix_config()
    };
    let server = TestServer::with_test_routes(config);
    let mut silent = Raw::connect(&server.unix()).await;
    assert_eq!(silent.expect_error().await.code, ErrorCode::Timeout);
    silent.expect_closed().await;

    let mut idle = Raw::handshake(&server.unix()).await;
    assert_eq!(idle.recv().await.expect("DISCONN").kind, kind::DISCONN);
    idle.expect_closed().await;
}

/// A request past its deadline on a Unix socket is answered timeout, and a call times out.
#[tokio::test]
async fn unix_requests_honour_deadlines() {
    let server = TestServer::with_test_routes(loopback_and_unix_config());
    let mut raw = Raw::handshake(&server.unix()).await;
    let mut headers = Headers::new();
    headers.set_deadline(Duration::ZERO);
    let body = hubwire_core::encode_body(&1u64).unwrap();
    raw.send_envelope(&Request {
        id: 4,
        route: "test.delay".into(),
        headers,
        body,
    })
    .await;
    let err = raw.expect_error().await;
    assert_eq!((err.id, err.code), (Some(4), ErrorCode::Timeout));

    let client = Client::new(server.unix());
    let err = client
        .call_with_timeout::<Delay>(&3_000, Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(matches!(err, CallError::Timeout { .. }), "{err}");
}

/// A Unix listener that never answers CONN makes the client fail with connect-timeout.
#[tokio::test]
async fn unix_connect_times_out_when_the_handshake_never_completes() {
    let path = temp_socket_path();
    let (address, silent) = silent_server(&Address::Unix(path.clone())).await;
    assert_connect_times_out(address).await;
    silent.abort();
    let _ = std::fs::remove_file(path);
}

/// No socket file: the client cannot connect, at once.
#[tokio::test]
async fn unix_connect_to_a_missing_socket_fails_at_once() {
    let err = Client::connect(Address::Unix(temp_socket_path()), ClientOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, CallError::Connect { .. }), "{err}");
}

/// Stopping the server removes its socket file.
#[tokio::test]
async fn stopping_the_server_removes_the_socket_file() {
    let server = TestServer::with_test_routes(loopback_and_unix_config());
    let Address::Unix(path) = server.unix() else {
        unreachable!()
    };
    assert!(path.exists());
    drop(server);
    assert!(!path.exists(), "{} was left behind", path.display());
}
