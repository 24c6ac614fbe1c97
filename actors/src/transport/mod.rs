//! Stream transports as actors: a listener per address, a connection per peer, spread over a
//! pool of I/O threads.

mod connection;
mod io_pool;
mod listener;

pub use connection::{Connection, ConnectionLimits, ConnectionShared};
pub use io_pool::IoPool;
pub use listener::{bind, Listener, StopListener};
