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
use hubwire_core::tls::ServerTls;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

use super::{Greeting, NatsConnection};
use crate::transport::listener::ConnectionClosed;
use crate::transport::tls::{handshake_failed, opened};
use crate::transport::{ConnectionShared, TransportStats};

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
                Err(e) => return handshake_failed(addr, &e, &stats, &on_close),
            };
            let (peer, open) = opened(addr, stream);
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
