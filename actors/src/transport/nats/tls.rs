//! TLS on a `nats://` listener, nats-server's way: the client is sent INFO in plain text with
//! `tls_required`, then upgrades the same socket with a TLS handshake (with the server's `tls`
//! certificate and client certificate checks, on the I/O thread that will own the connection,
//! bounded by the handshake timeout); the protocol then runs inside TLS as usual, starting
//! with the client's CONNECT.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix::{ArbiterHandle, Recipient};
use bytes::BytesMut;
use hubwire_core::net::WriteThrough;
use hubwire_core::tls::{subject_common_name, ServerTls};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

use super::{Greeting, NatsConnection};
use crate::transport::listener::{ConnectionClosed, OpenStream};
use crate::transport::{ConnectionShared, Peer, TransportStats};

/// A socket accepted by a `nats://` listener that requires TLS, its INFO and handshake still
/// to do.
pub(crate) struct PendingNatsTls {
    socket: std::net::TcpStream,
    addr: SocketAddr,
    listening: SocketAddr,
    tls: Arc<ServerTls>,
    timeout: Duration,
}

impl PendingNatsTls {
    /// Takes the socket out of the listener thread's reactor.
    pub(crate) fn new(
        socket: TcpStream,
        addr: SocketAddr,
        listening: SocketAddr,
        shared: &ConnectionShared,
    ) -> io::Result<PendingNatsTls> {
        let tls = shared.tls.clone().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "a nats:// listener with nats_tls but no TLS settings",
            )
        })?;
        Ok(PendingNatsTls {
            socket: socket.into_std()?,
            addr,
            listening,
            tls,
            timeout: shared.limits.handshake_timeout,
        })
    }

    /// Sends INFO and runs the handshake on `thread`, then starts the connection there; a
    /// failed handshake is logged and counted, and its place given back to the listener.
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
            let session = NatsConnection::new_session(&shared, self.listening);
            let mut info = BytesMut::new();
            session.greet(&mut info);
            let stream = match self.upgrade(&info).await {
                Ok(stream) => stream,
                Err(e) => {
                    stats.handshakes_failed.inc();
                    tracing::warn!(peer = %addr, error = %e, "NATS TLS upgrade failed");
                    on_close.do_send(ConnectionClosed {
                        ip: Some(addr.ip()),
                    });
                    return;
                }
            };
            let identity = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|certs| certs.first())
                .and_then(|cert| subject_common_name(cert));
            let peer = Peer::Tls { addr, identity };
            let open: OpenStream = Box::new(move || {
                let (rd, wr) = tokio::io::split(WriteThrough::new(stream));
                Ok((Box::new(rd) as _, Box::new(wr) as _))
            });
            let greeted = Greeting::Greeted(Box::new(session));
            NatsConnection::start_on(&on_thread, peer, shared, open, on_close, stats, greeted);
        });
    }

    /// INFO in plain text, then the client's TLS handshake, both within the timeout.
    async fn upgrade(self, info: &[u8]) -> io::Result<TlsStream<TcpStream>> {
        let mut socket = TcpStream::from_std(self.socket)?;
        let acceptor = tokio_rustls::TlsAcceptor::from(self.tls.current());
        let upgrade = async {
            socket.write_all(info).await?;
            acceptor
                .accept(socket)
                .await
                .map_err(|e| crate::transport::tls::explain(e, self.addr))
        };
        match tokio::time::timeout(self.timeout, upgrade).await {
            Ok(result) => result,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no TLS handshake within {:?} of INFO", self.timeout),
            )),
        }
    }
}
