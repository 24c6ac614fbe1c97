//! Stream transports as actors: a listener per address, a connection per peer, spread over a
//! pool of I/O threads. A `tls://` listener does each TLS handshake on the connection's I/O
//! thread (`tls.rs`) and hands the connection the decrypted stream; a `ws://` or `wss://`
//! listener does the same with the HTTP upgrade (`websocket.rs`) and hands it the WebSocket
//! read and written as frame bytes.

mod connection;
mod idle_spin;
mod io_pool;
pub(crate) mod listener;
mod nats;
mod peer;
pub(crate) mod places;
mod shared;
mod socket_options;
mod ticker;
mod tls;
mod udp;
mod websocket;

pub use connection::Connection;
pub use io_pool::IoPool;
pub use listener::{bind, Listener};
pub use nats::NatsConnection;
pub use peer::{Peer, Phase};
pub use shared::{ConnectionLimits, ConnectionShared, NatsSettings, TransportStats};
pub use socket_options::SocketOptions;
/// The handshake error of a TLS listener, with a hint when the peer spoke plain hubwire (the
/// work listener shares it).
pub(crate) use tls::explain as explain_tls_error;
pub use udp::{bind_udp, UdpEndpoint, UdpStats, MAX_DATAGRAM};
