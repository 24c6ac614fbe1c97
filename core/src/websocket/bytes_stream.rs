//! [`WebSocketBytes`]: a WebSocket seen as the byte stream of hubwire frames, so that it plugs
//! into the same reader ([`FrameBatches`](crate::stream::FrameBatches)) and writer (the
//! outbound buffer) as a TCP socket.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use futures::{Sink, Stream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::WebSocketViolation;

/// Longest close reason a close frame can carry (125 bytes of payload less the 2-byte code).
const MAX_CLOSE_REASON: usize = 123;

/// A WebSocket after its upgrade, read and written as bytes: each binary message read must be
/// exactly one frame and is handed on as its bytes; the bytes written are cut at frame
/// boundaries and each frame sent as one binary message. Pings are answered as they are read.
///
/// Writes are buffered by the WebSocket until flushed: wrap it in
/// [`WriteThrough`](crate::net::WriteThrough) for hubwire's writers, which never flush.
#[derive(Debug)]
pub struct WebSocketBytes<S> {
    ws: WebSocketStream<S>,
    /// What is left of the message being read.
    reading: Bytes,
    /// Read to the end (a close, or the socket closed).
    read_done: bool,
    /// An error met after some bytes were already handed on this read, for the next one.
    read_error: Option<io::Error>,
    /// Bytes written that do not make a whole frame yet.
    writing: BytesMut,
    /// The close frame sent when the write side shuts down.
    close: CloseFrame,
    /// The close frame has been queued.
    close_sent: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocketBytes<S> {
    /// Reads and writes frames over `ws`.
    pub fn new(ws: WebSocketStream<S>) -> Self {
        WebSocketBytes {
            ws,
            reading: Bytes::new(),
            read_done: false,
            read_error: None,
            writing: BytesMut::new(),
            close: CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            },
            close_sent: false,
        }
    }

    /// The socket under the WebSocket (to read a TLS session, say).
    pub fn get_ref(&self) -> &S {
        self.ws.get_ref()
    }

    /// Sets the close code and reason sent when the write side shuts down (after a refusal,
    /// say); a violation read from the peer sets its own.
    pub fn close_with(&mut self, code: u16, reason: &str) {
        self.close = CloseFrame {
            code: CloseCode::from(code),
            reason: truncate(reason, MAX_CLOSE_REASON).to_owned().into(),
        };
    }

    /// A violation: the close that will follow is set, and it is returned as the read error.
    fn violated(&mut self, violation: WebSocketViolation) -> io::Error {
        let reason = match violation {
            WebSocketViolation::TextMessage { .. } => "hubwire takes binary messages only",
            WebSocketViolation::NotOneFrame { .. } => "one hubwire frame per binary message",
            WebSocketViolation::TooLarge { .. } => "message over the maximum frame size",
            WebSocketViolation::Protocol(_) => "WebSocket protocol error",
        };
        self.close_with(violation.close_code(), reason);
        violation.into_io()
    }

    /// What a read error of the WebSocket means for the byte stream: the end, or an error.
    fn read_failed(&mut self, error: WsError) -> Option<io::Error> {
        match error {
            WsError::ConnectionClosed
            | WsError::AlreadyClosed
            | WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => None,
            WsError::Io(e) => Some(e),
            WsError::Capacity(CapacityError::MessageTooLong { size, max_size }) => {
                Some(self.violated(WebSocketViolation::TooLarge {
                    size,
                    max: max_size,
                }))
            }
            other => Some(self.violated(WebSocketViolation::Protocol(other.to_string()))),
        }
    }
}

/// `text` cut to at most `max` bytes, at a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn ws_io(error: WsError) -> io::Error {
    match error {
        WsError::Io(e) => e,
        WsError::ConnectionClosed | WsError::AlreadyClosed => io::ErrorKind::BrokenPipe.into(),
        other => io::Error::other(other),
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for WebSocketBytes<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        let start = buf.filled().len();
        // Every message already received goes into this one read, as far as it has room.
        loop {
            if !this.reading.is_empty() {
                let n = this.reading.len().min(buf.remaining());
                buf.put_slice(&this.reading[..n]);
                this.reading.advance(n);
                if buf.remaining() == 0 {
                    return Poll::Ready(Ok(()));
                }
                continue;
            }
            let handed_on = buf.filled().len() > start;
            if let Some(error) = this.read_error.take() {
                if handed_on {
                    this.read_error = Some(error);
                    return Poll::Ready(Ok(()));
                }
                return Poll::Ready(Err(error));
            }
            if this.read_done {
                return Poll::Ready(Ok(()));
            }
            let message = match Pin::new(&mut this.ws).poll_next(cx) {
                Poll::Pending if handed_on => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
                Poll::Ready(message) => message,
            };
            match message {
                None | Some(Ok(Message::Close(_))) => this.read_done = true,
                Some(Ok(Message::Binary(data))) => match WebSocketViolation::check_one_frame(&data)
                {
                    Ok(()) => this.reading = data,
                    Err(violation) => this.read_error = Some(this.violated(violation)),
                },
                Some(Ok(Message::Text(text))) => {
                    let violation = WebSocketViolation::TextMessage { size: text.len() };
                    this.read_error = Some(this.violated(violation));
                }
                // Pings were answered by the WebSocket as they were read.
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Err(error)) => match this.read_failed(error) {
                    Some(error) => this.read_error = Some(error),
                    None => this.read_done = true,
                },
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for WebSocketBytes<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(Pin::new(&mut this.ws).poll_ready(cx)).map_err(ws_io)?;
        this.writing.extend_from_slice(buf);
        while let Some(len) = whole_frame(&this.writing) {
            let frame = this.writing.split_to(len).freeze();
            Pin::new(&mut this.ws)
                .start_send(Message::Binary(frame))
                .map_err(ws_io)?;
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().ws)
            .poll_flush(cx)
            .map_err(ws_io)
    }

    /// Sends the close frame (normal, or the code a violation or [`close_with`] set), then shuts
    /// the socket down.
    ///
    /// [`close_with`]: WebSocketBytes::close_with
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.close_sent {
            ready!(Pin::new(&mut this.ws).poll_ready(cx)).map_err(ws_io)?;
            this.close_sent = true;
            let close = Message::Close(Some(this.close.clone()));
            // Refused after the peer's own close: there is nothing left to say.
            let _ = Pin::new(&mut this.ws).start_send(close);
        }
        match ready!(Pin::new(&mut this.ws).poll_flush(cx)) {
            Ok(()) | Err(WsError::ConnectionClosed | WsError::AlreadyClosed) => {}
            Err(e) => return Poll::Ready(Err(ws_io(e))),
        }
        Pin::new(this.ws.get_mut()).poll_shutdown(cx)
    }
}

/// The size of the frame `bytes` start with, if they hold all of it.
fn whole_frame(bytes: &[u8]) -> Option<usize> {
    let len = u32::from_be_bytes(*bytes.first_chunk::<4>()?) as usize + 4;
    (bytes.len() >= len).then_some(len)
}

#[cfg(test)]
#[path = "bytes_stream_tests.rs"]
mod tests;
