//! The plain configuration every hubwire part reads, with documented defaults.
//!
//! Files, environment variables and flags are layered on top of this struct by the application
//! base; nothing else invents its own settings.

use std::time::Duration;

use crate::Address;

/// Default largest frame `length`: 1 MiB.
pub const DEFAULT_MAX_FRAME: usize = 1024 * 1024;
/// Default requests a connection may have in flight before it is answered busy.
pub const DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION: usize = 256;
/// Default requests a route's handler may have queued before it is answered busy.
pub const DEFAULT_MAX_IN_FLIGHT_PER_ROUTE: usize = 1024;

/// Settings of a server (listeners, connections, limits, timeouts).
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Where to listen. Default: `tcp://127.0.0.1:7400`.
    pub listen: Vec<Address>,
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
    /// Time a new connection has to send its CONN frame. Default: 5 s.
    pub handshake_timeout: Duration,
    /// A connection with nothing in flight and no traffic for this long is closed. Default: 5 min.
    pub idle_timeout: Duration,
    /// I/O threads that connections are spread over; 0 means one per core. Default: 0.
    pub io_threads: usize,
    /// Whether TCP_NODELAY is set on accepted sockets (small replies are not held back). Default: on.
    pub tcp_nodelay: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: vec![Address::default_listen()],
            max_frame: DEFAULT_MAX_FRAME,
            max_in_flight_per_connection: DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION,
            max_in_flight_per_route: DEFAULT_MAX_IN_FLIGHT_PER_ROUTE,
            max_in_flight_per_udp_endpoint: 4096,
            handshake_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(300),
            io_threads: 0,
            tcp_nodelay: true,
        }
    }
}

impl Config {
    /// The number of I/O threads to start: `io_threads`, or one per core when it is 0.
    pub fn io_thread_count(&self) -> usize {
        match self.io_threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }
}
