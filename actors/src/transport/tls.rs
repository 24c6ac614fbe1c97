//! The TLS side of a stream listener: each accepted TCP socket does its TLS handshake on the
//! I/O thread that will own it (with the handshake timeout, so a silent peer costs nothing but
//! a timer), then the decrypted halves are handed to a [`Connection`] like any other stream's.
//! The listener's own thread only accepts.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix::{ArbiterHandle, Recipient};
use hubwire_core::net::WriteThrough;
use hubwire_core::protocol::{Envelope, ErrorCode, ErrorFrame};
use hubwire_core::tls::{subject_common_name, ServerTls};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

use super::listener::{ConnectionClosed, OpenStream};
use super::places::Place;
use super::{Connection, ConnectionShared, Peer, TransportStats};

/// A TCP socket accepted by a `tls://` listener, its handshake still to do.
pub(crate) struct PendingTls {
    socket: std::net::TcpStream,
    addr: SocketAddr,
    tls: Arc<ServerTls>,
    timeout: Duration,
}

impl PendingTls {
    /// Takes the socket out of the listener thread's reactor.
    pub(crate) fn new(
        socket: TcpStream,
        addr: SocketAddr,
        shared: &ConnectionShared,
    ) -> io::Result<PendingTls> {
        let tls = shared.tls.clone().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "a tls:// listener without TLS settings",
            )
        })?;
        Ok(PendingTls {
            socket: socket.into_std()?,
            addr,
            tls,
            timeout: shared.limits.handshake_timeout,
        })
    }

    /// Runs the handshake on `thread`, then starts the connection there; a failed handshake
    /// is logged and counted, and its place given back to the listener.
    pub(crate) fn start_on(
        self,
        thread: &ArbiterHandle,
        shared: Arc<ConnectionShared>,
        on_close: Recipient<ConnectionClosed>,
        stats: TransportStats,
    ) {
        let on_thread = thread.clone();
        thread.spawn(async move {
            let addr = self.addr;
            let stream = match self.handshake().await {
                Ok(stream) => stream,
                Err(e) => return handshake_failed(addr, &e, &stats, &on_close),
            };
            let (peer, open) = opened(addr, stream);
            Connection::start_on(&on_thread, peer, shared, open, on_close, stats, true);
        });
    }

    /// Answers a peer that may not connect: the handshake, one ERROR frame, close (off the
    /// listener's thread), holding `slot` until done.
    pub(crate) fn refuse(self, code: ErrorCode, message: String, slot: Place) {
        let frame = ErrorFrame::for_connection(code, message)
            .to_frame_bytes()
            .expect("an ERROR frame always encodes");
        actix::spawn(async move {
            let _slot = slot;
            if let Ok(mut stream) = self.handshake().await {
                let _ = stream.write_all(&frame).await;
                let _ = stream.shutdown().await;
            }
        });
    }

    async fn handshake(self) -> io::Result<TlsStream<TcpStream>> {
        let socket = TcpStream::from_std(self.socket)?;
        let acceptor = tokio_rustls::TlsAcceptor::from(self.tls.current());
        match tokio::time::timeout(self.timeout, acceptor.accept(socket)).await {
            Ok(result) => result.map_err(|e| explain(e, self.addr)),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no TLS handshake within {:?}", self.timeout),
            )),
        }
    }
}

/// A failed handshake: logged, counted, and its place given back to the listener.
pub(crate) fn handshake_failed(
    addr: SocketAddr,
    error: &io::Error,
    stats: &TransportStats,
    on_close: &Recipient<ConnectionClosed>,
) {
    stats.handshakes_failed.inc();
    tracing::warn!(peer = %addr, %error, "TLS handshake failed");
    on_close.do_send(ConnectionClosed {
        ip: Some(addr.ip()),
    });
}

/// A finished handshake as a connection takes it: the peer (named by its client certificate,
/// if it showed one) and the decrypted stream to open.
pub(crate) fn opened(addr: SocketAddr, stream: TlsStream<TcpStream>) -> (Peer, OpenStream) {
    let identity = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|certs| certs.first())
        .and_then(|cert| subject_common_name(cert));
    let open: OpenStream = Box::new(move || {
        let (rd, wr) = tokio::io::split(WriteThrough::new(stream));
        Ok((Box::new(rd) as _, Box::new(wr) as _))
    });
    (Peer::Tls { addr, identity }, open)
}

/// A handshake error, with a hint when the peer spoke plain hubwire to a TLS port.
pub(crate) fn explain(e: io::Error, peer: SocketAddr) -> io::Error {
    let plain = matches!(
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>()),
        Some(rustls::Error::InvalidMessage(_))
    );
    if plain {
        return io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{peer} does not speak TLS ({e}): a plain tcp:// client dialled this tls:// listener"),
        );
    }
    e
}
