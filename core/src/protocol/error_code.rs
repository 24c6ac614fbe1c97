//! The stable table of error codes carried by ERROR frames.
//!
//! Numbers keep the families of the ecosystem app base (100 protocol, 200 denied, 300 validation,
//! 400 route, 500 busy, 600 processing, 999 unknown), add codes within them and two families of
//! their own (700 time, 800 lifecycle). A code never changes meaning; new codes may be added, so
//! receivers must accept numbers they do not know.

use serde::{Deserialize, Serialize};

/// Why a request or a connection failed, as sent on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "u16", into = "u16")]
pub enum ErrorCode {
    /// A frame or envelope could not be parsed (bad MessagePack, a missing field, CONN not first).
    Protocol,
    /// The peer speaks a protocol version this side does not.
    VersionMismatch,
    /// A frame's length is over the maximum this side accepts; the connection is closed.
    FrameTooLarge,
    /// A frame kind this side does not know; the connection stays open.
    UnknownKind,
    /// The peer is not allowed to connect, or not allowed to call this route.
    Denied,
    /// The request body could not be decoded into the route's request type.
    InvalidBody,
    /// No handler is registered under the route key.
    UnknownRoute,
    /// The route exists, but what the request names in it does not (a queue, an item id).
    NotFound,
    /// Too many requests in flight (per connection or per route); try again later.
    Busy,
    /// The route is paused and not accepting requests.
    Paused,
    /// The handler returned an error, or panicked.
    HandlerFailure,
    /// The request's deadline passed before it was processed.
    Timeout,
    /// The server is shutting down and no longer processes requests.
    ShuttingDown,
    /// Anything else; the message says more.
    Unhandled,
    /// A code this version does not know (sent by a newer peer).
    Other(u16),
}

impl ErrorCode {
    /// The number sent on the wire.
    pub const fn as_u16(self) -> u16 {
        match self {
            ErrorCode::Protocol => 100,
            ErrorCode::VersionMismatch => 101,
            ErrorCode::FrameTooLarge => 102,
            ErrorCode::UnknownKind => 103,
            ErrorCode::Denied => 200,
            ErrorCode::InvalidBody => 300,
            ErrorCode::UnknownRoute => 400,
            ErrorCode::NotFound => 404,
            ErrorCode::Busy => 500,
            ErrorCode::Paused => 501,
            ErrorCode::HandlerFailure => 600,
            ErrorCode::Timeout => 700,
            ErrorCode::ShuttingDown => 800,
            ErrorCode::Unhandled => 999,
            ErrorCode::Other(n) => n,
        }
    }

    /// A short stable name (`"unknown-route"`), used in logs, stats and the command line.
    pub const fn name(self) -> &'static str {
        match self {
            ErrorCode::Protocol => "protocol",
            ErrorCode::VersionMismatch => "version-mismatch",
            ErrorCode::FrameTooLarge => "frame-too-large",
            ErrorCode::UnknownKind => "unknown-kind",
            ErrorCode::Denied => "denied",
            ErrorCode::InvalidBody => "invalid-body",
            ErrorCode::UnknownRoute => "unknown-route",
            ErrorCode::NotFound => "not-found",
            ErrorCode::Busy => "busy",
            ErrorCode::Paused => "paused",
            ErrorCode::HandlerFailure => "handler-failure",
            ErrorCode::Timeout => "timeout",
            ErrorCode::ShuttingDown => "shutting-down",
            ErrorCode::Unhandled => "unhandled",
            ErrorCode::Other(_) => "other",
        }
    }

    /// Every code this version knows, in table order.
    pub const ALL: [ErrorCode; 14] = [
        ErrorCode::Protocol,
        ErrorCode::VersionMismatch,
        ErrorCode::FrameTooLarge,
        ErrorCode::UnknownKind,
        ErrorCode::Denied,
        ErrorCode::InvalidBody,
        ErrorCode::UnknownRoute,
        ErrorCode::NotFound,
        ErrorCode::Busy,
        ErrorCode::Paused,
        ErrorCode::HandlerFailure,
        ErrorCode::Timeout,
        ErrorCode::ShuttingDown,
        ErrorCode::Unhandled,
    ];
}

impl From<u16> for ErrorCode {
    fn from(n: u16) -> Self {
        ErrorCode::ALL
            .into_iter()
            .find(|c| c.as_u16() == n)
            .unwrap_or(ErrorCode::Other(n))
    }
}

impl From<ErrorCode> for u16 {
    fn from(c: ErrorCode) -> u16 {
        c.as_u16()
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.name(), self.as_u16())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_number() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from(code.as_u16()), code);
        }
        assert_eq!(ErrorCode::from(4242), ErrorCode::Other(4242));
    }

    #[test]
    fn the_numbers_are_the_published_table() {
        let table: Vec<(u16, &str)> = ErrorCode::ALL
            .iter()
            .map(|c| (c.as_u16(), c.name()))
            .collect();
        assert_eq!(
            table,
            vec![
                (100, "protocol"),
                (101, "version-mismatch"),
                (102, "frame-too-large"),
                (103, "unknown-kind"),
                (200, "denied"),
                (300, "invalid-body"),
                (400, "unknown-route"),
                (404, "not-found"),
                (500, "busy"),
                (501, "paused"),
                (600, "handler-failure"),
                (700, "timeout"),
                (800, "shutting-down"),
                (999, "unhandled"),
            ]
        );
    }

    #[test]
    fn codes_are_unique() {
        let mut numbers: Vec<u16> = ErrorCode::ALL.iter().map(|c| c.as_u16()).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), ErrorCode::ALL.len());
    }
}
