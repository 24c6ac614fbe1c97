//! The WebSocket side of a stream listener (`ws://`, `wss://`): each accepted TCP socket does
//! its TLS handshake (for `wss://`) and its HTTP upgrade on the I/O thread that will own it,
//! both within the handshake timeout, then the WebSocket, read and written as frame bytes, is
//! handed to a [`Connection`] like any other stream. The listener's own thread only accepts.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix::{ArbiterHandle, Recipient};
use hubwire_core::net::WriteThrough;
use hubwire_core::protocol::{Envelope, ErrorCode, ErrorFrame};
use hubwire_core::tls::{subject_common_name, ServerTls};
use hubwire_core::websocket::{accept, UpgradeError, UpgradeSettings, WebSocketBytes};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::listener::{ConnectionClosed, OpenStream};
use super::places::Place;
use super::{Connection, ConnectionShared, Peer, TransportStats};

/// WebSocket close code of a peer refused by the allow-list (policy violation).
const CLOSE_DENIED: u16 = 1008;
/// WebSocket close code of a peer refused over a connection limit (try again later).
const CLOSE_BUSY: u16 = 1013;

/// A TCP socket accepted by a `ws://` or `wss://` listener, its upgrade still to do.
pub(crate) struct PendingWebSocket {
    socket: std::net::TcpStream,
    addr: SocketAddr,
    /// Set for `wss://`.
    tls: Option<Arc<ServerTls>>,
    settings: Arc<UpgradeSettings>,
    timeout: Duration,
}

/// Why a socket did not become a WebSocket.
#[derive(Debug, thiserror::Error)]
enum HandshakeFailed {
    /// Nothing, or not all of the handshakes, within the handshake timeout.
    #[error("no WebSocket upgrade (after the TLS handshake, for wss://) within {0:?}")]
    TimedOut(Duration),
    /// The socket could not be taken over, or (for `wss://`) the TLS handshake failed.
    #[error("{0}")]
    Stream(io::Error),
    /// The upgrade was refused (origin, path) or was no upgrade.
    #[error(transparent)]
    Upgrade(#[from] UpgradeError),
}

impl PendingWebSocket {
    /// Takes the socket out of the listener thread's reactor.
    pub(crate) fn new(
        socket: TcpStream,
        addr: SocketAddr,
        tls: bool,
        settings: Arc<UpgradeSettings>,
        shared: &ConnectionShared,
    ) -> io::Result<PendingWebSocket> {
        let tls = match tls {
            false => None,
            true => Some(shared.tls.clone().ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "a wss:// listener without TLS settings",
                )
            })?),
        };
        Ok(PendingWebSocket {
            socket: socket.into_std()?,
            addr,
            tls,
            settings,
            timeout: shared.limits.handshake_timeout,
        })
    }

    /// Runs the handshakes on `thread`, then starts the connection there; a failed one is
    /// logged and counted, and its place given back to the listener.
    pub(crate) fn start_on(
        self,
        thread: &ArbiterHandle,
        shared: Arc<ConnectionShared>,
        on_close: Recipient<ConnectionClosed>,
        stats: TransportStats,
    ) {
        let on_thread = thread.clone();
        thread.spawn(async move {
            let PendingWebSocket {
                socket,
                addr,
                tls,
                settings,
                timeout,
            } = self;
            let fail = |e: HandshakeFailed| {
                match &e {
                    HandshakeFailed::Upgrade(refused) if refused.is_origin_refused() => {
                        stats.origins_refused.inc()
                    }
                    HandshakeFailed::Stream(_) => stats.handshakes_failed.inc(),
                    HandshakeFailed::Upgrade(_) | HandshakeFailed::TimedOut(_) => {
                        stats.upgrades_failed.inc()
                    }
                }
                tracing::warn!(peer = %addr, error = %e, "WebSocket handshake failed");
                on_close.do_send(ConnectionClosed {
                    ip: Some(addr.ip()),
                });
            };
            let (peer, open) = match tls {
                None => match upgrade(&settings, timeout, plain(socket)).await {
                    Ok(ws) => (Peer::Ip(addr), open_stream(ws)),
                    Err(e) => return fail(e),
                },
                Some(tls) => {
                    match upgrade(&settings, timeout, encrypted(socket, tls, addr)).await {
                        Ok(ws) => {
                            let identity = ws
                                .get_ref()
                                .get_ref()
                                .1
                                .peer_certificates()
                                .and_then(|certs| certs.first())
                                .and_then(|cert| subject_common_name(cert));
                            (Peer::Tls { addr, identity }, open_stream(ws))
                        }
                        Err(e) => return fail(e),
                    }
                }
            };
            Connection::start_on(&on_thread, peer, shared, open, on_close, stats, false);
        });
    }

    /// Answers a peer that may not connect: the upgrade, one ERROR frame in a binary message,
    /// and a close with code 1008 (denied) or 1013 (busy), off the listener's thread. A browser
    /// cannot read an HTTP refusal's reason, but it can read this. `slot` is held until done.
    pub(crate) fn refuse(self, code: ErrorCode, message: String, slot: Place) {
        let frame = ErrorFrame::for_connection(code, message.clone())
            .to_frame_bytes()
            .expect("an ERROR frame always encodes");
        let close = if code == ErrorCode::Denied {
            CLOSE_DENIED
        } else {
            CLOSE_BUSY
        };
        let PendingWebSocket {
            socket,
            addr,
            tls,
            settings,
            timeout,
        } = self;
        actix::spawn(async move {
            let answer = async move {
                match tls {
                    None => {
                        let ws = upgrade(&settings, timeout, plain(socket)).await?;
                        say_and_close(ws, &frame, close, &message).await
                    }
                    Some(tls) => {
                        let handshake = encrypted(socket, tls, addr);
                        let ws = upgrade(&settings, timeout, handshake).await?;
                        say_and_close(ws, &frame, close, &message).await
                    }
                }
            };
            // Bounded as a whole: a peer that never reads the answer costs no more than that.
            let _ = tokio::time::timeout(timeout, answer).await;
            drop(slot);
        });
    }
}

/// The TLS handshake (when `stream` does one) and the upgrade, within `timeout`.
async fn upgrade<S, F>(
    settings: &UpgradeSettings,
    timeout: Duration,
    stream: F,
) -> Result<WebSocketBytes<S>, HandshakeFailed>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: std::future::Future<Output = io::Result<S>>,
{
    let both = async {
        let stream = stream.await.map_err(HandshakeFailed::Stream)?;
        Ok(accept(stream, settings).await?)
    };
    tokio::time::timeout(timeout, both)
        .await
        .unwrap_or(Err(HandshakeFailed::TimedOut(timeout)))
}

async fn plain(socket: std::net::TcpStream) -> io::Result<TcpStream> {
    TcpStream::from_std(socket)
}

async fn encrypted(
    socket: std::net::TcpStream,
    tls: Arc<ServerTls>,
    addr: SocketAddr,
) -> io::Result<tokio_rustls::server::TlsStream<TcpStream>> {
    let socket = TcpStream::from_std(socket)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(tls.current());
    acceptor.accept(socket).await.map_err(|e| {
        let e = super::tls::explain(e, addr);
        io::Error::new(e.kind(), format!("TLS handshake failed: {e}"))
    })
}

/// The WebSocket as the read and write halves a connection takes. Its writes are flushed as
/// they are made (hubwire's writers never flush).
fn open_stream<S>(ws: WebSocketBytes<S>) -> OpenStream
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    Box::new(move || {
        let (rd, wr) = tokio::io::split(WriteThrough::new(ws));
        Ok((Box::new(rd) as _, Box::new(wr) as _))
    })
}

async fn say_and_close<S>(
    mut ws: WebSocketBytes<S>,
    frame: &[u8],
    close: u16,
    reason: &str,
) -> Result<(), HandshakeFailed>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    ws.close_with(close, reason);
    let _ = ws.write_all(frame).await;
    let _ = ws.shutdown().await;
    Ok(())
}
