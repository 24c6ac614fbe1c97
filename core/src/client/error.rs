//! The one error type a call can end in.

use std::time::Duration;

use crate::protocol::{ErrorCode, ProtocolError};
use crate::{Address, BodyError};

/// Why a call did not produce a reply. Each case tells the caller something different to do.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The server could not be reached (refused, no such socket), or the connection broke
    /// before its CONN answer (reset, closed, a DISCONN instead): is it running, is the
    /// address right? The request was not sent.
    #[error("cannot connect to {address}: {source}")]
    Connect {
        /// Where the client tried to connect.
        address: Address,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// Connecting (including the CONN handshake) took longer than the connect timeout.
    #[error("cannot connect to {address}: no answer within {after:?}")]
    ConnectTimeout {
        /// Where the client tried to connect.
        address: Address,
        /// The connect timeout.
        after: Duration,
    },
    /// The call's timeout passed before a reply arrived (the request may or may not have run).
    #[error("call to {route} timed out after {after:?}")]
    Timeout {
        /// The route called.
        route: String,
        /// The timeout.
        after: Duration,
    },
    /// The connection closed while the call was in flight (the request may or may not have run).
    #[error("connection lost: {reason}")]
    ConnectionLost {
        /// Why, as far as the client knows.
        reason: String,
    },
    /// The server answered with an error code.
    #[error("{code}: {message}")]
    Remote {
        /// The code from the stable table.
        code: ErrorCode,
        /// The server's message.
        message: String,
    },
    /// The request could not be encoded, or the reply is not the route's reply type.
    #[error("{0}")]
    Body(#[from] BodyError),
    /// The server broke the protocol (a frame that cannot be read).
    #[error("protocol: {0}")]
    Protocol(#[from] ProtocolError),
    /// The request is larger than the server accepts.
    #[error("request of {size} bytes is over the server's maximum frame of {max} bytes")]
    TooLarge {
        /// The encoded frame length.
        size: usize,
        /// The server's maximum.
        max: usize,
    },
}

impl CallError {
    /// The remote error code, when the server answered with one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            CallError::Remote { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Whether the connection failed rather than the call: it could not be opened (refused;
    /// reset, closed or told DISCONN during the CONN handshake; no answer within the connect
    /// timeout) or it broke while the call was in flight. Each may pass once the server is
    /// back, so a queued sender always retries them.
    pub fn is_connection_failure(&self) -> bool {
        match self {
            CallError::Connect { .. }
            | CallError::ConnectTimeout { .. }
            | CallError::ConnectionLost { .. } => true,
            // The stream itself failed, wherever that came to light.
            CallError::Protocol(e) => {
                matches!(e, ProtocolError::Io(_) | ProtocolError::Truncated { .. })
            }
            CallError::Timeout { .. }
            | CallError::Remote { .. }
            | CallError::Body(_)
            | CallError::TooLarge { .. } => false,
        }
    }

    /// Whether the call never reached a server (so resending cannot run it twice).
    pub fn never_sent(&self) -> bool {
        matches!(
            self,
            CallError::Connect { .. }
                | CallError::ConnectTimeout { .. }
                | CallError::TooLarge { .. }
        )
    }
}
