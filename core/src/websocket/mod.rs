//! WebSocket as one more stream transport (`ws://`, `wss://`): the same protocol, one frame per
//! binary message (`docs/websocket.md`).
//!
//! After the HTTP upgrade a WebSocket is turned into the byte stream of hubwire frames every
//! other transport carries ([`WebSocketBytes`]), so the connection driver, the sans-IO session,
//! the outbound bounds and the client are the same for it as for TCP. Only this module knows
//! about messages: each inbound binary message must hold exactly one frame, anything else is a
//! typed [`WebSocketViolation`]; each outbound frame becomes one binary message.
//!
//! # Layout
//! - `bytes_stream.rs`: [`WebSocketBytes`], messages in and out as frame bytes.
//! - `violation.rs`: [`WebSocketViolation`], what a peer did wrong, its error code and close code.
//! - `origin.rs`: [`OriginPolicy`], the browser origins a listener lets in.
//! - `upgrade.rs`: [`accept`], the server's side of the HTTP upgrade (path, origin, sizes).
//! - `connect.rs`: [`connect`], a client's side of it.

mod bytes_stream;
mod connect;
mod origin;
mod upgrade;
mod violation;

pub use bytes_stream::WebSocketBytes;
pub use connect::{connect, ConnectError};
pub use origin::{BadOrigin, OriginPolicy, OriginRefused};
pub use upgrade::{accept, UpgradeError, UpgradeSettings};
pub use violation::WebSocketViolation;

/// The subprotocol name a client may ask for (`Sec-WebSocket-Protocol: hubwire`); the server
/// agrees to it when asked, and needs it from nobody.
pub const SUBPROTOCOL: &str = "hubwire";

/// Bytes a WebSocket reads from its socket at a time (allocated per connection).
const READ_BUFFER_BYTES: usize = 16 * 1024;

/// The WebSocket settings for frames of at most `max_frame` bytes: a message holds one frame
/// and its 4-byte length, so a larger message is refused before it is buffered.
fn config(max_frame: usize) -> tokio_tungstenite::tungstenite::protocol::WebSocketConfig {
    let max_message = max_frame.saturating_add(4);
    tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(Some(max_message))
        .max_frame_size(Some(max_message))
}
