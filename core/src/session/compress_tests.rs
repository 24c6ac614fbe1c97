//! Compression negotiated in the handshake: the server's pick from the client's offer, the
//! exact switch offsets, and COMPRESS anywhere but right after CONN.

use std::time::Instant;

use bytes::Bytes;

use super::tests::{decode, error_of};
use super::*;
use crate::compression::Algorithm;
use crate::protocol::{kind, Compress, Envelope, ErrorCode, Hello, Ping, PROTOCOL_VERSION};

fn conn() -> Bytes {
    Hello {
        version: PROTOCOL_VERSION,
        agent: "peer".into(),
        max_frame: 4096,
        max_in_flight: 0,
    }
    .to_frame_bytes()
    .unwrap()
}

fn offer(names: &[&str]) -> Bytes {
    Compress {
        algorithms: names.iter().map(|s| s.to_string()).collect(),
    }
    .to_frame_bytes()
    .unwrap()
}

/// A session allowing `allowed`, after CONN: its welcome's length.
fn welcomed(allowed: Vec<Algorithm>, now: Instant) -> (ServerSession, u64) {
    let mut s = ServerSession::new(
        "test".into(),
        SessionLimits {
            max_frame: 1 << 20,
            max_in_flight: 8,
            handshake_timeout: std::time::Duration::from_secs(5),
            idle_timeout: std::time::Duration::from_secs(60),
        },
        Serves::default(),
        now,
    );
    s.allow_compression(allowed);
    let Step::Welcome { answer, .. } = s.on_frame(decode(&conn()), now) else {
        panic!("no welcome");
    };
    (s, answer.len() as u64)
}

fn answer_of(step: &Step) -> (Vec<String>, Option<CompressionSwitch>) {
    let Step::Compress { answer, switch } = step else {
        panic!("not a COMPRESS step: {step:?}");
    };
    let frame = decode(answer);
    assert_eq!(frame.kind, kind::COMPRESS);
    (Compress::from_frame(&frame).unwrap().algorithms, *switch)
}

#[test]
fn both_sides_willing_the_servers_first_choice_wins_and_the_offsets_are_exact() {
    let now = Instant::now();
    let (mut s, welcome) = welcomed(vec![Algorithm::Gzip, Algorithm::Zstd], now);
    let step = s.on_frame(decode(&offer(&["zstd", "gzip"])), now);
    let (names, switch) = answer_of(&step);
    assert_eq!(names, ["gzip"]);
    let switch = switch.expect("an algorithm was chosen");
    assert_eq!(switch.algorithm, Algorithm::Gzip);
    assert_eq!(
        switch.read_from,
        (conn().len() + offer(&["zstd", "gzip"]).len()) as u64
    );
    let Step::Compress { answer, .. } = &step else {
        unreachable!()
    };
    assert_eq!(switch.write_from, welcome + answer.len() as u64);
}

#[test]
fn a_server_with_compression_off_answers_none() {
    let now = Instant::now();
    let (mut s, _) = welcomed(Vec::new(), now);
    let (names, switch) = answer_of(&s.on_frame(decode(&offer(&["zstd", "gzip"])), now));
    assert!(names.is_empty());
    assert_eq!(switch, None);
    // And the connection goes on, plain.
    let ping = Ping { nonce: 3 }.to_frame_bytes().unwrap();
    assert_eq!(s.on_frame(decode(&ping), now), Step::Ping(3));
}

#[test]
fn only_unknown_algorithms_offered_means_none() {
    let now = Instant::now();
    let (mut s, _) = welcomed(vec![Algorithm::Zstd], now);
    let (names, switch) = answer_of(&s.on_frame(decode(&offer(&["brotli", "lz4"])), now));
    assert!(names.is_empty());
    assert_eq!(switch, None);
}

#[test]
fn an_offer_without_what_the_server_allows_means_none() {
    let now = Instant::now();
    let (mut s, _) = welcomed(vec![Algorithm::Zstd], now);
    let (names, switch) = answer_of(&s.on_frame(decode(&offer(&["gzip"])), now));
    assert!(names.is_empty());
    assert_eq!(switch, None);
}

#[test]
fn compress_anywhere_but_right_after_conn_closes() {
    let now = Instant::now();
    let (mut s, _) = welcomed(vec![Algorithm::Zstd], now);
    let ping = Ping { nonce: 1 }.to_frame_bytes().unwrap();
    s.on_frame(decode(&ping), now);
    let Step::Close(close) = s.on_frame(decode(&offer(&["zstd"])), now) else {
        panic!("a late COMPRESS must close");
    };
    let error = error_of(close.last.as_ref().unwrap());
    assert_eq!(error.code, ErrorCode::Protocol);
    assert!(
        error.message.contains("right after CONN"),
        "{}",
        error.message
    );
}

#[test]
fn a_second_compress_closes() {
    let now = Instant::now();
    let (mut s, _) = welcomed(vec![Algorithm::Zstd], now);
    answer_of(&s.on_frame(decode(&offer(&["zstd"])), now));
    assert!(matches!(
        s.on_frame(decode(&offer(&["zstd"])), now),
        Step::Close(_)
    ));
}

#[test]
fn a_peer_that_must_authenticate_may_still_negotiate_first() {
    let now = Instant::now();
    let (mut s, _) = welcomed(vec![Algorithm::Zstd], now);
    s.require_auth();
    let (names, _) = answer_of(&s.on_frame(decode(&offer(&["zstd"])), now));
    assert_eq!(names, ["zstd"]);
}
