//! What a spoke tells its user about its connection.

use std::time::Duration;

use crate::protocol::ErrorCode;

/// A change in a spoke's connection, broadcast to every receiver of `Spoke::events`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpokeEvent {
    /// The CONN handshake with the hub finished; `first` for the spoke's first connection,
    /// otherwise a reconnect.
    Connected {
        /// Whether this is the spoke's first connection.
        first: bool,
    },
    /// The hub applied the whole subscription list sent after the handshake (a PING/PONG
    /// barrier followed it): from here on, messages on every subscription arrive.
    Subscribed {
        /// Subscriptions in the list (the call inbox included).
        subscriptions: usize,
    },
    /// The connection ended; the spoke reconnects after its back-off.
    Disconnected {
        /// Why, as far as the spoke knows.
        reason: String,
    },
    /// A connect attempt failed; the next comes after `retry_in`.
    ConnectFailed {
        /// What went wrong.
        reason: String,
        /// The back-off delay before the next attempt.
        retry_in: Duration,
    },
    /// The hub refused a publish (REFUSED without a sid: a channel the user may not publish
    /// to, a body over the bound, ...). It comes before the PONG of any `flush` sent after
    /// that publish, so a flush that returned has seen every refusal before it.
    PublishRefused {
        /// Why, from the table of error codes.
        code: ErrorCode,
        /// Why, for a person.
        message: String,
    },
}

/// Whether a spoke can publish and call right now, for waiting on it (`Spoke::ready`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Readiness {
    /// Connected, and the subscription list applied by the hub.
    pub ready: bool,
    /// Connections made so far (1 after the first connect).
    pub connections: u64,
    /// The spoke has stopped for good.
    pub stopped: bool,
}
