//! [`WorkClientError`]: why a producer's or a worker's call failed.

use crate::net::DialError;
use crate::protocol::{ErrorCode, ProtocolError};
use crate::stream::HandshakeError;

/// Why a work-queue client call failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkClientError {
    /// The dispatcher could not be reached.
    #[error("cannot reach the dispatcher: {0}")]
    Dial(#[from] DialError),
    /// The dispatcher refused the call, with a code and its words.
    #[error("the dispatcher refused it ({code}): {message}")]
    Refused {
        /// The error code (section 6 of docs/protocol.md).
        code: ErrorCode,
        /// What the dispatcher said.
        message: String,
    },
    /// The connection closed before the answer came (the call may or may not have been
    /// applied: an enqueue may have been stored).
    #[error("the connection to the dispatcher closed before the answer came")]
    Closed,
    /// No answer within the time given.
    #[error("no answer from the dispatcher within {0:?}")]
    Timeout(std::time::Duration),
    /// A frame could not be written or read.
    #[error("protocol: {0}")]
    Protocol(#[from] ProtocolError),
    /// The socket failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

impl From<HandshakeError> for WorkClientError {
    fn from(e: HandshakeError) -> Self {
        match e {
            HandshakeError::Refused { code, message } => WorkClientError::Refused { code, message },
            HandshakeError::Lost(io) => WorkClientError::Io(io),
            HandshakeError::Protocol(p) => WorkClientError::Protocol(p),
        }
    }
}
