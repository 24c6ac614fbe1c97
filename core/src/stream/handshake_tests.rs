//! How a handshake ends when the peer does not answer CONN: a connection that breaks (closed,
//! reset, DISCONN) is `Lost`, a refusal is `Refused`, other bytes are `Protocol`.

use tokio::io::{duplex, split, AsyncReadExt, AsyncWriteExt, DuplexStream};

use super::{exchange_hello, HandshakeError};
use crate::protocol::{
    Disconnect, Envelope, ErrorCode, ErrorFrame, Hello, Ping, ProtocolError, PROTOCOL_VERSION,
};

fn ours() -> Hello {
    Hello {
        version: PROTOCOL_VERSION,
        agent: "handshake-test".into(),
        max_frame: 1 << 20,
        max_in_flight: 0,
    }
}

/// Runs our side of the handshake against a peer that reads our CONN and then does `answer`.
async fn handshake_against<F, Fut>(answer: F) -> Result<Hello, HandshakeError>
where
    F: FnOnce(DuplexStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let (ours_end, mut theirs) = duplex(4096);
    let peer = tokio::spawn(async move {
        let mut conn = [0u8; 64];
        let _ = theirs.read(&mut conn).await;
        answer(theirs).await;
    });
    let (mut rd, mut wr) = split(ours_end);
    let result = exchange_hello(&mut rd, &mut wr, &ours(), 1 << 20, "server").await;
    peer.await.unwrap();
    result.map(|(hello, _)| hello)
}

#[tokio::test]
async fn a_peer_that_closes_before_conn_is_a_lost_connection() {
    let result = handshake_against(|theirs| async move { drop(theirs) }).await;
    match result {
        Err(HandshakeError::Lost(e)) => assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof),
        other => panic!("expected a lost connection, got {other:?}"),
    }
}

#[tokio::test]
async fn a_peer_that_closes_in_the_middle_of_its_conn_is_a_lost_connection() {
    let result = handshake_against(|mut theirs| async move {
        let conn = Hello {
            agent: "peer".into(),
            ..ours()
        };
        let bytes = conn.to_frame_bytes().unwrap();
        theirs.write_all(&bytes[..bytes.len() / 2]).await.unwrap();
    })
    .await;
    assert!(matches!(result, Err(HandshakeError::Lost(_))), "{result:?}");
}

#[tokio::test]
async fn a_disconn_instead_of_conn_is_a_lost_connection_with_its_reason() {
    let result = handshake_against(|mut theirs| async move {
        let bye = Disconnect {
            reason: "the server is shutting down".into(),
        };
        theirs
            .write_all(&bye.to_frame_bytes().unwrap())
            .await
            .unwrap();
    })
    .await;
    match result {
        Err(HandshakeError::Lost(e)) => {
            assert_eq!(e.kind(), std::io::ErrorKind::ConnectionAborted);
            assert!(e.to_string().contains("shutting down"), "{e}");
        }
        other => panic!("expected a lost connection, got {other:?}"),
    }
}

#[tokio::test]
async fn an_error_frame_is_a_refusal_and_other_bytes_are_a_protocol_error() {
    let refused = handshake_against(|mut theirs| async move {
        let busy = ErrorFrame {
            id: None,
            code: ErrorCode::Busy,
            message: "too many connections".into(),
        };
        theirs
            .write_all(&busy.to_frame_bytes().unwrap())
            .await
            .unwrap();
    })
    .await;
    assert!(
        matches!(
            refused,
            Err(HandshakeError::Refused {
                code: ErrorCode::Busy,
                ..
            })
        ),
        "{refused:?}"
    );
    let garbled = handshake_against(|mut theirs| async move {
        let ping = Ping { nonce: 1 };
        theirs
            .write_all(&ping.to_frame_bytes().unwrap())
            .await
            .unwrap();
    })
    .await;
    assert!(
        matches!(
            garbled,
            Err(HandshakeError::Protocol(
                ProtocolError::UnexpectedKind { .. }
            ))
        ),
        "{garbled:?}"
    );
}
