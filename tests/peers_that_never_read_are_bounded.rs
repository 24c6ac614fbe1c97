//! Guards the outbound bound of every connection: a peer that writes and never reads is held
//! back once it is owed `max_outbound_bytes` (replies and control frames count), is cut off
//! after `outbound_stall_timeout`, and never makes the server queue more than the bound; a
//! peer's announced `max_frame` is never exceeded.

mod support;

use std::time::Duration;

use bytes::BytesMut;
use hubwire::prelude::*;
use hubwire::protocol::{kind, Envelope, ErrorCode, Hello, Ping, Request, PROTOCOL_VERSION};
use support::{loopback_config, recv_or_fail, Message, Raw, TestServer};
use tokio::io::AsyncWriteExt;

const BOUND: usize = 256 * 1024;
/// What the server may queue past the bound: the output of the one read in progress.
const SLACK: i64 = 128 * 1024;

fn bounded_server() -> TestServer {
    let mut config = loopback_config();
    config.max_outbound_bytes = BOUND;
    config.outbound_stall_timeout = Duration::from_secs(2);
    // Small socket buffers, so the server's own bound is reached before the kernel's.
    config.recv_buffer_bytes = 64 * 1024;
    config.send_buffer_bytes = 64 * 1024;
    TestServer::with_test_routes(config)
}

fn gauge(server: &TestServer, name: &str) -> i64 {
    let stats = server.registry.snapshot();
    stats.gauge(name, &[("transport", "tcp")]).unwrap_or(0)
}

fn counter(server: &TestServer, name: &str) -> u64 {
    let stats = server.registry.snapshot();
    stats.counter(name, &[("transport", "tcp")]).unwrap_or(0)
}

/// Writes `frames` (each a whole frame) over and over from a raw client that never reads,
/// up to `total` frames, while checking the server's gauges; then checks it was held back,
/// cut off as stalled, and served another client meanwhile.
async fn flood_without_reading(server: &TestServer, frame: impl Fn(u64) -> BytesMut, total: u64) {
    let mut raw = Raw::handshake(&server.tcp()).await;
    let mut chunk = BytesMut::new();
    for i in 0..1000 {
        chunk.extend_from_slice(&frame(i));
    }
    let writer = tokio::spawn(async move {
        let mut sent = 0;
        while sent < total {
            if raw.stream.write_all(&chunk).await.is_err() {
                break;
            }
            sent += 1000;
        }
        sent
    });
    let mut highest = 0;
    recv_or_fail("the peer to be held back", async {
        loop {
            highest = highest.max(gauge(server, "connections.outbound_bytes"));
            if gauge(server, "connections.held_back") == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(
        !writer.is_finished(),
        "held back before the peer wrote everything"
    );

    // Everyone else is still served meanwhile.
    let client = Client::new(server.tcp());
    let echo = Message {
        message: "still here".into(),
    };
    let reply = recv_or_fail("an echo", client.call::<support::Echo>(&echo)).await;
    assert_eq!(reply.unwrap(), echo);

    recv_or_fail("the peer to be cut off", async {
        while counter(server, "connections.stalled") == 0 {
            highest = highest.max(gauge(server, "connections.outbound_bytes"));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    let sent = recv_or_fail("the writer to fail", writer).await.unwrap();
    assert!(
        sent < total,
        "the peer could not write all it wanted: {sent}"
    );
    assert!(
        highest <= BOUND as i64 + SLACK,
        "owed at most the bound plus one read's output, not {highest}"
    );
    recv_or_fail("the gauges to clear", async {
        while gauge(server, "connections.held_back") != 0
            || gauge(server, "connections.outbound_bytes") != 0
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

#[actix_rt::test]
async fn a_peer_that_pings_and_never_reads_is_held_back_then_cut_off() {
    let server = bounded_server();
    let ping = |nonce| Ping { nonce }.to_frame_bytes().unwrap().into();
    flood_without_reading(&server, ping, 4_000_000).await;
}

#[actix_rt::test]
async fn a_peer_that_calls_and_never_reads_is_held_back_then_cut_off() {
    let server = bounded_server();
    let body = hubwire_core::encode_body(&Message {
        message: "x".repeat(100),
    })
    .unwrap();
    let request = move |id| {
        let request = Request {
            id: id + 1,
            route: "test.echo".into(),
            headers: Default::default(),
            body: body.clone(),
        };
        request.to_frame_bytes().unwrap().into()
    };
    flood_without_reading(&server, request, 1_000_000).await;
}

#[actix_rt::test]
async fn a_reply_over_the_clients_max_frame_is_answered_frame_too_large() {
    let server = bounded_server();
    let mut raw = Raw::connect(&server.tcp()).await;
    raw.send_envelope(&Hello {
        version: PROTOCOL_VERSION,
        agent: "small".into(),
        max_frame: 256,
        max_in_flight: 0,
    })
    .await;
    assert_eq!(raw.recv().await.unwrap().kind, kind::CONN);
    let call = |id, size: usize| {
        let body = hubwire_core::encode_body(&Message {
            message: "y".repeat(size),
        })
        .unwrap();
        Request {
            id,
            route: "test.echo".into(),
            headers: Default::default(),
            body,
        }
    };
    raw.send_envelope(&call(1, 1000)).await;
    let error = raw.expect_error().await;
    assert_eq!(
        (error.id, error.code),
        (Some(1), ErrorCode::FrameTooLarge),
        "{error:?}"
    );
    // The connection carries on, and a reply that fits comes whole.
    raw.send_envelope(&call(2, 100)).await;
    let frame = raw.recv().await.unwrap();
    assert_eq!(frame.kind, kind::RESPONSE);
    assert!(frame.payload.len() + 2 <= 256);
}

#[actix_rt::test]
async fn a_max_frame_too_small_for_an_error_is_refused_at_the_handshake() {
    let server = bounded_server();
    let mut raw = Raw::connect(&server.tcp()).await;
    raw.send_envelope(&Hello {
        version: PROTOCOL_VERSION,
        agent: "tiny".into(),
        max_frame: 10,
        max_in_flight: 0,
    })
    .await;
    let error = raw.expect_error().await;
    assert_eq!(error.code, ErrorCode::Protocol);
    assert!(error.message.contains("max_frame 10"), "{}", error.message);
    raw.expect_closed().await;
}
