//! Guards compression negotiated in the handshake (docs/compression.md): the server's pick from
//! the client's offer (both, one side, none, unknown names), requests and pub/sub round trips
//! over compressed TCP and TLS, a compressed bridge, compressed bytes on the wire from the exact
//! switch point, a decompression bomb refused at the frame bound, and garbage compressed input
//! closing only its own connection with a typed error.

mod support;

use bytes::{Bytes, BytesMut};
use hubwire::compression::{Algorithm, Compressor, Decompressor};
use hubwire::hub::HubLimits;
use hubwire::prelude::*;
use hubwire::protocol::{
    decode_frame, kind, Compress, Envelope, ErrorFrame, Frame, Hello, Ping, Pong, PROTOCOL_VERSION,
};
use hubwire::spoke::SpokeSpec;
use hubwire::stats::StatsRegistry;
use hubwire::tls::{ClientAuth, TlsClient};
use support::certs::Pki;
use support::hub::quick_spoke_options;
use support::{loopback_config, recv_or_fail, Echo, Message, TestServer, PATIENCE};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A server with the test routes that agrees to `allowed`.
fn server(allowed: Vec<Algorithm>) -> TestServer {
    let mut config = loopback_config();
    config.compression = allowed;
    TestServer::with_test_routes(config)
}

fn compressed_count(server: &TestServer, algorithm: Algorithm) -> u64 {
    let labels = [("algorithm", algorithm.name())];
    server
        .registry
        .snapshot()
        .counter("connections.compressed", &labels)
        .unwrap_or(0)
}

fn offering(algorithms: &[Algorithm]) -> ClientOptions {
    ClientOptions {
        compression: algorithms.to_vec(),
        ..ClientOptions::default()
    }
}

/// A body that compresses well: JSON-like text repeated.
fn compressible() -> String {
    "{\"sensor\":\"kitchen/temperature\",\"value\":21.5,\"unit\":\"celsius\"},".repeat(200)
}

/// Pipelined echoes, each answered with its own text.
async fn echoes(client: &Client, n: usize) {
    let body = compressible();
    let calls = (0..n).map(|i| {
        let message = format!("{i}:{body}");
        async move {
            let reply = client
                .call::<Echo>(&Message {
                    message: message.clone(),
                })
                .await
                .expect("an echo");
            assert_eq!(reply.message, message);
        }
    });
    recv_or_fail("the echoes", futures::future::join_all(calls)).await;
}

#[actix::test]
async fn both_sides_willing_requests_round_trip_compressed_with_the_servers_choice() {
    let server = server(vec![Algorithm::Gzip, Algorithm::Zstd]);
    let client = Client::connect(server.tcp(), offering(&[Algorithm::Zstd, Algorithm::Gzip]))
        .await
        .expect("connects");
    echoes(&client, 50).await;
    // The server's order of preference wins.
    assert_eq!(compressed_count(&server, Algorithm::Gzip), 1);
    assert_eq!(compressed_count(&server, Algorithm::Zstd), 0);
}

#[actix::test]
async fn zstd_round_trips_requests() {
    let server = server(vec![Algorithm::Zstd]);
    let client = Client::connect(server.tcp(), offering(&[Algorithm::Zstd]))
        .await
        .expect("connects");
    echoes(&client, 50).await;
    assert_eq!(compressed_count(&server, Algorithm::Zstd), 1);
}

#[actix::test]
async fn a_server_with_compression_off_serves_an_offering_client_plain() {
    let server = server(Vec::new());
    let client = Client::connect(server.tcp(), offering(&[Algorithm::Zstd]))
        .await
        .expect("connects");
    echoes(&client, 5).await;
    assert_eq!(compressed_count(&server, Algorithm::Zstd), 0);
}

#[actix::test]
async fn a_client_that_offers_nothing_is_served_plain_by_a_compressing_server() {
    let server = server(vec![Algorithm::Zstd, Algorithm::Gzip]);
    let client = Client::connect(server.tcp(), ClientOptions::default())
        .await
        .expect("connects");
    echoes(&client, 5).await;
    assert_eq!(compressed_count(&server, Algorithm::Zstd), 0);
    assert_eq!(compressed_count(&server, Algorithm::Gzip), 0);
}

#[actix::test]
async fn requests_round_trip_compressed_over_tls() {
    let pki = Pki::new("test-ca");
    let mut config = loopback_config();
    config.listen.push("tls://127.0.0.1:0".parse().unwrap());
    config.tls = Some(pki.server_config(&pki.server(&["localhost"]), ClientAuth::None));
    config.compression = vec![Algorithm::Zstd];
    let server = TestServer::with_test_routes(config);
    let port = server.tls_address().socket_addr().unwrap().port();
    let address: Address = format!("tls://localhost:{port}").parse().unwrap();
    let options = ClientOptions {
        tls: Some(TlsClient::builder().ca_file(pki.ca_file()).build().unwrap()),
        compression: vec![Algorithm::Zstd],
        ..ClientOptions::default()
    };
    let client = Client::connect(address, options).await.expect("connects");
    echoes(&client, 50).await;
    assert_eq!(compressed_count(&server, Algorithm::Zstd), 1);
}

async fn compressed_spoke(address: Address, tls: Option<TlsClient>, name: &str) -> Spoke {
    let mut options = quick_spoke_options();
    options.compression = vec![Algorithm::Zstd, Algorithm::Gzip];
    options.tls = tls;
    let (spoke, _supervisor) = SpokeSpec::new(address)
        .name(name)
        .options(options)
        .start(&StatsRegistry::new());
    spoke.ready(PATIENCE).await.expect("the spoke connects");
    spoke
}

async fn pubsub_round_trip(hub: &TestServer, address: Address, tls: Option<TlsClient>) {
    let subscriber = compressed_spoke(address.clone(), tls.clone(), "subscriber").await;
    let publisher = compressed_spoke(address, tls, "publisher").await;
    let (_, mut rx) = subscriber
        .subscribe(Pattern::parse("squeezed/*").unwrap())
        .await
        .unwrap();
    let body = compressible();
    for i in 0..20 {
        let channel = Channel::parse(&format!("squeezed/{i}")).unwrap();
        publisher
            .publish(channel, Bytes::from(format!("{i}{body}")))
            .await
            .unwrap();
    }
    for i in 0..20 {
        let got = recv_or_fail("a message", rx.recv()).await.unwrap();
        assert_eq!(got.body, Bytes::from(format!("{i}{body}")));
    }
    assert_eq!(compressed_count(hub, Algorithm::Zstd), 2);
}

#[actix::test]
async fn pubsub_round_trips_compressed_over_tcp() {
    let mut config = loopback_config();
    config.compression = vec![Algorithm::Zstd];
    let hub = TestServer::start(config, |b| b.hub(HubLimits::default())).unwrap();
    pubsub_round_trip(&hub, hub.tcp(), None).await;
}

#[actix::test]
async fn pubsub_round_trips_compressed_over_tls() {
    let pki = Pki::new("test-ca");
    let mut config = pki.tls_only_config("localhost");
    config.compression = vec![Algorithm::Zstd];
    let hub = TestServer::start(config, |b| b.hub(HubLimits::default())).unwrap();
    let port = hub.tls_address().socket_addr().unwrap().port();
    let address: Address = format!("tls://localhost:{port}").parse().unwrap();
    let tls = TlsClient::builder().ca_file(pki.ca_file()).build().unwrap();
    pubsub_round_trip(&hub, address, Some(tls)).await;
}

#[actix::test]
async fn a_bridge_between_compressing_hubs_is_compressed() {
    use support::bridge::{bridged_hub_config, probe, secret, target};
    use support::hub::{free_port, ready_spoke};
    let b_port = free_port();
    let mut b_config = bridged_hub_config(b_port, Vec::new(), &secret());
    b_config.compression = vec![Algorithm::Zstd];
    let b = TestServer::start(b_config, |b| b.hub(HubLimits::default())).unwrap();
    let mut a_config = bridged_hub_config(free_port(), vec![target(b_port)], &secret());
    a_config.compression = vec![Algorithm::Zstd];
    let a = TestServer::start(a_config, |b| b.hub(HubLimits::default())).unwrap();
    let publisher = ready_spoke(b.tcp(), "publisher").await;
    let subscriber = ready_spoke(a.tcp(), "subscriber").await;
    let (_, mut rx) = subscriber
        .subscribe(Pattern::parse("far/*").unwrap())
        .await
        .unwrap();
    probe(&publisher, "far/away", &mut rx).await;
    // A's bridge dialled B offering zstd; the spokes offered nothing.
    assert_eq!(compressed_count(&b, Algorithm::Zstd), 1);
    assert_eq!(compressed_count(&a, Algorithm::Zstd), 0);
}

// ---- the bytes on the wire ----

/// A raw TCP peer that offers `names` after CONN and reads the server's CONN and COMPRESS
/// answer (plain); returns the stream, the names chosen and the bytes read after the answer.
async fn raw_offer(server: &TestServer, names: &[&str]) -> (TcpStream, Vec<String>, BytesMut) {
    let addr = server.tcp().socket_addr().unwrap();
    let mut stream = recv_or_fail("connect", TcpStream::connect(addr))
        .await
        .unwrap();
    let mut first = BytesMut::new();
    Hello {
        version: PROTOCOL_VERSION,
        agent: "raw".into(),
        max_frame: 1 << 20,
        max_in_flight: 0,
    }
    .write_frame(&mut first)
    .unwrap();
    Compress {
        algorithms: names.iter().map(|s| s.to_string()).collect(),
    }
    .write_frame(&mut first)
    .unwrap();
    stream.write_all(&first).await.unwrap();
    let mut buf = BytesMut::new();
    let conn = read_plain(&mut stream, &mut buf).await;
    assert_eq!(conn.kind, kind::CONN);
    let answer = read_plain(&mut stream, &mut buf).await;
    assert_eq!(answer.kind, kind::COMPRESS);
    let chosen = Compress::from_frame(&answer).unwrap().algorithms;
    (stream, chosen, buf)
}

async fn read_plain(stream: &mut TcpStream, buf: &mut BytesMut) -> Frame {
    recv_or_fail("a plain frame", async {
        loop {
            if let Some(frame) = decode_frame(buf, usize::MAX).unwrap() {
                return frame;
            }
            assert!(stream.read_buf(buf).await.unwrap() > 0, "closed");
        }
    })
    .await
}

/// Reads and decompresses until a whole frame is in `plain`; `None` once the server closed.
async fn read_compressed(
    stream: &mut TcpStream,
    d: &mut Decompressor,
    raw: &mut BytesMut,
    plain: &mut BytesMut,
) -> Option<Frame> {
    recv_or_fail("a compressed frame", async {
        let mut room = vec![0u8; 64 * 1024];
        loop {
            if let Some(frame) = decode_frame(plain, usize::MAX).unwrap() {
                return Some(frame);
            }
            loop {
                let (used, made) = d.decompress(raw, &mut room).unwrap();
                let _ = raw.split_to(used);
                plain.extend_from_slice(&room[..made]);
                if made < room.len() {
                    break;
                }
            }
            if decode_frame(&mut plain.clone(), usize::MAX)
                .unwrap()
                .is_some()
            {
                continue;
            }
            match stream.read_buf(raw).await {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    })
    .await
}

#[actix::test]
async fn from_the_byte_after_compress_both_directions_are_compressed() {
    let server = server(vec![Algorithm::Zstd, Algorithm::Gzip]);
    for algorithm in [Algorithm::Zstd, Algorithm::Gzip] {
        let (mut stream, chosen, mut raw) = raw_offer(&server, &[algorithm.name()]).await;
        assert_eq!(chosen, [algorithm.name()]);
        let mut c = Compressor::new(algorithm).unwrap();
        let mut out = Vec::new();
        c.compress(&Ping { nonce: 42 }.to_frame_bytes().unwrap(), &mut out)
            .unwrap();
        // The compressed PING is not a frame: a plain reading would be lost.
        assert_ne!(&out[..], &Ping { nonce: 42 }.to_frame_bytes().unwrap()[..]);
        stream.write_all(&out).await.unwrap();
        let mut d = Decompressor::new(algorithm).unwrap();
        let mut plain = BytesMut::new();
        let pong = read_compressed(&mut stream, &mut d, &mut raw, &mut plain)
            .await
            .expect("a PONG");
        assert_eq!(pong.kind, kind::PONG, "{algorithm}");
        assert_eq!(Pong::from_frame(&pong).unwrap().nonce, 42);
    }
}

#[actix::test]
async fn unknown_names_only_get_none_and_the_connection_stays_plain() {
    let server = server(vec![Algorithm::Zstd]);
    let (mut stream, chosen, mut buf) = raw_offer(&server, &["brotli", "lz4"]).await;
    assert!(chosen.is_empty());
    stream
        .write_all(&Ping { nonce: 7 }.to_frame_bytes().unwrap())
        .await
        .unwrap();
    let pong = read_plain(&mut stream, &mut buf).await;
    assert_eq!(Pong::from_frame(&pong).unwrap().nonce, 7);
}

/// Sends `bytes` (already compressed) and expects an ERROR about the connection, then the close.
async fn expect_refused(
    stream: &mut TcpStream,
    algorithm: Algorithm,
    raw: &mut BytesMut,
    bytes: &[u8],
) -> ErrorFrame {
    stream.write_all(bytes).await.unwrap();
    let mut d = Decompressor::new(algorithm).unwrap();
    let mut plain = BytesMut::new();
    let frame = read_compressed(stream, &mut d, raw, &mut plain)
        .await
        .expect("an ERROR before the close");
    assert_eq!(frame.kind, kind::ERROR);
    let error = ErrorFrame::from_frame(&frame).unwrap();
    assert_eq!(error.id, None);
    // Then the close.
    let closed = recv_or_fail("the close", async {
        let mut rest = [0u8; 1024];
        loop {
            match stream.read(&mut rest).await {
                Ok(0) | Err(_) => return true,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed);
    error
}

#[actix::test]
async fn a_decompression_bomb_is_refused_at_the_frame_bound() {
    let server = server(vec![Algorithm::Zstd]);
    // A frame header announcing 1 GiB, then 256 MiB of zeros: a few KB compressed.
    let mut c = Compressor::new(Algorithm::Zstd).unwrap();
    let mut bomb = Vec::new();
    let mut header = BytesMut::new();
    header.extend_from_slice(&(1u32 << 30).to_be_bytes());
    header.extend_from_slice(&kind::REQUEST.to_be_bytes());
    c.compress(&header, &mut bomb).unwrap();
    let zeros = vec![0u8; 16 << 20];
    for _ in 0..16 {
        c.compress(&zeros, &mut bomb).unwrap();
    }
    assert!(bomb.len() < 1 << 20, "the bomb is small: {}", bomb.len());
    let (mut stream, chosen, mut raw) = raw_offer(&server, &["zstd"]).await;
    assert_eq!(chosen, ["zstd"]);
    let error = expect_refused(&mut stream, Algorithm::Zstd, &mut raw, &bomb).await;
    assert_eq!(error.code, ErrorCode::FrameTooLarge, "{}", error.message);
    // Everyone else is still served.
    let client = Client::connect(server.tcp(), offering(&[Algorithm::Zstd]))
        .await
        .unwrap();
    echoes(&client, 3).await;
}

#[actix::test]
async fn garbage_compressed_input_is_a_typed_error_for_that_peer_only() {
    let server = server(vec![Algorithm::Zstd, Algorithm::Gzip]);
    let bystander = Client::connect(server.tcp(), offering(&[Algorithm::Zstd]))
        .await
        .unwrap();
    for (algorithm, said) in [
        (Algorithm::Zstd, "zstd stream is corrupt"),
        (Algorithm::Gzip, "gzip header"),
    ] {
        let (mut stream, chosen, mut raw) = raw_offer(&server, &[algorithm.name()]).await;
        assert_eq!(chosen, [algorithm.name()]);
        let garbage = b"\x00\x00\x00\x06\x00\x04\x91\x01 plain where compressed was agreed";
        let error = expect_refused(&mut stream, algorithm, &mut raw, garbage).await;
        assert_eq!(error.code, ErrorCode::Protocol);
        assert!(
            error.message.contains(said),
            "{algorithm}: {}",
            error.message
        );
    }
    let errors = server
        .registry
        .snapshot()
        .counter("connections.compression_errors", &[])
        .unwrap_or(0);
    assert_eq!(errors, 2);
    echoes(&bystander, 3).await;
}

#[actix::test]
async fn compress_after_another_frame_closes_the_connection() {
    let server = server(vec![Algorithm::Zstd]);
    let mut raw = support::Raw::handshake(&server.tcp()).await;
    raw.send_envelope(&Ping { nonce: 1 }).await;
    assert_eq!(raw.recv().await.unwrap().kind, kind::PONG);
    raw.send_envelope(&Compress {
        algorithms: vec!["zstd".into()],
    })
    .await;
    let error = raw.expect_error().await;
    assert_eq!(error.code, ErrorCode::Protocol);
    raw.expect_closed().await;
}

#[actix::test]
async fn websocket_connections_are_never_compressed() {
    let mut config = loopback_config();
    config.listen = vec!["ws://127.0.0.1:0".parse().unwrap()];
    config.compression = vec![Algorithm::Zstd];
    let server = TestServer::with_test_routes(config);
    let address = server
        .addresses
        .iter()
        .find(|a| a.scheme() == "ws")
        .cloned()
        .expect("a WebSocket listener");
    // A raw peer that asks anyway gets "none" and goes on plain.
    let mut raw = support::Raw::handshake(&address).await;
    raw.send_envelope(&Compress {
        algorithms: vec!["zstd".into()],
    })
    .await;
    let answer = raw.recv().await.expect("a COMPRESS answer");
    assert_eq!(answer.kind, kind::COMPRESS);
    assert!(Compress::from_frame(&answer).unwrap().algorithms.is_empty());
    raw.send_envelope(&Ping { nonce: 9 }).await;
    assert_eq!(raw.recv().await.unwrap().kind, kind::PONG);
    // The typed client does not offer it over ws://, and is served.
    let client = Client::connect(address, offering(&[Algorithm::Zstd]))
        .await
        .expect("connects");
    echoes(&client, 3).await;
    assert_eq!(compressed_count(&server, Algorithm::Zstd), 0);
}
