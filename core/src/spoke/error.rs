//! The errors of a spoke: connecting, subscribing and publishing ([`SpokeError`]) and calls
//! ([`RpcError`]).

use std::time::Duration;

use crate::protocol::{ErrorCode, ProtocolError};
use crate::Address;

/// Why connecting, subscribing or publishing failed.
#[derive(Debug, thiserror::Error)]
pub enum SpokeError {
    /// The hub could not be reached (refused, no such socket), or the connection broke before
    /// its CONN answer (reset, closed, a DISCONN instead): is it running, is the address right?
    /// The spoke keeps trying.
    #[error("cannot connect to {address}: {source}")]
    Connect {
        /// Where the spoke tried to connect.
        address: Address,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// Connecting (the CONN handshake included) took longer than the connect timeout.
    #[error("cannot connect to {address}: no answer within {after:?}")]
    ConnectTimeout {
        /// Where the spoke tried to connect.
        address: Address,
        /// The connect timeout.
        after: Duration,
    },
    /// A spoke speaks to hubs over streams (TCP, TLS, Unix sockets, WebSocket), not UDP.
    #[error("a spoke needs a stream address (tcp://, tls://, unix://, ws:// or wss://), not {0}")]
    NotAStream(Address),
    /// The hub answered the handshake with an error, or speaks another protocol version.
    #[error("the hub refused the connection: {code}: {message}")]
    Handshake {
        /// The code from the stable table.
        code: ErrorCode,
        /// The hub's message.
        message: String,
    },
    /// Not connected to the hub right now (it reconnects by itself; wait with `Spoke::ready`).
    #[error("not connected to the hub (the spoke is reconnecting; wait for it with ready())")]
    NotConnected,
    /// The hub refused a subscription (an invalid pattern or group, a bound): it was dropped
    /// from the spoke's list.
    #[error("the hub refused subscription {sid}: {code}: {message}")]
    Refused {
        /// The subscription's id.
        sid: u64,
        /// The code from the stable table.
        code: ErrorCode,
        /// The hub's message.
        message: String,
    },
    /// The spoke has stopped (or its actor is restarting and did not come back in time).
    #[error("the spoke has stopped")]
    Stopped,
    /// A frame could not be written or read.
    #[error("protocol: {0}")]
    Protocol(#[from] ProtocolError),
    /// The hub did not answer a flush's PING in time (`Spoke::flush`).
    #[error("the hub did not answer a PING within {after:?}: what was sent may not be routed yet")]
    FlushTimeout {
        /// How long the spoke waited.
        after: Duration,
    },
    /// A typed body could not be encoded (`Spoke::publish_typed`).
    #[error(transparent)]
    Body(#[from] crate::BodyError),
}

/// What a call over pub/sub ended in, when not in a reply. Each case tells the caller
/// something different: nobody is there, somebody failed, nobody took the call in time,
/// somebody took it but was too slow, the connection went.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RpcError {
    /// The hub found nothing subscribed to the call's channel and answered at once.
    #[error("no responders on {channel}: nothing provides it (is the service running?)")]
    NoResponders {
        /// The channel called.
        channel: String,
    },
    /// The callee took the call and answered with an error.
    #[error("{channel} answered {code}: {message}")]
    Remote {
        /// The channel called.
        channel: String,
        /// The code from the stable table.
        code: ErrorCode,
        /// The callee's message.
        message: String,
    },
    /// The timeout passed and nobody acknowledged the call: it was lost, or no responder
    /// took it (the request may never have run).
    #[error("call to {channel}: nobody acknowledged it within {after:?}")]
    NotAcknowledged {
        /// The channel called.
        channel: String,
        /// The call's timeout.
        after: Duration,
    },
    /// A callee acknowledged the call but did not answer within the timeout (it may still
    /// be running it).
    #[error(
        "call to {channel}: acknowledged, but no answer within {after:?} (the callee is too slow)"
    )]
    TooSlow {
        /// The channel called.
        channel: String,
        /// The call's timeout.
        after: Duration,
    },
    /// The spoke was not connected, and did not connect within the call's timeout.
    #[error("call to {channel}: not connected to the hub within {after:?}")]
    NotConnected {
        /// The channel called.
        channel: String,
        /// The call's timeout.
        after: Duration,
    },
    /// The connection to the hub ended with the call in flight (it may or may not have run).
    #[error("call to {channel}: connection lost: {reason}")]
    ConnectionLost {
        /// The channel called.
        channel: String,
        /// Why, as far as the spoke knows.
        reason: String,
    },
    /// The call could not be sent (its body is too large, say).
    #[error("call to {channel}: cannot send: {reason}")]
    Unsendable {
        /// The channel called.
        channel: String,
        /// Why.
        reason: String,
    },
    /// The answer of a typed call is not a value of the expected type.
    #[error("call to {channel}: the answer is not the expected type: {reason}")]
    InvalidReply {
        /// The channel called.
        channel: String,
        /// What the decoder said.
        reason: String,
    },
    /// The spoke has stopped.
    #[error("call to {channel}: the spoke has stopped")]
    Stopped {
        /// The channel called.
        channel: String,
    },
}

impl RpcError {
    /// The remote error code, for [`RpcError::Remote`] (and 400 for no responders).
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            RpcError::Remote { code, .. } => Some(*code),
            RpcError::NoResponders { .. } => Some(ErrorCode::UnknownRoute),
            _ => None,
        }
    }
}
