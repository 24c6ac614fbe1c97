//! The host and port of an IP address (`tcp://`, `tls://`, `udp://`): an IP literal, or a host
//! name resolved at each connect.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// A host: an IP literal, or a name looked up when the address is used (so a name that moves
/// to another address is followed at the next connect).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Host {
    /// An IPv4 or IPv6 literal.
    Ip(IpAddr),
    /// A DNS name (or one from `/etc/hosts`, such as `localhost`), kept as written.
    Name(String),
}

/// A host and a port.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostPort {
    /// The host.
    pub host: Host,
    /// The port.
    pub port: u16,
}

impl HostPort {
    /// The socket address, when the host is an IP literal.
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        match &self.host {
            Host::Ip(ip) => Some(SocketAddr::new(*ip, self.port)),
            Host::Name(_) => None,
        }
    }

    /// The host as written, without brackets (`::1`, `example.com`): what a TLS client checks
    /// the server's certificate against.
    pub fn host_str(&self) -> String {
        match &self.host {
            Host::Ip(ip) => ip.to_string(),
            Host::Name(name) => name.clone(),
        }
    }

    /// Whether the host is an IP literal on loopback (a name counts as not loopback until it
    /// is resolved).
    pub fn is_loopback_literal(&self) -> bool {
        matches!(self.host, Host::Ip(ip) if ip.is_loopback())
    }
}

impl From<SocketAddr> for HostPort {
    fn from(addr: SocketAddr) -> Self {
        HostPort {
            host: Host::Ip(addr.ip()),
            port: addr.port(),
        }
    }
}

/// Whether `name` is a plausible host name: dot-separated labels of letters, digits, `-` and
/// `_`, none empty or over 63 bytes, 253 bytes at most in all.
pub(super) fn is_host_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]:{}", self.port),
            Host::Ip(IpAddr::V4(ip)) => write!(f, "{ip}:{}", self.port),
            Host::Name(name) => write!(f, "{name}:{}", self.port),
        }
    }
}
