//! The stream a dial opens, whatever the transport.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};

use super::{TlsSniff, WriteThrough};
use crate::websocket::WebSocketBytes;

/// A TLS client stream over TCP.
pub type TlsClientStream = WriteThrough<tokio_rustls::client::TlsStream<TcpStream>>;

/// A WebSocket client stream (over TCP or TLS), read and written as frame bytes.
pub type WebSocketClientStream = WriteThrough<WebSocketBytes<NetStream>>;

/// An open stream to a server: TCP, TLS over TCP, a Unix socket, or a WebSocket.
#[derive(Debug)]
pub enum NetStream {
    /// Plain TCP (a TLS answer is reported as such, not as a bad frame).
    Tcp(TlsSniff<TcpStream>),
    /// TLS over TCP.
    Tls(Box<TlsClientStream>),
    /// A Unix socket.
    Unix(UnixStream),
    /// A WebSocket (`ws://` over TCP, `wss://` over TLS), one frame per binary message.
    WebSocket(Box<WebSocketClientStream>),
}

impl NetStream {
    /// The subject common name of the certificate the server showed, over TLS.
    pub fn server_identity(&self) -> Option<String> {
        match self {
            NetStream::Tls(tls) => tls.with_inner(|tls| {
                let certs = tls.get_ref().1.peer_certificates()?;
                crate::tls::subject_common_name(certs.first()?)
            }),
            NetStream::WebSocket(ws) => ws.with_inner(|ws| ws.get_ref().server_identity()),
            _ => None,
        }
    }
}

macro_rules! each {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            NetStream::Tcp($s) => $e,
            NetStream::Tls($s) => $e,
            NetStream::Unix($s) => $e,
            NetStream::WebSocket($s) => $e,
        }
    };
}

impl AsyncRead for NetStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        each!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for NetStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        each!(self, s => Pin::new(s).poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            NetStream::Tcp(s) => s.is_write_vectored(),
            NetStream::Tls(s) => s.is_write_vectored(),
            NetStream::Unix(s) => s.is_write_vectored(),
            NetStream::WebSocket(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => Pin::new(s).poll_shutdown(cx))
    }
}
