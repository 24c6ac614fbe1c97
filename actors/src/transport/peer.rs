//! Who is on the other end of a connection or datagram, as far as the allow-lists care.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use hubwire_core::AllowList;

/// Where a server is in its life; connections watch it to drain and close at shutdown.
pub use hubwire_core::session::Phase;

/// A peer: an IP socket address (with its certificate's identity over TLS), or a Unix-socket
/// peer known by its uid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Peer {
    /// A TCP or UDP peer.
    Ip(SocketAddr),
    /// A peer over TLS, with the identity its client certificate gave, if it showed one.
    Tls {
        /// Its socket address.
        addr: SocketAddr,
        /// The subject common name (CN) of its verified client certificate.
        identity: Option<String>,
    },
    /// A Unix-socket peer; `None` when its credentials could not be read.
    Unix {
        /// The peer process's user id.
        uid: Option<u32>,
    },
    /// A peer inside this process (tests, in-process calls).
    Local,
}

impl Peer {
    /// The peer's IP address, for IP peers.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Peer::Ip(addr) | Peer::Tls { addr, .. } => Some(addr.ip()),
            _ => None,
        }
    }

    /// The identity a TLS client certificate gave (its subject CN); `None` for other peers.
    pub fn identity(&self) -> Option<&str> {
        match self {
            Peer::Tls { identity, .. } => identity.as_deref(),
            _ => None,
        }
    }

    /// Whether `list` allows this peer.
    pub fn allowed_by(&self, list: &AllowList) -> bool {
        match self {
            Peer::Ip(addr) | Peer::Tls { addr, .. } => list.allows_ip(addr.ip()),
            Peer::Unix { uid: Some(uid) } => list.allows_uid(*uid),
            Peer::Unix { uid: None } => false,
            Peer::Local => true,
        }
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::Ip(addr) => write!(f, "{addr}"),
            Peer::Tls {
                addr,
                identity: Some(identity),
            } => write!(f, "{addr} (tls, {identity})"),
            Peer::Tls {
                addr,
                identity: None,
            } => write!(f, "{addr} (tls)"),
            Peer::Unix { uid: Some(uid) } => write!(f, "unix peer uid {uid}"),
            Peer::Unix { uid: None } => f.write_str("unix peer (uid unknown)"),
            Peer::Local => f.write_str("in-process"),
        }
    }
}
