//! Stream transports as actors: a listener per address, a connection per peer, spread over a
//! pool of I/O threads.

mod connection;
mod io_pool;
mod listener;
mod udp;

pub use connection::{Connection, ConnectionLimits, ConnectionShared};
pub use io_pool::IoPool;
pub use listener::{bind, Listener, StopListener};
pub use udp::{bind_udp, UdpEndpoint, UdpStats, MAX_DATAGRAM};
