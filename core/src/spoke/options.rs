//! How a spoke connects, reconnects and checks that its hub is alive.

use crate::compression::Algorithm;
use std::time::Duration;

use crate::auth::Credentials;
use crate::backoff::BackoffPolicy;
use crate::config::DEFAULT_MAX_FRAME;
use crate::net::DialOptions;
use crate::tls::TlsClient;

/// Messages a subscription holds for a receiver that has not read them yet; more are dropped
/// (and counted), so one slow receiver never holds up the spoke's other subscriptions.
pub const DEFAULT_SUBSCRIBER_CAPACITY: usize = 1024;

/// Settings of a spoke.
#[derive(Clone, Debug)]
pub struct SpokeOptions {
    /// Time allowed to open the socket and finish the CONN handshake. Default: 5 s.
    pub connect_timeout: Duration,
    /// When to try again after a failed connect or a lost connection. Default: exponential
    /// from 100 ms to 5 s with jitter (so spokes that lost one hub do not all come back in
    /// step), forever, counted afresh after 30 s of health.
    pub backoff: BackoffPolicy,
    /// A PING goes to the hub this often while connected. Default: 5 s.
    pub ping_every: Duration,
    /// PINGs without a PONG after which the hub is taken for dead and the connection dropped
    /// (so a hub that vanished without closing is noticed within `ping_every * max_pings_out`).
    /// Default: 3.
    pub max_pings_out: u32,
    /// Largest frame accepted from the hub. Default: 1 MiB.
    pub max_frame: usize,
    /// Sent in the CONN frame, for the hub's logs.
    pub agent: String,
    /// Set TCP_NODELAY. Default: on.
    pub tcp_nodelay: bool,
    /// See [`DEFAULT_SUBSCRIBER_CAPACITY`].
    pub subscriber_capacity: usize,
    /// For a `tls://` hub: the roots trusted besides the system's, and the client certificate
    /// shown when the hub asks. Default: the system roots only.
    pub tls: Option<TlsClient>,
    /// A user name and password, or a token, sent in AUTH right after CONN, for a hub that
    /// has users (`docs/security.md`). Default: none.
    pub credentials: Option<Credentials>,
    /// Compression to offer the hub, in this side's order of preference
    /// (`docs/compression.md`); the hub picks one it allows, or none. Not offered over `ws://`
    /// and `wss://`. Default: none.
    pub compression: Vec<Algorithm>,
}

impl SpokeOptions {
    /// How the hub is dialled.
    pub fn dial_options(&self) -> DialOptions {
        DialOptions {
            connect_timeout: self.connect_timeout,
            tcp_nodelay: self.tcp_nodelay,
            tls: self.tls.clone(),
            max_frame: self.max_frame,
        }
    }
}

impl Default for SpokeOptions {
    fn default() -> Self {
        SpokeOptions {
            connect_timeout: Duration::from_secs(5),
            backoff: BackoffPolicy::exponential(Duration::from_millis(100), Duration::from_secs(5))
                .with_max_attempts(None)
                .with_reset_after(Some(Duration::from_secs(30))),
            ping_every: Duration::from_secs(5),
            max_pings_out: 3,
            max_frame: DEFAULT_MAX_FRAME,
            agent: concat!("hubwire-spoke/", env!("CARGO_PKG_VERSION")).to_owned(),
            tcp_nodelay: true,
            subscriber_capacity: DEFAULT_SUBSCRIBER_CAPACITY,
            tls: None,
            credentials: None,
            compression: Vec::new(),
        }
    }
}
