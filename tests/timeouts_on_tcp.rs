//! Guards every TCP timeout: the client's connect timeout (socket and handshake), the server's
//! handshake timeout, the idle-connection timeout, the request deadline (a late request is
//! answered timeout, not processed) and the client's call timeout.

mod support;

use std::time::{Duration, Instant};

use hubwire::prelude::*;
use hubwire::protocol::{kind, Headers, Request};
use support::*;

/// A server that accepts but never answers CONN makes the client fail with connect-timeout.
#[tokio::test]
async fn connect_times_out_when_the_handshake_never_completes() {
    let (address, silent) = silent_server(&"tcp://127.0.0.1:0".parse().unwrap()).await;
    assert_connect_times_out(address).await;
    silent.abort();
}

/// A listener whose accept queue is full drops SYNs: the TCP connect itself times out.
#[tokio::test]
async fn connect_times_out_when_the_socket_cannot_be_opened() {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    socket.listen(0).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    // Fill the accept queue (never accepted) until a connect no longer completes.
    let mut held = Vec::new();
    for _ in 0..64 {
        match tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            Ok(Ok(stream)) => held.push(stream),
            _ => break,
        }
    }
    let options = ClientOptions {
        connect_timeout: Duration::from_millis(300),
        ..ClientOptions::default()
    };
    let err = Client::connect(Address::tcp(addr), options)
        .await
        .unwrap_err();
    assert!(matches!(err, CallError::ConnectTimeout { .. }), "{err}");
}

/// A peer that connects and never sends CONN is sent timeout and closed.
#[tokio::test]
async fn the_server_closes_a_connection_that_never_handshakes() {
    let config = Config {
        handshake_timeout: Duration::from_millis(200),
        ..loopback_config()
    };
    let server = TestServer::with_test_routes(config);
    let mut raw = Raw::connect(&server.tcp()).await;
    let err = raw.expect_error().await;
    assert_eq!(err.code, ErrorCode::Timeout);
    raw.expect_closed().await;
}

/// A connection with nothing in flight is closed after the idle timeout, with DISCONN first.
#[tokio::test]
async fn an_idle_connection_is_closed() {
    let config = Config {
        idle_timeout: Duration::from_millis(200),
        ..loopback_config()
    };
    let server = TestServer::with_test_routes(config);
    let mut raw = Raw::handshake(&server.tcp()).await;
    let started = Instant::now();
    let frame = raw.recv().await.expect("a DISCONN before the close");
    assert_eq!(frame.kind, kind::DISCONN);
    assert!(started.elapsed() >= Duration::from_millis(150));
    raw.expect_closed().await;
}

/// A connection waiting on a slow reply is not idle.
#[tokio::test]
async fn a_connection_with_a_request_in_flight_is_not_idle() {
    let config = Config {
        idle_timeout: Duration::from_millis(150),
        ..loopback_config()
    };
    let server = TestServer::with_test_routes(config);
    let client = Client::new(server.tcp());
    assert_eq!(client.call::<Delay>(&600).await.unwrap(), 600);
}

/// A request that waits past its deadline in a busy handler's mailbox is answered timeout by the
/// server and never processed.
#[tokio::test]
async fn a_request_past_its_deadline_is_answered_timeout_not_processed() {
    let server = TestServer::with_test_routes(loopback_config());
    let client = Client::new(server.tcp());
    // The handler answers, then takes nothing else for 400 ms.
    assert_eq!(client.call::<Hold>(&400).await.unwrap(), 400);
    let mut raw = Raw::handshake(&server.tcp()).await;
    let mut headers = Headers::new();
    headers.set_deadline(Duration::from_millis(50));
    let body = hubwire_core::encode_body(&0u64).unwrap();
    raw.send_envelope(&Request {
        id: 9,
        route: "test.hold".into(),
        headers,
        body,
    })
    .await;
    let err = raw.expect_error().await;
    assert_eq!((err.id, err.code), (Some(9), ErrorCode::Timeout));
    let stats = server.stats("test.hold");
    assert_eq!((stats.succeeded, stats.timed_out), (1, 1), "{stats:?}");
}

/// A request that arrives with no time left is answered timeout without running.
#[tokio::test]
async fn a_request_with_no_time_left_is_not_processed() {
    let server = TestServer::with_test_routes(loopback_config());
    let mut raw = Raw::handshake(&server.tcp()).await;
    let mut headers = Headers::new();
    headers.set_deadline(Duration::ZERO);
    let body = hubwire_core::encode_body(&Message {
        message: "late".into(),
    })
    .unwrap();
    raw.send_envelope(&Request {
        id: 3,
        route: "test.echo".into(),
        headers,
        body,
    })
    .await;
    let err = raw.expect_error().await;
    assert_eq!((err.id, err.code), (Some(3), ErrorCode::Timeout));
    let stats = server.stats("test.echo");
    assert_eq!((stats.succeeded, stats.timed_out), (0, 1), "{stats:?}");
}

/// A call's timeout ends the call with timeout; the connection stays usable.
#[tokio::test]
async fn a_call_times_out_and_the_client_carries_on() {
    let server = TestServer::with_test_routes(loopback_config());
    let client = Client::new(server.tcp());
    let started = Instant::now();
    let err = client
        .call_with_timeout::<Delay>(&3_000, Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(matches!(err, CallError::Timeout { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(client.call::<Delay>(&1).await.unwrap(), 1);
}
