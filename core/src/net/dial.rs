//! The one way every dialler (client, spoke, bridge, queued sender, the `hubwire` command)
//! opens a stream: resolve the name now, try its addresses in turn, and do the TLS handshake
//! for `tls://`.

use std::net::SocketAddr;
use std::time::Duration;

use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::{resolve, DialError, NetStream, TlsSniff, WriteThrough};
use crate::address::HostPort;
use crate::tls::TlsClient;
use crate::Address;

/// How to dial.
#[derive(Clone, Debug)]
pub struct DialOptions {
    /// Time for the whole dial: resolving, connecting to each address in turn, the TLS
    /// handshake.
    pub connect_timeout: Duration,
    /// Set TCP_NODELAY on the socket.
    pub tcp_nodelay: bool,
    /// For `tls://` and `wss://`: the roots trusted and the client certificate. Default: the
    /// system roots.
    pub tls: Option<TlsClient>,
    /// For `ws://` and `wss://`: the largest frame, hence WebSocket message, accepted.
    /// Default: 1 MiB.
    pub max_frame: usize,
}

impl Default for DialOptions {
    fn default() -> Self {
        DialOptions {
            connect_timeout: Duration::from_secs(5),
            tcp_nodelay: true,
            tls: None,
            max_frame: crate::config::DEFAULT_MAX_FRAME,
        }
    }
}

/// Opens a stream to `address` (`tcp://`, `tls://`, `unix://`, `ws://` or `wss://`). A host
/// name is resolved now, and its addresses (IPv6 ones included) are tried in the resolver's
/// order, each given an equal share of the time left, until one connects. A WebSocket is
/// upgraded within the same time, and read and written as frame bytes like the others.
pub async fn dial(address: &Address, options: &DialOptions) -> Result<NetStream, DialError> {
    let deadline = Instant::now() + options.connect_timeout;
    let hp = match address {
        Address::Tcp(hp) | Address::Tls(hp) => hp,
        Address::Ws { at, .. } | Address::Wss { at, .. } => at,
        Address::Unix(path) => {
            let io = |source| DialError::Io {
                target: address.to_string(),
                source,
            };
            let stream = tokio::time::timeout_at(deadline, tokio::net::UnixStream::connect(path))
                .await
                .map_err(|_| timeout("connecting", address.to_string(), options))?
                .map_err(io)?;
            return Ok(NetStream::Unix(stream));
        }
        Address::Udp(_) | Address::Nats(_) => return Err(DialError::NotAStream(address.clone())),
    };
    let addrs = tokio::time::timeout_at(deadline, resolve(hp))
        .await
        .map_err(|_| timeout("resolving", hp.host_str(), options))??;
    let tcp = connect_any(hp, &addrs, deadline).await?;
    let _ = tcp.set_nodelay(options.tcp_nodelay);
    match address {
        Address::Tls(_) => tls_handshake(tcp, address, hp, deadline, options).await,
        Address::Wss { .. } => {
            let tls = tls_handshake(tcp, address, hp, deadline, options).await?;
            upgrade(tls, address, deadline, options).await
        }
        Address::Ws { .. } => {
            let message = format!(
                "the server at {address} answered with TLS: this looks like a TLS server, use wss://{hp}"
            );
            let tcp = NetStream::Tcp(TlsSniff::new(tcp, message, false));
            upgrade(tcp, address, deadline, options).await
        }
        _ => {
            let message = format!(
                "the server at {address} answered with TLS: this looks like a TLS server, use tls://{hp}"
            );
            Ok(NetStream::Tcp(TlsSniff::new(tcp, message, false)))
        }
    }
}

/// The WebSocket upgrade over `stream`, before `deadline`.
async fn upgrade(
    stream: NetStream,
    address: &Address,
    deadline: Instant,
    options: &DialOptions,
) -> Result<NetStream, DialError> {
    let upgraded = crate::websocket::connect(stream, address, options.max_frame);
    let ws = tokio::time::timeout_at(deadline, upgraded)
        .await
        .map_err(|_| timeout("in the WebSocket upgrade", address.to_string(), options))?
        .map_err(|source| DialError::WebSocket {
            address: address.clone(),
            source,
        })?;
    Ok(NetStream::WebSocket(Box::new(WriteThrough::new(ws))))
}

fn timeout(stage: &'static str, target: String, options: &DialOptions) -> DialError {
    DialError::Timeout {
        stage,
        target,
        after: options.connect_timeout,
    }
}

/// Connects to the first of `addrs` that answers.
pub(super) async fn connect_any(
    hp: &HostPort,
    addrs: &[SocketAddr],
    deadline: Instant,
) -> Result<TcpStream, DialError> {
    let mut failures = Vec::new();
    for (i, addr) in addrs.iter().enumerate() {
        let left = deadline.saturating_duration_since(Instant::now());
        let share = left / u32::try_from(addrs.len() - i).unwrap_or(u32::MAX);
        let failure = match tokio::time::timeout(share, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => return Ok(stream),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                DialError::Refused { addr: *addr }
            }
            Ok(Err(source)) => DialError::Io {
                target: addr.to_string(),
                source,
            },
            Err(_) => DialError::Timeout {
                stage: "connecting",
                target: addr.to_string(),
                after: share,
            },
        };
        failures.push(failure);
    }
    if failures.len() == 1 {
        return Err(failures.pop().expect("one failure"));
    }
    Err(DialError::AllFailed {
        host: hp.host_str(),
        failures,
    })
}

async fn tls_handshake(
    tcp: TcpStream,
    address: &Address,
    hp: &HostPort,
    deadline: Instant,
    options: &DialOptions,
) -> Result<NetStream, DialError> {
    let tls = match &options.tls {
        Some(tls) => tls.clone(),
        None => TlsClient::system_default()?,
    };
    let name = ServerName::try_from(hp.host_str()).map_err(|e| DialError::Handshake {
        address: address.clone(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, e),
    })?;
    let connector = tokio_rustls::TlsConnector::from(tls.config());
    let stream = tokio::time::timeout_at(deadline, connector.connect(name, tcp))
        .await
        .map_err(|_| timeout("in the TLS handshake", address.to_string(), options))?
        .map_err(|e| handshake_error(address, e))?;
    Ok(NetStream::Tls(Box::new(WriteThrough::new(stream))))
}

/// What a failed client handshake means for the user.
fn handshake_error(address: &Address, e: std::io::Error) -> DialError {
    use std::io::ErrorKind;
    let not_tls = |reason: String| DialError::NotTls {
        address: address.clone(),
        reason,
    };
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::InvalidCertificate(_)) => DialError::Certificate {
            address: address.clone(),
            reason: e.to_string(),
        },
        Some(
            rustls::Error::InvalidMessage(_)
            | rustls::Error::InappropriateMessage { .. }
            | rustls::Error::InappropriateHandshakeMessage { .. },
        ) => not_tls(e.to_string()),
        Some(_) => DialError::Handshake {
            address: address.clone(),
            source: e,
        },
        None if matches!(
            e.kind(),
            ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
        ) =>
        {
            not_tls(format!("the connection closed in the handshake ({e})"))
        }
        None => DialError::Handshake {
            address: address.clone(),
            source: e,
        },
    }
}
