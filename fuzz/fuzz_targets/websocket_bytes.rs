//! The server's view of a WebSocket as frame bytes (`WebSocketBytes`, `core/src/websocket/`),
//! over whatever a client sends after the upgrade: WebSocket frames (masked or not, fragmented,
//! control frames, text, close) read in pieces the fuzzer cuts. Whatever it is, the bytes
//! handed on are whole hubwire frames (one per binary message, within the frame bound), and
//! the stream ends cleanly, with a typed violation (its error and close codes as documented),
//! or with an I/O error: never a panic, never a partial frame.
//!
//! Input: one byte `n`, then `n` cut sizes (see `Chunked`), then the bytes the client sends.
#![no_main]

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::BytesMut;
use futures::executor::block_on;
use hubwire_core::protocol::{decode_frame, ErrorCode};
use hubwire_core::websocket::{WebSocketBytes, WebSocketViolation};
use hubwire_fuzz::Chunked;
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;

/// A small frame bound, so the size check is met often.
const MAX_FRAME: usize = 256;

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let (cuts, sent) = rest.split_at(usize::from(n).min(rest.len()));
    let wire = Wire {
        rd: Chunked::new(sent, cuts),
    };
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_FRAME + 4))
        .max_frame_size(Some(MAX_FRAME + 4));
    let ws = block_on(WebSocketStream::from_raw_socket(wire, Role::Server, Some(config)));
    let mut bytes = WebSocketBytes::new(ws);
    let mut read = Vec::new();
    let ending = block_on(bytes.read_to_end(&mut read));

    // What was handed on is whole frames, each within the bound.
    let mut buf = BytesMut::from(&read[..]);
    while !buf.is_empty() {
        let frame = decode_frame(&mut buf, MAX_FRAME)
            .expect("a frame within the bound")
            .expect("a whole frame");
        assert!(frame.payload.len() + 2 <= MAX_FRAME);
    }
    if let Err(e) = ending {
        if let Some(violation) = WebSocketViolation::in_io(&e) {
            let (code, close) = (violation.code(), violation.close_code());
            match violation {
                WebSocketViolation::TooLarge { max, .. } => {
                    assert_eq!((code, close, *max), (ErrorCode::FrameTooLarge, 1009, MAX_FRAME + 4))
                }
                WebSocketViolation::TextMessage { .. } => {
                    assert_eq!((code, close), (ErrorCode::Protocol, 1003))
                }
                WebSocketViolation::NotOneFrame { .. } => {
                    assert_eq!((code, close), (ErrorCode::Protocol, 1007))
                }
                WebSocketViolation::Protocol(_) => {
                    assert_eq!((code, close), (ErrorCode::Protocol, 1002))
                }
            }
        }
    }
});

/// The client's bytes to read; what the server writes (pongs, closes) is taken and dropped.
struct Wire<'a> {
    rd: Chunked<'a>,
}

impl AsyncRead for Wire<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().rd).poll_read(cx, buf)
    }
}

impl AsyncWrite for Wire<'_> {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
