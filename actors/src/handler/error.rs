//! The error a handler answers with.

use std::fmt;

use hubwire_core::protocol::ErrorCode;

/// A handler's refusal or failure; the caller gets its code and message.
///
/// Any error type converts into it with `?` (as handler-failure with the error's text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandlerError {
    /// The code the caller gets.
    pub code: ErrorCode,
    /// What went wrong, for the caller.
    pub message: String,
}

impl HandlerError {
    /// The handler failed: handler-failure (600) with `message`.
    pub fn new(message: impl Into<String>) -> Self {
        HandlerError {
            code: ErrorCode::HandlerFailure,
            message: message.into(),
        }
    }

    /// The request decoded but its values are not acceptable: invalid-body (300) with `message`.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        HandlerError {
            code: ErrorCode::InvalidBody,
            message: message.into(),
        }
    }

    /// The handler cannot take the request now: busy (500) with `message`.
    pub fn busy(message: impl Into<String>) -> Self {
        HandlerError {
            code: ErrorCode::Busy,
            message: message.into(),
        }
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

// Not `std::error::Error` itself, so that every error type can convert into it.
impl<E: std::error::Error> From<E> for HandlerError {
    fn from(e: E) -> Self {
        HandlerError::new(e.to_string())
    }
}
