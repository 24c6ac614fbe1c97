//! Addresses are URLs everywhere: `tcp://127.0.0.1:7400`, `udp://[::1]:7401`,
//! `unix:///run/hubwire/app.sock`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;

/// Where a listener binds or a client connects.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Address {
    /// A TCP socket address.
    Tcp(SocketAddr),
    /// A UDP socket address.
    Udp(SocketAddr),
    /// A Unix stream socket path.
    Unix(PathBuf),
}

/// Why a string is not an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// No `scheme://` in front.
    #[error(
        "address {0:?} has no scheme: write it as tcp://HOST:PORT, udp://HOST:PORT or unix:///PATH"
    )]
    MissingScheme(String),
    /// A scheme other than tcp, udp or unix.
    #[error("address {0:?} has an unknown scheme: use tcp://, udp:// or unix://")]
    UnknownScheme(String),
    /// The host and port part did not parse.
    #[error("address {0:?} needs an IP address and a port from 0 to 65535 (IPv6 in brackets: tcp://[::1]:7400)")]
    BadHostPort(String),
    /// A unix address without a path.
    #[error("address {0:?} needs a socket path: unix:///path/to/app.sock")]
    EmptyPath(String),
}

impl Address {
    /// The default listen address of a server: TCP on loopback, port 7400.
    pub fn default_listen() -> Address {
        Address::Tcp(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 7400))
    }

    /// `"tcp"`, `"udp"` or `"unix"`.
    pub fn scheme(&self) -> &'static str {
        match self {
            Address::Tcp(_) => "tcp",
            Address::Udp(_) => "udp",
            Address::Unix(_) => "unix",
        }
    }

    /// The socket address, for the IP transports.
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        match self {
            Address::Tcp(a) | Address::Udp(a) => Some(*a),
            Address::Unix(_) => None,
        }
    }
}

fn parse_host_port(raw: &str, rest: &str) -> Result<SocketAddr, AddressError> {
    let bad = || AddressError::BadHostPort(raw.to_owned());
    if let Ok(addr) = rest.parse::<SocketAddr>() {
        return Ok(addr);
    }
    // `localhost` is the only name accepted: it needs no resolver and cannot leave the machine.
    let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    Err(bad())
}

impl FromStr for Address {
    type Err = AddressError;

    fn from_str(raw: &str) -> Result<Self, AddressError> {
        let (scheme, rest) = raw
            .split_once("://")
            .ok_or_else(|| AddressError::MissingScheme(raw.to_owned()))?;
        match scheme.to_ascii_lowercase().as_str() {
            "tcp" => Ok(Address::Tcp(parse_host_port(raw, rest)?)),
            "udp" => Ok(Address::Udp(parse_host_port(raw, rest)?)),
            "unix" if rest.is_empty() => Err(AddressError::EmptyPath(raw.to_owned())),
            "unix" => Ok(Address::Unix(PathBuf::from(rest))),
            _ => Err(AddressError::UnknownScheme(raw.to_owned())),
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Tcp(a) => write!(f, "tcp://{a}"),
            Address::Udp(a) => write!(f, "udp://{a}"),
            Address::Unix(p) => write!(f, "unix://{}", p.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_print_back() {
        for raw in [
            "tcp://127.0.0.1:7400",
            "udp://[::1]:9",
            "unix:///tmp/a.sock",
        ] {
            let addr: Address = raw.parse().unwrap();
            assert_eq!(addr.to_string(), raw);
        }
        assert_eq!(
            "tcp://localhost:1".parse::<Address>().unwrap(),
            Address::Tcp("127.0.0.1:1".parse().unwrap())
        );
    }

    #[test]
    fn malformed_urls_say_what_is_wrong() {
        let cases = [
            ("127.0.0.1:7400", "no scheme"),
            ("http://127.0.0.1:1", "unknown scheme"),
            ("tcp://127.0.0.1:70000", "port"),
            ("tcp://example.com:80", "IP address"),
            ("unix://", "socket path"),
        ];
        for (raw, says) in cases {
            let err = raw.parse::<Address>().unwrap_err().to_string();
            assert!(err.contains(says), "{raw}: {err}");
        }
    }
}
