//! How a client connects and how long it waits.

use crate::compression::Algorithm;
use std::time::Duration;

use crate::auth::Credentials;
use crate::config::DEFAULT_MAX_FRAME;
use crate::net::DialOptions;
use crate::tls::TlsClient;

/// Settings of a [`Client`](super::Client).
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Time allowed to open the socket and finish the CONN handshake. Default: 5 s.
    pub connect_timeout: Duration,
    /// Timeout of calls that do not name one; it travels as the request's deadline. Default: 10 s.
    pub call_timeout: Duration,
    /// Largest frame accepted from the server. Default: 1 MiB.
    pub max_frame: usize,
    /// Sent in the CONN frame, for the server's logs.
    pub agent: String,
    /// Set TCP_NODELAY (small requests are not held back). Default: on.
    pub tcp_nodelay: bool,
    /// Over UDP, how often a call to an idempotent route is resent while no reply has come (a
    /// datagram may be lost). Calls to other routes are sent once. Default: 100 ms.
    pub udp_resend_every: Duration,
    /// For `tls://` addresses: the roots trusted besides the system's, and the client
    /// certificate shown when the server asks. Default: the system roots only.
    pub tls: Option<TlsClient>,
    /// A user name and password, or a token, sent in AUTH right after CONN, for a server that
    /// has users (`docs/security.md`). Default: none.
    pub credentials: Option<Credentials>,
    /// Compression to offer the server, in this side's order of preference
    /// (`docs/compression.md`); the server picks one it allows, or none. Not offered over
    /// `ws://` and `wss://`, nor over UDP. Default: none.
    pub compression: Vec<Algorithm>,
}

impl ClientOptions {
    /// How the connection is dialled.
    pub fn dial_options(&self) -> DialOptions {
        DialOptions {
            connect_timeout: self.connect_timeout,
            tcp_nodelay: self.tcp_nodelay,
            tls: self.tls.clone(),
            max_frame: self.max_frame,
        }
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(5),
            call_timeout: Duration::from_secs(10),
            max_frame: DEFAULT_MAX_FRAME,
            agent: concat!("hubwire-client/", env!("CARGO_PKG_VERSION")).to_owned(),
            tcp_nodelay: true,
            udp_resend_every: Duration::from_millis(100),
            tls: None,
            credentials: None,
            compression: Vec::new(),
        }
    }
}
