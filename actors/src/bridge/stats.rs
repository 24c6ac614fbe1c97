//! [`LinkStats`]: one bridge link's figures in the stats registry, labelled with the bridge's
//! name (the URL dialed, or the address the peer hub gave for itself), so they outlive
//! reconnects without piling up new series.

use hubwire_core::stats::{Counter, Gauge, StatsRegistry};

/// The figures of one bridge.
#[derive(Debug, Clone)]
pub struct LinkStats {
    /// 1 while the link is up, 0 while it is down.
    pub up: Gauge,
    /// The last PING's round trip, in microseconds.
    pub rtt_us: Gauge,
    /// Messages received over the link.
    pub messages_in: Counter,
    /// Messages sent over the link.
    pub messages_out: Counter,
    /// Bytes of message frames received.
    pub bytes_in: Counter,
    /// Bytes of message frames sent.
    pub bytes_out: Counter,
    /// Messages received a second time (dropped by the seen window) or off their origin's
    /// path.
    pub duplicates: Counter,
    /// Interests of the hubs reached through this link.
    pub interest: Gauge,
    /// Links made after the first (dialed bridges).
    pub reconnects: Counter,
}

impl LinkStats {
    /// The figures of bridge `name` in `registry`.
    pub fn new(registry: &StatsRegistry, name: &str) -> LinkStats {
        let labels = [("bridge", name)];
        LinkStats {
            up: registry.gauge("bridge.up", &labels),
            rtt_us: registry.gauge("bridge.rtt_us", &labels),
            messages_in: registry.counter("bridge.messages_in", &labels),
            messages_out: registry.counter("bridge.messages_out", &labels),
            bytes_in: registry.counter("bridge.bytes_in", &labels),
            bytes_out: registry.counter("bridge.bytes_out", &labels),
            duplicates: registry.counter("bridge.duplicates", &labels),
            interest: registry.gauge("bridge.interest", &labels),
            reconnects: registry.counter("bridge.reconnects", &labels),
        }
    }
}
