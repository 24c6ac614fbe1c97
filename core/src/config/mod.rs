//! The plain configuration every hubwire part reads, with documented defaults.
//!
//! Files, environment variables and flags are layered on top of this struct by the application
//! base (`hubwire::config`); nothing else invents its own settings. In JSON every key is the
//! field name; durations are whole milliseconds in keys ending `_ms`. `docs/configuration.md`
//! documents every key.

mod bridge;
mod forms;
mod tls;
mod validate;

pub use bridge::{BridgeTarget, Secret};
pub use tls::{ClientAuth, TlsConfig};
pub use validate::InvalidValue;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::backoff::BackoffPolicy;
use crate::supervision::Intensity;
use crate::{Address, AllowList};

/// Default largest frame `length`: 1 MiB.
pub const DEFAULT_MAX_FRAME: usize = 1024 * 1024;
/// Default requests a connection may have in flight before it is answered busy.
pub const DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION: usize = 256;
/// Default requests a route's handler may have queued before it is answered busy.
pub const DEFAULT_MAX_IN_FLIGHT_PER_ROUTE: usize = 1024;
/// Default time an I/O thread keeps polling after its last read: 200 µs.
pub const DEFAULT_IO_SPIN: Duration = Duration::from_micros(200);
/// The longest `io_spin_us` accepted: 1 s.
pub const MAX_IO_SPIN: Duration = Duration::from_secs(1);

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One readable line per event.
    Human,
    /// One JSON object per line.
    Json,
}

/// Where queued routes keep their queues.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueStoreKind {
    /// A redb file in `data_dir`: durable, crash-safe, group-committed.
    #[default]
    Redb,
    /// Memory only: faster, and everything queued is lost when the process ends.
    Memory,
}

/// Settings of a server and its application: listeners, peers, limits, timeouts, logging.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where to listen. Default: `tcp://127.0.0.1:7400`.
    #[serde(with = "forms::addresses")]
    pub listen: Vec<Address>,
    /// TLS settings for `tls://` listeners (certificate, key, client certificates) and for
    /// bridges dialled over `tls://` (`{"cert_file", "key_file", "ca_file", "client_auth"}`,
    /// `docs/security.md`). Default: none.
    pub tls: Option<TlsConfig>,
    /// Peers allowed to connect; `None` means the default (loopback and the own uid). Binding a
    /// non-loopback address needs an explicit list.
    pub allow: Option<AllowList>,
    /// Browser origins whose pages may open a WebSocket to the `ws://` and `wss://` listeners
    /// (`https://app.example.com`, `http://localhost:8080`, `null`, or `*` for any); a request
    /// with an `Origin` header not listed gets HTTP 403. Requests without one (programs, not
    /// pages) are not concerned. Default: none (`docs/websocket.md`).
    pub ws_allowed_origins: Vec<String>,
    /// Peers allowed to call endpoints that change state (log level, queue operations).
    /// Default: loopback and the own uid.
    pub admin_allow: AllowList,
    /// Where single-instance lock files go. Default: `<temp dir>/hubwire`.
    pub lock_dir: PathBuf,
    /// Where durable data goes. Default: `hubwire-data` (relative to the working directory).
    pub data_dir: PathBuf,
    /// Where queued routes keep their queues: `redb` (a file in `data_dir`) or `memory`.
    /// Default: `redb`.
    pub queue_store: QueueStoreKind,
    /// Log filter: a level (`info`) or `tracing` directives (`info,hubwire_actors=debug`).
    /// Default: `info`. The `RUST_LOG` variable, when set, overrides it.
    pub log_level: String,
    /// `human` or `json`. Default: `human`.
    pub log_format: LogFormat,
    /// A file to log to as well, rotated daily; `None` for none. Default: none.
    pub log_file: Option<PathBuf>,
    /// Whether to log to standard error. Default: on.
    pub log_console: bool,
    /// Largest frame `length` accepted; a larger one gets frame-too-large and the connection is
    /// closed. Default: 1 MiB.
    pub max_frame: usize,
    /// Requests one connection may have in flight; more are answered busy. Default: 256.
    pub max_in_flight_per_connection: usize,
    /// Requests one route's handler may have waiting; more are answered busy. Default: 1024.
    pub max_in_flight_per_route: usize,
    /// Requests one UDP endpoint may have in flight across all its peers; more are answered
    /// busy. Default: 4096.
    pub max_in_flight_per_udp_endpoint: usize,
    /// Connections one stream listener holds at once; more are refused. Default: 10,000.
    pub max_connections_per_listener: usize,
    /// Connections one peer address holds at once on a listener; more are refused. Default: 256.
    pub max_connections_per_peer: usize,
    /// Time a new connection has to send its CONN frame. Default: 5 s.
    #[serde(rename = "handshake_timeout_ms", with = "forms::millis")]
    pub handshake_timeout: Duration,
    /// A connection with nothing in flight and no traffic for this long is closed. Default: 5 min.
    #[serde(rename = "idle_timeout_ms", with = "forms::millis")]
    pub idle_timeout: Duration,
    /// At shutdown, how long requests in flight may take to finish before the rest are answered
    /// shutting-down. Default: 10 s.
    #[serde(rename = "shutdown_timeout_ms", with = "forms::millis")]
    pub shutdown_timeout: Duration,
    /// Bytes owed to one peer (replies, messages and control frames queued, and what is being
    /// written) before the server stops reading from it until it catches up. Default: 64 MiB.
    pub max_outbound_bytes: usize,
    /// A peer whose outbound bytes stay over `max_outbound_bytes` this long is closed and
    /// counted (`connections.stalled`). Default: 10 s (as NATS's write deadline).
    #[serde(rename = "outbound_stall_timeout_ms", with = "forms::millis")]
    pub outbound_stall_timeout: Duration,
    /// I/O threads that connections are spread over; 0 means one per core. Default: 0.
    pub io_threads: usize,
    /// How long an I/O thread keeps polling its sockets after its last read before it sleeps:
    /// the next message finds it awake, which spares the wake-up of a sleeping CPU (costly on
    /// virtual machines) at the price of CPU time while traffic flows. Zero turns it off.
    /// Default: 200 µs.
    #[serde(rename = "io_spin_us", with = "forms::micros")]
    pub io_spin: Duration,
    /// Whether TCP_NODELAY is set on accepted sockets (small replies are not held back). Default: on.
    pub tcp_nodelay: bool,
    /// TCP keepalive idle time on accepted sockets; 0 turns keepalive off. Default: 60 s.
    #[serde(rename = "tcp_keepalive_ms", with = "forms::millis")]
    pub tcp_keepalive: Duration,
    /// Socket receive buffer size in bytes; 0 keeps the system's. Default: 0.
    pub recv_buffer_bytes: usize,
    /// Socket send buffer size in bytes; 0 keeps the system's. Default: 0.
    pub send_buffer_bytes: usize,
    /// Permissions of Unix socket files, in octal. Default: `"600"` (the owner only).
    pub unix_socket_mode: String,
    /// Handler instances per route key, for routes registered as pools; overrides the count the
    /// code asks for. Default: none.
    pub handler_pools: BTreeMap<String, usize>,
    /// Restarts the application's supervisors allow in a sliding window before they give up
    /// (`{"max_restarts": 3, "within_ms": 5000}`). Default: 3 in 5 s.
    pub supervisor_intensity: Intensity,
    /// How long a restart waits, by attempt (a back-off policy in its JSON form,
    /// `docs/runtime-semantics.md`). Default: exponential from 20 ms to 5 s with 20% jitter, reset
    /// after 30 s of healthy running.
    pub supervisor_backoff: BackoffPolicy,
    /// A hub subscriber's outbound buffer bound, in bytes: a message that would pass it makes
    /// the subscriber a slow consumer, disconnected. Default: 64 MiB (as NATS allows).
    pub hub_max_outbound_bytes: usize,
    /// A hub subscriber's outbound buffer bound, in messages (counted as for the bytes).
    /// Default: 1048576 (1 Mi messages, twice what NATS clients allow a subscription).
    pub hub_max_outbound_messages: usize,
    /// A hub connection quiet for this long is sent a PING; one quiet for `hub_max_pings_out`
    /// more intervals after that is taken for dead and closed. Default: 30 s.
    #[serde(rename = "hub_ping_interval_ms", with = "forms::millis")]
    pub hub_ping_interval: Duration,
    /// PINGs a hub sends a quiet connection before it gives up on it. Default: 2 (as NATS).
    pub hub_max_pings_out: u32,
    /// Subscriptions one hub connection may hold; more are refused (REFUSED, code busy).
    /// Default: 100,000.
    pub hub_max_subscriptions_per_connection: usize,
    /// Retained messages a hub keeps, at most (the oldest is evicted). Default: 10000.
    pub hub_retained_count: usize,
    /// Bytes of retained messages (channels and bodies) a hub keeps, at most. Default: 64 MiB.
    pub hub_retained_bytes: usize,
    /// Hubs this hub dials and bridges to: URLs, or `{"url", "export", "import"}` objects
    /// with channel filters (`docs/bridges.md`). Needs `bridge_secret`. Default: none.
    pub bridges: Vec<BridgeTarget>,
    /// The secret bridged hubs share and prove they know (challenge-response; it is never sent).
    /// Without one, this hub neither dials bridges nor accepts them. Default: none.
    pub bridge_secret: Option<Secret>,
    /// How long a bridge waits before dialing again, by attempt (a back-off policy in its JSON
    /// form). Default: exponential from 100 ms to 5 s with 20% jitter, forever, counted afresh
    /// once a link has been up for 30 s.
    pub bridge_backoff: BackoffPolicy,
    /// Bytes a bridge link may owe its peer hub; past it the peer is taken for frozen, the
    /// link dropped (and dialed again) and its memory freed. Default: 64 MiB.
    pub bridge_max_outbound_bytes: usize,
    /// How long the record of a hub that can no longer be reached is kept (in case a link
    /// brings it back) before it is dropped. Default: 30 s.
    #[serde(rename = "bridge_prune_grace_ms", with = "forms::millis")]
    pub bridge_prune_grace: Duration,
    /// A hub's `nats://` listeners: the largest payload (headers included) a NATS client may
    /// publish; a larger one is refused with `-ERR 'Maximum Payload Violation'` and the
    /// connection closed. Sent to clients in INFO. Default: 1 MiB (as nats-server).
    pub nats_max_payload: usize,
    /// A hub's `nats://` listeners: the longest control line (an operation without its
    /// payload) a NATS client may send; longer closes the connection with `-ERR 'Maximum
    /// Control Line Exceeded'`. Default: 4096 (as nats-server).
    pub nats_max_control_line: usize,
    /// A hub's `nats://` listeners: the `server_name` NATS clients are told in INFO. Default:
    /// `"hubwire"`.
    pub nats_server_name: String,
    /// A hub's `nats://` listeners require TLS, as nats-server with a `tls` block: INFO says
    /// `tls_required`, and the client upgrades the connection after it, with the certificate
    /// (and client certificate checks) of the `tls` block, which must be set. Default: off.
    pub nats_tls: bool,
    /// Serve `hubwire.fault.fail_listener` (admin peers only), which makes a listener fail on
    /// purpose, for drills and tests. Default: off.
    pub fault_injection: bool,
    /// The users of the server (`docs/security.md`): once there is one, every stream peer must
    /// authenticate (AUTH after CONN, or a TLS client certificate mapped by `tls_identity`)
    /// and may do only what its permissions grant. Default: none (every admitted peer may do
    /// everything).
    pub users: BTreeMap<String, crate::auth::UserSpec>,
    /// The delay an address waits after its first failed authentication; it doubles with each
    /// further failure. Default: 100 ms.
    #[serde(rename = "auth_failure_delay_ms", with = "forms::millis")]
    pub auth_failure_delay: Duration,
    /// The longest such delay. Default: 10 s.
    #[serde(rename = "auth_failure_max_delay_ms", with = "forms::millis")]
    pub auth_failure_max_delay: Duration,
    /// Failing addresses remembered at most (the least recent is forgotten). Default: 10,000.
    pub auth_failure_addresses: usize,
    /// Compression of stream connections (`docs/compression.md`): the algorithms (`"zstd"`,
    /// `"gzip"`) this server agrees to when a client offers them, in its order of preference;
    /// a hub also offers them on the bridges it dials. Not over WebSocket. Default: none (off).
    pub compression: Vec<crate::compression::Algorithm>,
    /// Free-form settings handed to the application's own code. Default: `{}`.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: vec![Address::default_listen()],
            tls: None,
            allow: None,
            ws_allowed_origins: Vec::new(),
            admin_allow: AllowList::default(),
            lock_dir: std::env::temp_dir().join("hubwire"),
            data_dir: PathBuf::from("hubwire-data"),
            queue_store: QueueStoreKind::Redb,
            log_level: "info".to_owned(),
            log_format: LogFormat::Human,
            log_file: None,
            log_console: true,
            max_frame: DEFAULT_MAX_FRAME,
            max_in_flight_per_connection: DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION,
            max_in_flight_per_route: DEFAULT_MAX_IN_FLIGHT_PER_ROUTE,
            max_in_flight_per_udp_endpoint: 4096,
            max_connections_per_listener: 10_000,
            max_connections_per_peer: 256,
            handshake_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(300),
            shutdown_timeout: Duration::from_secs(10),
            max_outbound_bytes: 64 * 1024 * 1024,
            outbound_stall_timeout: Duration::from_secs(10),
            io_threads: 0,
            io_spin: DEFAULT_IO_SPIN,
            tcp_nodelay: true,
            tcp_keepalive: Duration::from_secs(60),
            recv_buffer_bytes: 0,
            send_buffer_bytes: 0,
            unix_socket_mode: "600".to_owned(),
            handler_pools: BTreeMap::new(),
            supervisor_intensity: Intensity::default(),
            supervisor_backoff: default_restart_backoff(),
            hub_max_outbound_bytes: 64 * 1024 * 1024,
            hub_max_outbound_messages: 1024 * 1024,
            hub_ping_interval: Duration::from_secs(30),
            hub_max_pings_out: 2,
            hub_max_subscriptions_per_connection: 100_000,
            hub_retained_count: 10_000,
            hub_retained_bytes: 64 * 1024 * 1024,
            bridges: Vec::new(),
            bridge_secret: None,
            bridge_backoff: BackoffPolicy::exponential(
                Duration::from_millis(100),
                Duration::from_secs(5),
            )
            .with_max_attempts(None)
            .with_reset_after(Some(Duration::from_secs(30))),
            bridge_max_outbound_bytes: 64 * 1024 * 1024,
            bridge_prune_grace: Duration::from_secs(30),
            nats_max_payload: 1024 * 1024,
            nats_max_control_line: 4096,
            nats_server_name: "hubwire".to_owned(),
            nats_tls: false,
            fault_injection: false,
            users: BTreeMap::new(),
            auth_failure_delay: Duration::from_millis(100),
            auth_failure_max_delay: Duration::from_secs(10),
            auth_failure_addresses: 10_000,
            compression: Vec::new(),
            extra: serde_json::Map::new(),
        }
    }
}

/// The back-off of restarts unless configured: exponential from 20 ms to 5 s with 20% jitter, no
/// attempt limit of its own (the intensity is the limit), reset after 30 s of healthy running.
pub fn default_restart_backoff() -> BackoffPolicy {
    BackoffPolicy::exponential(Duration::from_millis(20), Duration::from_secs(5))
        .with_max_attempts(None)
        .with_reset_after(Some(Duration::from_secs(30)))
}

impl Config {
    /// The number of I/O threads to start: `io_threads`, or one per core when it is 0.
    pub fn io_thread_count(&self) -> usize {
        match self.io_threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }

    /// The checked users (plain-text passwords, bad hashes and bad patterns refused).
    pub fn checked_users(&self) -> Result<crate::auth::Users, crate::auth::UsersError> {
        crate::auth::Users::from_specs(self.users.clone())
    }

    /// How failed authentications are slowed down.
    pub fn auth_throttle_limits(&self) -> Result<crate::auth::ThrottleLimits, String> {
        if self.auth_failure_max_delay < self.auth_failure_delay {
            return Err("must be at least auth_failure_delay_ms".to_owned());
        }
        Ok(crate::auth::ThrottleLimits {
            base: self.auth_failure_delay,
            max: self.auth_failure_max_delay,
            addresses: self.auth_failure_addresses,
            ..crate::auth::ThrottleLimits::default()
        })
    }

    /// The peers allowed to connect: the configured list, or the default.
    pub fn allow_list(&self) -> AllowList {
        self.allow.clone().unwrap_or_default()
    }

    /// The Unix socket file mode as a number.
    pub fn unix_socket_mode_bits(&self) -> u32 {
        u32::from_str_radix(&self.unix_socket_mode, 8).unwrap_or(0o600)
    }
}
