//! Guards the one rule of `docs/protocol.md` section 2 for kinds a server does not serve:
//! ERROR 103 `unknown-kind` (id nil), the frame skipped, the connection kept, on a plain
//! server, on a hub and over UDP alike, for unassigned, reserved and other families' kinds.

mod support;

use hubwire::hub::HubLimits;
use hubwire::protocol::{decode_frame, kind, Envelope, ErrorCode, ErrorFrame, Frame, Ping};
use hubwire::Address;
use support::*;

/// Unassigned and reserved numbers, and the work queue's kinds (3, 6, 96: served only on a
/// work-queue dispatcher's own listener, never by an application server or a hub).
const UNASSIGNED: [u16; 14] = [0, 3, 6, 10, 15, 20, 31, 38, 63, 71, 95, 96, 1000, 65535];
/// Kinds only a server sends: a server takes none of them.
const SERVER_ONLY: [u16; 4] = [kind::AUTH_OK, kind::RESPONSE, kind::MESSAGE, kind::REFUSED];
/// AUTH and COMPRESS: a stream's handshake; a datagram carries no authentication and no
/// compression.
const STREAM_ONLY: [u16; 2] = [kind::AUTH, kind::COMPRESS];
/// Pub/sub and bridge kinds: not served by a server that is not a hub.
const HUB_ONLY: [u16; 5] = [
    kind::SUBSCRIBE,
    kind::PUBLISH,
    kind::BRIDGE_HELLO,
    kind::BRIDGE_PROOF,
    kind::BRIDGE_MESSAGE,
];

async fn each_is_unknown_on_a_stream(address: &Address, kinds: &[u16]) {
    let mut raw = Raw::handshake(address).await;
    for &k in kinds {
        raw.send(&Frame::new(k, vec![0x90]).to_bytes()).await;
        let error = raw.expect_error().await;
        assert_eq!(
            (error.id, error.code),
            (None, ErrorCode::UnknownKind),
            "kind {k}: {error:?}"
        );
    }
    // Still open, framing kept.
    raw.send_envelope(&Ping { nonce: 4 }).await;
    assert_eq!(raw.recv().await.expect("a PONG").kind, kind::PONG);
}

#[actix_rt::test]
async fn a_plain_server_answers_every_kind_it_does_not_serve_unknown_kind() {
    let server = TestServer::with_test_routes(loopback_config());
    let kinds: Vec<u16> = [&UNASSIGNED[..], &SERVER_ONLY, &HUB_ONLY].concat();
    each_is_unknown_on_a_stream(&server.tcp(), &kinds).await;
}

#[actix_rt::test]
async fn a_hub_answers_unassigned_and_server_only_kinds_unknown_kind() {
    let hub = TestServer::start(loopback_config(), |b| b.hub(HubLimits::default())).unwrap();
    let kinds: Vec<u16> = [&UNASSIGNED[..], &SERVER_ONLY].concat();
    each_is_unknown_on_a_stream(&hub.tcp(), &kinds).await;
}

#[actix_rt::test]
async fn a_udp_endpoint_answers_every_kind_it_does_not_serve_unknown_kind() {
    let mut config = loopback_config();
    config.listen = vec!["udp://127.0.0.1:0".parse().unwrap()];
    let server = TestServer::with_test_routes(config);
    let to = server.udp().socket_addr().expect("a bound UDP address");
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let kinds: Vec<u16> = [&UNASSIGNED[..], &SERVER_ONLY, &HUB_ONLY, &STREAM_ONLY].concat();
    for k in kinds {
        socket
            .send_to(&Frame::new(k, vec![0x90]).to_bytes(), to)
            .await
            .unwrap();
        let mut datagram = vec![0u8; 65_536];
        let n = recv_or_fail("an answer", socket.recv(&mut datagram))
            .await
            .unwrap();
        let mut bytes = bytes::BytesMut::from(&datagram[..n]);
        let frame = decode_frame(&mut bytes, usize::MAX).unwrap().unwrap();
        let error = ErrorFrame::from_frame(&frame).unwrap();
        assert_eq!(
            (error.id, error.code),
            (None, ErrorCode::UnknownKind),
            "kind {k}: {error:?}"
        );
    }
}
