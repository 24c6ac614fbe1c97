//! The work listener's security: the TLS handshake of a `tls://` listener, and, on a
//! dispatcher with users, the AUTH every connection owes after its CONN (checked by the same
//! [`AuthGate`](crate::auth::AuthGate) as the app's own listeners, so failures from one
//! address are slowed down alike). A peer whose client certificate names a user is that user
//! without AUTH, as on the app's listeners.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use hubwire_core::auth::AuthFailure;
use hubwire_core::protocol::{kind, Auth, AuthOk, Envelope, ErrorCode};
use hubwire_core::stream::read_one_frame;
use hubwire_core::tls::{subject_common_name, ServerTls};
use hubwire_core::AllowList;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

use crate::auth::{Authenticator, Check};

/// Who is at the other end of a connection, as far as the socket tells.
#[derive(Debug, Clone, Default)]
pub(crate) struct PeerFacts {
    /// Its address (none for a Unix socket): failures are slowed down per address.
    pub(crate) ip: Option<IpAddr>,
    /// The common name of its TLS client certificate, when it showed one.
    pub(crate) identity: Option<String>,
    /// The uid of a Unix socket peer, when the socket says it.
    pub(crate) uid: Option<u32>,
}

impl PeerFacts {
    /// Whether `allow` lets it connect: its address, or on a Unix socket its uid (a peer
    /// whose uid the socket does not say is refused).
    pub(crate) fn allowed_by(&self, allow: &AllowList) -> bool {
        match (self.ip, self.uid) {
            (Some(ip), _) => allow.allows_ip(ip),
            (None, Some(uid)) => allow.allows_uid(uid),
            (None, None) => false,
        }
    }
}

impl std::fmt::Display for PeerFacts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.ip, self.uid) {
            (Some(ip), _) => write!(f, "{ip}"),
            (None, Some(uid)) => write!(f, "uid {uid}"),
            (None, None) => f.write_str("a peer of unknown uid"),
        }
    }
}

/// Runs the TLS handshake of an accepted socket, within `timeout`.
pub(crate) async fn tls_handshake(
    socket: TcpStream,
    tls: &ServerTls,
    timeout: Duration,
) -> std::io::Result<(TlsStream<TcpStream>, Option<String>)> {
    let peer = socket.peer_addr()?;
    let acceptor = tokio_rustls::TlsAcceptor::from(tls.current());
    let stream = match tokio::time::timeout(timeout, acceptor.accept(socket)).await {
        Ok(result) => result.map_err(|e| crate::transport::explain_tls_error(e, peer))?,
        Err(_) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no TLS handshake within {timeout:?}"),
            ))
        }
    };
    let identity = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|certs| certs.first())
        .and_then(|cert| subject_common_name(cert));
    Ok((stream, identity))
}

/// Why a connection may not go on, as its last ERROR says.
pub(crate) type Refusal = (ErrorCode, String);

/// On a dispatcher with users: the peer's user name, from its certificate or from the AUTH
/// that must follow its CONN (read from `buf`, then `rd`, within `timeout`); AUTH_OK is written
/// for an AUTH that passed. Without users, `Ok(None)` at once.
pub(crate) async fn authenticate<R, W>(
    auth: Option<&Authenticator>,
    peer: &PeerFacts,
    rd: &mut R,
    wr: &mut W,
    buf: &mut BytesMut,
    max_frame: usize,
    timeout: Duration,
) -> Result<Option<String>, Refusal>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let Some(auth) = auth else {
        return Ok(None);
    };
    let by_certificate = peer
        .identity
        .as_deref()
        .and_then(|id| auth.users.by_tls_identity(id));
    if let Some(user) = by_certificate {
        // An AUTH sent anyway (with the CONN) replaces that user if it is accepted.
        if !starts_with_auth(buf) {
            return Ok(Some(user.name().to_owned()));
        }
    }
    let frame = match tokio::time::timeout(timeout, read_one_frame(rd, buf, max_frame, 4096)).await
    {
        Ok(Ok(frame)) => frame,
        Ok(Err(e)) => return Err((e.code(), e.to_string())),
        Err(_) => {
            let message = format!("no AUTH within {timeout:?}: this dispatcher has users");
            return Err((ErrorCode::Denied, message));
        }
    };
    if frame.kind != kind::AUTH {
        return Err((ErrorCode::Denied, AuthFailure::Missing.message()));
    }
    let credentials = Auth::from_frame(&frame)
        .map_err(|e| (e.code(), e.to_string()))?
        .credentials;
    let (reply, answer) = tokio::sync::oneshot::channel();
    let check = Check {
        ip: peer.ip,
        credentials,
        reply,
    };
    if auth.gate.try_send(check).is_err() {
        let message = "the dispatcher cannot check credentials now; try again later".to_owned();
        return Err((ErrorCode::Busy, message));
    }
    match answer.await.unwrap_or(Err(AuthFailure::Missing)) {
        Ok(user) => {
            let ok = AuthOk {
                user: user.name().to_owned(),
            };
            let bytes = ok.to_frame_bytes().map_err(|e| (e.code(), e.to_string()))?;
            let io = |e: std::io::Error| (ErrorCode::Protocol, e.to_string());
            wr.write_all(&bytes).await.map_err(io)?;
            Ok(Some(user.name().to_owned()))
        }
        Err(failure) => {
            tracing::info!(ip = ?peer.ip, %failure, "work connection: authentication failed");
            Err((ErrorCode::Denied, failure.message()))
        }
    }
}

/// Whether the next frame in `buf` is an AUTH (its length and kind are there).
fn starts_with_auth(buf: &BytesMut) -> bool {
    buf.len() >= 6 && u16::from_be_bytes([buf[4], buf[5]]) == kind::AUTH
}

/// The TLS settings a `tls://` work listener needs.
pub(crate) fn need_tls(tls: Option<&Arc<ServerTls>>) -> std::io::Result<Arc<ServerTls>> {
    tls.cloned().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "a tls:// work listener needs TLS settings: DispatcherOptions::tls, or the app's tls config",
        )
    })
}
