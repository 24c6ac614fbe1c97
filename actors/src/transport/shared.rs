//! What every listener and connection of one server reads: routes, limits, allow-lists, the
//! shutdown phase and the counters. Immutable, shared by `Arc`.

use std::sync::Arc;
use std::time::Duration;

use hubwire_core::stats::{Counter, Gauge, StatsRegistry};
use hubwire_core::{AllowList, Config};
use tokio::sync::watch;

use super::Phase;
use crate::routing::RouteTable;

/// The limits and timeouts a connection enforces.
#[derive(Clone, Debug)]
pub struct ConnectionLimits {
    /// Largest frame accepted.
    pub max_frame: usize,
    /// Requests in flight before busy.
    pub max_in_flight: usize,
    /// Time allowed for the CONN frame.
    pub handshake_timeout: Duration,
    /// Quiet time (nothing in flight) before the connection is closed.
    pub idle_timeout: Duration,
    /// Connections one listener holds.
    pub max_connections: usize,
    /// Connections one peer address holds on one listener.
    pub max_connections_per_peer: usize,
    /// How long requests in flight may take to finish at shutdown.
    pub shutdown_timeout: Duration,
    /// Bytes owed to a peer before the connection stops reading from it.
    pub max_outbound_bytes: usize,
    /// Time a peer may stay over `max_outbound_bytes` before it is closed.
    pub outbound_stall_timeout: Duration,
    /// Hub connections: quiet time before a PING.
    pub hub_ping_interval: Duration,
    /// Hub connections: PINGs unanswered before the peer is taken for dead.
    pub hub_max_pings_out: u32,
    /// NATS clients: the largest payload they may publish.
    pub nats_max_payload: usize,
    /// NATS clients: the longest control line they may send.
    pub nats_max_control_line: usize,
    /// Compression agreed to when a peer offers it, in order of preference (empty: off).
    pub compression: Vec<hubwire_core::compression::Algorithm>,
}

impl From<&Config> for ConnectionLimits {
    fn from(config: &Config) -> Self {
        ConnectionLimits {
            max_frame: config.max_frame,
            max_in_flight: config.max_in_flight_per_connection,
            handshake_timeout: config.handshake_timeout,
            idle_timeout: config.idle_timeout,
            max_connections: config.max_connections_per_listener,
            max_connections_per_peer: config.max_connections_per_peer,
            shutdown_timeout: config.shutdown_timeout,
            max_outbound_bytes: config.max_outbound_bytes,
            outbound_stall_timeout: config.outbound_stall_timeout,
            hub_ping_interval: config.hub_ping_interval,
            hub_max_pings_out: config.hub_max_pings_out,
            nats_max_payload: config.nats_max_payload,
            nats_max_control_line: config.nats_max_control_line,
            compression: config.compression.clone(),
        }
    }
}

/// The counters of one transport (`tcp`, `unix`, `udp`).
#[derive(Clone, Debug)]
pub struct TransportStats {
    /// Connections open now.
    pub open: Gauge,
    /// Connections accepted since start.
    pub accepted: Counter,
    /// Peers refused by the allow-list.
    pub denied: Counter,
    /// Connections refused over a connection limit.
    pub refused: Counter,
    /// Connections not read from now, because they owe their peer more than the bound.
    pub held_back: Gauge,
    /// Connections closed after staying over the outbound bound too long.
    pub stalled: Counter,
    /// Bytes owed to the peers of open connections (sampled at each connection's timer tick).
    pub outbound_bytes: Gauge,
    /// Writer tasks alive: open connections, and closed ones still writing their last bytes.
    pub writers: Gauge,
    /// TLS handshakes that failed (a bad or missing client certificate, a plain client, a
    /// timeout).
    pub handshakes_failed: Counter,
    /// WebSocket upgrades that failed (no upgrade request within the handshake timeout, a
    /// request that was no upgrade, a path not served).
    pub upgrades_failed: Counter,
    /// WebSocket upgrades refused for a browser origin not in `ws_allowed_origins`.
    pub origins_refused: Counter,
}

impl TransportStats {
    /// The counters of `transport` in `registry`.
    pub fn new(registry: &StatsRegistry, transport: &str) -> Self {
        let labels = [("transport", transport)];
        TransportStats {
            open: registry.gauge("connections.open", &labels),
            accepted: registry.counter("connections.accepted", &labels),
            denied: registry.counter("peers.denied", &labels),
            refused: registry.counter("connections.refused", &labels),
            held_back: registry.gauge("connections.held_back", &labels),
            stalled: registry.counter("connections.stalled", &labels),
            outbound_bytes: registry.gauge("connections.outbound_bytes", &labels),
            writers: registry.gauge("connections.writers", &labels),
            handshakes_failed: registry.counter("connections.tls_handshakes_failed", &labels),
            upgrades_failed: registry.counter("connections.ws_upgrades_failed", &labels),
            origins_refused: registry.counter("connections.ws_origins_refused", &labels),
        }
    }
}

/// Shared by every listener and connection of a server.
#[derive(Debug)]
pub struct ConnectionShared {
    /// The route table.
    pub routes: Arc<RouteTable>,
    /// The limits.
    pub limits: ConnectionLimits,
    /// Sent in the server's CONN frame.
    pub agent: String,
    /// Peers allowed to connect.
    pub allow: AllowList,
    /// Where the server is in its life.
    pub phase: watch::Receiver<Phase>,
    /// Every figure of the server.
    pub registry: StatsRegistry,
    /// The pub/sub hub, on a server that serves one.
    pub hub: Option<crate::hub::Hub>,
    /// What `nats://` listeners tell NATS clients, and who they admit.
    pub nats: NatsSettings,
    /// The certificate `tls://` listeners present, read at each handshake (so a reload
    /// reaches new connections only).
    pub tls: Option<Arc<hubwire_core::tls::ServerTls>>,
    /// The users and the gate that checks them, on a server that has users: every peer must
    /// then authenticate and is held to its permissions.
    pub auth: Option<crate::auth::Authenticator>,
    /// The browser origins `ws://` and `wss://` listeners let in.
    pub ws_origins: hubwire_core::websocket::OriginPolicy,
}

/// What a server's `nats://` listeners need beyond the limits.
#[derive(Debug, Clone)]
pub struct NatsSettings {
    /// Admits NATS clients and says what they may do (everyone, everything, on a hub without
    /// users).
    pub gate: Arc<dyn hubwire_core::nats::NatsGate>,
    /// The `server_name` in INFO.
    pub server_name: String,
    /// The `server_id` in INFO: unique per server run.
    pub server_id: String,
    /// Clients upgrade to TLS after INFO (`nats_tls`).
    pub tls_required: bool,
}

impl NatsSettings {
    /// Settings from `config`, with `gate` and a fresh server id.
    pub fn new(config: &Config, gate: Arc<dyn hubwire_core::nats::NatsGate>) -> Self {
        NatsSettings {
            gate,
            server_name: config.nats_server_name.clone(),
            server_id: format!("HUBWIRE{:016X}", fastrand::u64(..)),
            tls_required: config.nats_tls,
        }
    }
}

impl ConnectionShared {
    /// The counters of `transport`.
    pub fn transport_stats(&self, transport: &str) -> TransportStats {
        TransportStats::new(&self.registry, transport)
    }
}
