//! Addresses are URLs everywhere: `tcp://127.0.0.1:7400`, `tls://hub.example.com:7443`,
//! `udp://[::1]:7401`, `unix:///run/hubwire/app.sock`, `ws://127.0.0.1:7480/hubwire`,
//! `wss://hub.example.com:7443`, and `nats://127.0.0.1:4222` for a hub's NATS listener.
//!
//! The host of an IP address is an IP literal or a host name; a name is resolved each time the
//! address is used (every connect and reconnect, every bind), never when it is parsed
//! (`crate::net` does the resolving and dialling).

mod host;
mod web_path;

pub use host::{Host, HostPort};

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;

/// Where a listener binds or a client connects.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Address {
    /// TCP.
    Tcp(HostPort),
    /// TLS over TCP (rustls); the host is what the server's certificate must name.
    Tls(HostPort),
    /// UDP, one frame per datagram.
    Udp(HostPort),
    /// A Unix stream socket path.
    Unix(PathBuf),
    /// WebSocket over TCP (one protocol frame per binary message, `docs/websocket.md`).
    Ws {
        /// Where the TCP connection goes.
        at: HostPort,
        /// The request path as written (`/hubwire`), or empty when none was: a listener then
        /// accepts any path, a client asks for `/`.
        path: String,
    },
    /// WebSocket over TLS; the host is what the server's certificate must name.
    Wss {
        /// Where the TCP connection goes.
        at: HostPort,
        /// The request path, as for [`Address::Ws`].
        path: String,
    },
    /// TCP speaking the NATS client protocol (a hub's listener for NATS clients,
    /// `docs/nats-compatibility.md`).
    Nats(HostPort),
}

/// Why a string is not an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// No `scheme://` in front.
    #[error(
        "address {0:?} has no scheme: write it as tcp://HOST:PORT, tls://HOST:PORT, udp://HOST:PORT, unix:///PATH, ws://HOST:PORT[/PATH] or wss://HOST:PORT[/PATH]"
    )]
    MissingScheme(String),
    /// A scheme other than tcp, tls, udp, unix, ws, wss or nats.
    #[error(
        "address {0:?} has an unknown scheme: use tcp://, tls://, udp://, unix://, ws://, wss:// or nats://"
    )]
    UnknownScheme(String),
    /// The host and port part did not parse.
    #[error("address {0:?} needs a host (an IP address or a host name) and a port from 0 to 65535 (IPv6 in brackets: tcp://[::1]:7400)")]
    BadHostPort(String),
    /// A unix address without a path.
    #[error("address {0:?} needs a socket path: unix:///path/to/app.sock")]
    EmptyPath(String),
    /// A WebSocket path with characters a request path cannot hold, or a query or fragment.
    #[error("address {0:?} has a bad WebSocket path: write it as ws://HOST:PORT/PATH, the path of letters, digits and -._~!$&'()*+,;=:@%/ (no query or fragment)")]
    BadWebPath(String),
}

impl Address {
    /// The default listen address of a server: TCP on loopback, port 7400.
    pub fn default_listen() -> Address {
        Address::tcp(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 7400))
    }

    /// A TCP address of an IP literal.
    pub fn tcp(addr: SocketAddr) -> Address {
        Address::Tcp(addr.into())
    }

    /// A TLS address of an IP literal.
    pub fn tls(addr: SocketAddr) -> Address {
        Address::Tls(addr.into())
    }

    /// A UDP address of an IP literal.
    pub fn udp(addr: SocketAddr) -> Address {
        Address::Udp(addr.into())
    }

    /// A WebSocket address of an IP literal, with no path (a listener accepts any).
    pub fn ws(addr: SocketAddr) -> Address {
        Address::Ws {
            at: addr.into(),
            path: String::new(),
        }
    }

    /// `"tcp"`, `"tls"`, `"udp"`, `"unix"`, `"ws"`, `"wss"` or `"nats"`.
    pub fn scheme(&self) -> &'static str {
        match self {
            Address::Nats(_) => "nats",
            Address::Tcp(_) => "tcp",
            Address::Tls(_) => "tls",
            Address::Udp(_) => "udp",
            Address::Unix(_) => "unix",
            Address::Ws { .. } => "ws",
            Address::Wss { .. } => "wss",
        }
    }

    /// The host and port, for the IP transports.
    pub fn host_port(&self) -> Option<&HostPort> {
        match self {
            Address::Tcp(hp) | Address::Tls(hp) | Address::Udp(hp) | Address::Nats(hp) => Some(hp),
            Address::Ws { at, .. } | Address::Wss { at, .. } => Some(at),
            Address::Unix(_) => None,
        }
    }

    /// The WebSocket request path of a `ws://` or `wss://` address (empty when none was
    /// written).
    pub fn web_path(&self) -> Option<&str> {
        match self {
            Address::Ws { path, .. } | Address::Wss { path, .. } => Some(path),
            _ => None,
        }
    }

    /// Whether the stream is encrypted with TLS (`tls://`, `wss://`).
    pub fn uses_tls(&self) -> bool {
        matches!(self, Address::Tls(_) | Address::Wss { .. })
    }

    /// The socket address, for the IP transports whose host is an IP literal (a bound
    /// listener's address always is).
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        self.host_port().and_then(HostPort::socket_addr)
    }

    /// The same kind of address at `addr` (what a name resolved to, what was bound); a Unix
    /// address is returned as it is.
    pub fn with_socket_addr(&self, addr: SocketAddr) -> Address {
        match self {
            Address::Tcp(_) => Address::tcp(addr),
            Address::Tls(_) => Address::tls(addr),
            Address::Udp(_) => Address::udp(addr),
            Address::Nats(_) => Address::Nats(addr.into()),
            Address::Unix(_) => self.clone(),
            Address::Ws { path, .. } => Address::Ws {
                at: addr.into(),
                path: path.clone(),
            },
            Address::Wss { path, .. } => Address::Wss {
                at: addr.into(),
                path: path.clone(),
            },
        }
    }

    /// Whether the address is a stream transport (everything but UDP; `nats://` is one, of
    /// the NATS protocol).
    pub fn is_stream(&self) -> bool {
        !matches!(self, Address::Udp(_))
    }
}

fn parse_host_port(raw: &str, rest: &str) -> Result<HostPort, AddressError> {
    let bad = || AddressError::BadHostPort(raw.to_owned());
    if let Ok(addr) = rest.parse::<SocketAddr>() {
        return Ok(addr.into());
    }
    let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    // An IP literal that did not parse with its port (an IPv6 one without brackets) is not a
    // name either.
    if host.parse::<IpAddr>().is_ok() || !host::is_host_name(host) {
        return Err(bad());
    }
    Ok(HostPort {
        host: Host::Name(host.to_owned()),
        port,
    })
}

impl FromStr for Address {
    type Err = AddressError;

    fn from_str(raw: &str) -> Result<Self, AddressError> {
        let (scheme, rest) = raw
            .split_once("://")
            .ok_or_else(|| AddressError::MissingScheme(raw.to_owned()))?;
        match scheme.to_ascii_lowercase().as_str() {
            "tcp" => Ok(Address::Tcp(parse_host_port(raw, rest)?)),
            "tls" => Ok(Address::Tls(parse_host_port(raw, rest)?)),
            "udp" => Ok(Address::Udp(parse_host_port(raw, rest)?)),
            "nats" => Ok(Address::Nats(parse_host_port(raw, rest)?)),
            "unix" if rest.is_empty() => Err(AddressError::EmptyPath(raw.to_owned())),
            "unix" => Ok(Address::Unix(PathBuf::from(rest))),
            "ws" => {
                let (at, path) = web_path::split(raw, rest)?;
                Ok(Address::Ws { at, path })
            }
            "wss" => {
                let (at, path) = web_path::split(raw, rest)?;
                Ok(Address::Wss { at, path })
            }
            _ => Err(AddressError::UnknownScheme(raw.to_owned())),
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Tcp(hp) => write!(f, "tcp://{hp}"),
            Address::Tls(hp) => write!(f, "tls://{hp}"),
            Address::Udp(hp) => write!(f, "udp://{hp}"),
            Address::Nats(hp) => write!(f, "nats://{hp}"),
            Address::Unix(p) => write!(f, "unix://{}", p.display()),
            Address::Ws { at, path } => write!(f, "ws://{at}{path}"),
            Address::Wss { at, path } => write!(f, "wss://{at}{path}"),
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
            "tls://127.0.0.1:7443",
            "udp://[::1]:9",
            "unix:///tmp/a.sock",
            "tcp://localhost:1",
            "tls://hub.example.com:7443",
            "udp://my_host-2.internal:9",
            "ws://127.0.0.1:7480",
            "ws://127.0.0.1:7480/",
            "ws://[::1]:7480/hubwire/v1",
            "wss://hub.example.com:7443/a%20b",
        ] {
            let addr: Address = raw.parse().unwrap();
            assert_eq!(addr.to_string(), raw);
        }
    }

    #[test]
    fn host_names_are_kept_for_resolution_at_use() {
        let addr: Address = "tcp://myhost:7400".parse().unwrap();
        let hp = addr.host_port().unwrap();
        assert_eq!(hp.host, Host::Name("myhost".into()));
        assert_eq!(hp.port, 7400);
        assert_eq!(addr.socket_addr(), None);
        let tls: Address = "tls://[::1]:7443".parse().unwrap();
        assert_eq!(tls.socket_addr(), Some("[::1]:7443".parse().unwrap()));
        assert_eq!(tls.host_port().unwrap().host_str(), "::1");
    }

    #[test]
    fn websocket_urls_keep_their_path() {
        let ws: Address = "ws://127.0.0.1:7480/hubwire".parse().unwrap();
        assert_eq!(ws.scheme(), "ws");
        assert_eq!(ws.web_path(), Some("/hubwire"));
        assert_eq!(ws.socket_addr(), Some("127.0.0.1:7480".parse().unwrap()));
        assert!(!ws.uses_tls());
        let moved = ws.with_socket_addr("127.0.0.1:9".parse().unwrap());
        assert_eq!(moved.to_string(), "ws://127.0.0.1:9/hubwire");
        let wss: Address = "WSS://localhost:7443".parse().unwrap();
        assert_eq!(wss.web_path(), Some(""));
        assert!(wss.uses_tls() && wss.is_stream());
        assert_eq!(wss.host_port().unwrap().host_str(), "localhost");
    }

    #[test]
    fn malformed_urls_say_what_is_wrong() {
        let cases = [
            ("127.0.0.1:7400", "no scheme"),
            ("http://127.0.0.1:1", "unknown scheme"),
            ("tcp://127.0.0.1:70000", "port"),
            ("tcp://example.com", "port"),
            ("tcp://::1:80", "host"),
            ("tcp://bad host:80", "host"),
            ("tcp://a..b:80", "host"),
            ("tls://:80", "host"),
            ("unix://", "socket path"),
            ("ws://127.0.0.1", "port"),
            ("ws://127.0.0.1:80/a?b=c", "WebSocket path"),
            ("ws://127.0.0.1:80/a#b", "WebSocket path"),
            ("wss://127.0.0.1:80/a b", "WebSocket path"),
            ("ws:///path", "host"),
        ];
        for (raw, says) in cases {
            let err = raw.parse::<Address>().unwrap_err().to_string();
            assert!(err.contains(says), "{raw}: {err}");
        }
    }
}
