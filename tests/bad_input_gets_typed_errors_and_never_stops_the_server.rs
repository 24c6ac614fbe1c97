//! Guards the promise that bad input gets the documented error code where a reply can be sent,
//! closes only the connection whose framing is lost, and never stops the server from serving
//! everyone else.

mod support;

use bytes::Bytes;
use hubwire::prelude::*;
use hubwire::protocol::{kind, Envelope, Frame, Headers, Hello, Request};
use support::*;

fn request(id: u64, route: &str, body: Bytes) -> Request {
    Request {
        id,
        route: route.into(),
        headers: Headers::new(),
        body,
    }
}

/// A well-behaved client on the same server still gets its reply.
async fn server_still_serves(server: &TestServer) {
    let client = Client::new(server.tcp());
    let m = Message {
        message: "ok".into(),
    };
    assert_eq!(
        recv_or_fail("echo", client.call::<Echo>(&m)).await.unwrap(),
        m
    );
}

/// Garbage (an HTTP request line) reads as an enormous length: frame-too-large, then close.
#[tokio::test]
async fn garbage_bytes_get_frame_too_large_and_a_close() {
    let server = TestServer::with_test_routes(loopback_config());
    let mut raw = Raw::connect(&server.tcp()).await;
    raw.send(b"GET / HTTP/1.1\r\n\r\n").await;
    let err = raw.expect_error().await;
    assert_eq!(err.code, ErrorCode::FrameTooLarge);
    assert_eq!(err.id, None);
    raw.expect_closed().await;
    server_still_serves(&server).await;
}

/// A length over the maximum frame size gets frame-too-large and the connection is closed.
#[tokio::test]
async fn a_length_over_the_maximum_gets_frame_too_large() {
    let config = Config {
        max_frame: 1024,
        ..loopback_config()
    };
    let server = TestServer::with_test_routes(config);
    let mut raw = Raw::handshake(&server.tcp()).await;
    raw.send(&[0, 0, 4, 1, 0, 16]).await; // length 1025
    let err = raw.expect_error().await;
    assert_eq!(err.code, ErrorCode::FrameTooLarge);
    assert!(
        err.message.contains("1025") && err.message.contains("1024"),
        "{}",
        err.message
    );
    raw.expect_closed().await;
    server_still_serves(&server).await;
}

/// A length smaller than the kind field loses the framing: protocol error, then close.
#[tokio::test]
async fn a_length_smaller_than_the_header_gets_protocol_and_a_close() {
    let server = TestServer::with_test_routes(loopback_config());
    let mut raw = Raw::handshake(&server.tcp()).await;
    raw.send(&[0, 0, 0, 1, 0]).await;
    assert_eq!(raw.expect_error().await.code, ErrorCode::Protocol);
    raw.expect_closed().await;
    server_still_serves(&server).await;
}

/// A frame cut short by a close is dropped quietly; the server carries on.
#[tokio::test]
async fn a_truncated_frame_then_close_leaves_the_server_serving() {
    let server = TestServer::with_test_routes(loopback_config());
    let mut raw = Raw::handshake(&server.tcp()).await;
    let frame = request(1, "test.echo", Bytes::new())
        .to_frame_bytes()
        .unwrap();
    raw.send(&frame[..frame.len() - 3]).await;
    drop(raw);
    server_still_serves(&server).await;
    assert_eq!(
        server.stats("test.echo").dispatched,
        1,
        "only the healthy call ran"
    );
}

/// An unknown frame kind gets unknown-kind and the connection stays open.
#[tokio::test]
async fn an_unknown_kind_gets_unknown_kind_and_the_connection_stays_open() {
    let server = TestServer::with_test_routes(loopback_config());
    let mut raw = Raw::handshake(&server.tcp()).await;
    raw.send(&Frame::new(999, vec![0xc0]).to_bytes()).await;
    let err = raw.expect_error().await;
    assert_eq!(err.code, ErrorCode::UnknownKind);
    assert!(err.message.contains("999"), "{}", err.message);
    let body = hubwire_core::encode_body(&Message {
        message: "x".into(),
    })
    .unwrap();
    raw.send_envelope(&request(5, "test.echo", body)).await;
    assert_eq!(raw.recv().await.expect("a reply").kind, kind::RESPONSE);
}

/// A REQUEST that is not MessagePack gets protocol; the connection stays open.
#[tokio::test]
async fn invalid_messagepack_gets_protocol_and_the_connection_stays_open() {
    let server = TestServer::with_test_routes(loopback_config());
    let mut raw = Raw::handshake(&server.tcp()).await;
    raw.send(&Frame::new(kind::REQUEST, vec![0xc1, 0xc1]).to_bytes())
        .await;
    let err = raw.expect_error().await;
    assert_eq!(err.code, ErrorCode::Protocol);
    assert_eq!(err.id, None);
    let body = hubwire_core::encode_body(&Message {
        message: "x".into(),
    })
    .unwrap();
    raw.send_envelope(&request(6, "test.echo", body)).await;
    assert_eq!(raw.recv().await.expect("a reply").kind, kind::RESPONSE);
}

/// A valid envelope missing a field gets protocol with the request's id, so the call fails fast.
#[tokio::test]
async fn a_request_missing_a_field_gets_protocol_with_its_id() {
    let server = TestServer::with_test_routes(loopback_config());
    let mut raw = Raw::handshake(&server.tcp()).await;
    // [77, "test.echo", {}] with no body.
    let mut payload = vec![0x93, 77, 0xa9];
    payload.extend_from_slice(b"test.echo");
    payload.push(0x80);
    raw.send(&Frame::new(kind::REQUEST, payload).to_bytes())
        .await;
    let err = raw.expect_error().await;
    assert_eq!((err.id, err.code), (Some(77), ErrorCode::Protocol));
}

/// An unknown route and a body of the wrong type, sent raw, get their codes with the request id.
#[tokio::test]
async fn unknown_routes_and_wrong_bodies_get_their_codes() {
    let server = TestServer::with_test_routes(loopback_config());
    let mut raw = Raw::handshake(&server.tcp()).await;
    raw.send_envelope(&request(1, "nope", Bytes::new())).await;
    let err = raw.expect_error().await;
    assert_eq!((err.id, err.code), (Some(1), ErrorCode::UnknownRoute));
    raw.send_envelope(&request(2, "test.echo", Bytes::from_static(&[0x2a])))
        .await;
    let err = raw.expect_error().await;
    assert_eq!((err.id, err.code), (Some(2), ErrorCode::InvalidBody));
    assert!(err.message.contains("test.echo"), "{}", err.message);
}

/// A client of another protocol version gets version-mismatch naming both versions, then close.
#[tokio::test]
async fn a_protocol_version_mismatch_is_refused_at_connect() {
    let server = TestServer::with_test_routes(loopback_config());
    let mut raw = Raw::connect(&server.tcp()).await;
    raw.send_envelope(&Hello {
        version: 2,
        agent: "future".into(),
        max_frame: 1024,
        max_in_flight: 0,
    })
    .await;
    let err = raw.expect_error().await;
    assert_eq!(err.code, ErrorCode::VersionMismatch);
    assert!(
        err.message.contains('1') && err.message.contains('2'),
        "{}",
        err.message
    );
    raw.expect_closed().await;
}

/// A REQUEST before the handshake gets protocol and a close.
#[tokio::test]
async fn a_request_before_conn_is_refused() {
    let server = TestServer::with_test_routes(loopback_config());
    let mut raw = Raw::connect(&server.tcp()).await;
    raw.send_envelope(&request(1, "test.echo", Bytes::new()))
        .await;
    let err = raw.expect_error().await;
    assert_eq!(err.code, ErrorCode::Protocol);
    assert!(err.message.contains("CONN"), "{}", err.message);
    raw.expect_closed().await;
}

/// While one peer streams garbage, another is served without interruption.
#[tokio::test]
async fn other_connections_are_served_while_one_peer_sends_garbage() {
    let server = TestServer::with_test_routes(loopback_config());
    let address = server.tcp();
    let noisy = tokio::spawn(async move {
        for round in 0..50u8 {
            let mut raw = Raw::connect(&address).await;
            let junk: Vec<u8> = (0..64)
                .map(|i| round.wrapping_mul(31).wrapping_add(i))
                .collect();
            raw.send(&junk).await;
        }
    });
    let client = Client::new(server.tcp());
    for i in 0..50 {
        let m = Message {
            message: format!("call {i}"),
        };
        assert_eq!(
            recv_or_fail("echo", client.call::<Echo>(&m)).await.unwrap(),
            m
        );
    }
    noisy.await.unwrap();
    server_still_serves(&server).await;
}
