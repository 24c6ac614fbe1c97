//! The byte view of a WebSocket, between two ends of an in-memory pipe: a server end read and
//! written as bytes, and a client end speaking WebSocket messages.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::*;
use crate::protocol::{Envelope, Ping};

const WAIT: Duration = Duration::from_secs(5);

async fn pair(max_frame: usize) -> (WebSocketBytes<DuplexStream>, WebSocketStream<DuplexStream>) {
    let (a, b) = tokio::io::duplex(1 << 20);
    let config = Some(super::super::config(max_frame));
    let server = WebSocketStream::from_raw_socket(a, Role::Server, config).await;
    let client = WebSocketStream::from_raw_socket(b, Role::Client, None).await;
    (WebSocketBytes::new(server), client)
}

fn frame(nonce: u64) -> Vec<u8> {
    Ping { nonce }.to_frame_bytes().unwrap().to_vec()
}

async fn next_message(client: &mut WebSocketStream<DuplexStream>) -> Message {
    tokio::time::timeout(WAIT, client.next())
        .await
        .expect("a message in time")
        .expect("the stream is open")
        .expect("a message")
}

async fn read_error(server: &mut WebSocketBytes<DuplexStream>) -> WebSocketViolation {
    let mut buf = [0u8; 256];
    let err = tokio::time::timeout(WAIT, server.read(&mut buf))
        .await
        .expect("an answer in time")
        .expect_err("a violation");
    WebSocketViolation::in_io(&err)
        .expect("a typed violation")
        .clone()
}

#[tokio::test]
async fn each_frame_written_goes_out_as_one_binary_message() {
    let (mut server, mut client) = pair(1024).await;
    let (one, two, three) = (frame(1), frame(2), frame(3));
    // Two frames and the first half of a third in one write, the rest in another.
    let mut bytes = [one.clone(), two.clone()].concat();
    bytes.extend_from_slice(&three[..3]);
    server.write_all(&bytes).await.unwrap();
    server.write_all(&three[3..]).await.unwrap();
    server.flush().await.unwrap();
    for expected in [one, two, three] {
        assert_eq!(next_message(&mut client).await, Message::binary(expected));
    }
}

#[tokio::test]
async fn binary_messages_are_read_as_their_frames_in_order() {
    let (mut server, mut client) = pair(1024).await;
    client.send(Message::binary(frame(1))).await.unwrap();
    client.send(Message::binary(frame(2))).await.unwrap();
    let expected = [frame(1), frame(2)].concat();
    let mut got = vec![0u8; expected.len()];
    tokio::time::timeout(WAIT, server.read_exact(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn a_text_message_is_a_violation_and_closes_with_1003() {
    let (mut server, mut client) = pair(1024).await;
    client.send(Message::text("hello")).await.unwrap();
    let violation = read_error(&mut server).await;
    assert_eq!(violation, WebSocketViolation::TextMessage { size: 5 });
    server.shutdown().await.unwrap();
    match next_message(&mut client).await {
        Message::Close(Some(close)) => assert_eq!(u16::from(close.code), 1003),
        other => panic!("expected a close, got {other:?}"),
    }
}

#[tokio::test]
async fn a_message_that_is_not_one_frame_is_a_violation() {
    let (mut server, mut client) = pair(1024).await;
    client
        .send(Message::binary([frame(1), frame(2)].concat()))
        .await
        .unwrap();
    let violation = read_error(&mut server).await;
    assert!(
        matches!(violation, WebSocketViolation::NotOneFrame { .. }),
        "{violation:?}"
    );
}

#[tokio::test]
async fn a_message_over_the_frame_size_is_refused_before_it_is_read_whole() {
    let (mut server, mut client) = pair(64).await;
    let mut big = vec![0u8; 100];
    big[..4].copy_from_slice(&96u32.to_be_bytes());
    client.send(Message::binary(big)).await.unwrap();
    let violation = read_error(&mut server).await;
    assert!(
        matches!(violation, WebSocketViolation::TooLarge { max: 68, .. }),
        "{violation:?}"
    );
    assert_eq!(violation.code(), crate::protocol::ErrorCode::FrameTooLarge);
}

#[tokio::test]
async fn pings_are_answered_while_reading() {
    let (mut server, mut client) = pair(1024).await;
    client
        .send(Message::Ping("are you there".into()))
        .await
        .unwrap();
    client.send(Message::binary(frame(9))).await.unwrap();
    let mut got = vec![0u8; frame(9).len()];
    tokio::time::timeout(WAIT, server.read_exact(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        next_message(&mut client).await,
        Message::Pong("are you there".into())
    );
}

#[tokio::test]
async fn a_close_from_the_peer_ends_the_byte_stream() {
    let (mut server, mut client) = pair(1024).await;
    client.send(Message::binary(frame(4))).await.unwrap();
    client.close(None).await.unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(WAIT, server.read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, frame(4));
}

#[test]
fn close_reasons_are_cut_at_a_character_boundary() {
    assert_eq!(truncate("héllo", 2), "h");
    assert_eq!(truncate("abc", 10), "abc");
}

#[tokio::test]
async fn an_unmasked_client_frame_breaks_the_websocket_protocol_and_closes_with_1002() {
    let (a, b) = tokio::io::duplex(1 << 16);
    let server =
        WebSocketStream::from_raw_socket(a, Role::Server, Some(super::super::config(1024)));
    let mut server = WebSocketBytes::new(server.await);
    // A peer in the server role does not mask its frames, which a client must.
    let mut unmasking = WebSocketStream::from_raw_socket(b, Role::Server, None).await;
    unmasking.send(Message::binary(frame(1))).await.unwrap();
    let violation = read_error(&mut server).await;
    assert!(
        matches!(violation, WebSocketViolation::Protocol(_)),
        "{violation:?}"
    );
    assert_eq!(violation.close_code(), 1002);
}
