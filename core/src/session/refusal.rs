//! [`RequestRefusal`]: why a request is answered with an error before any handler sees it, and
//! the words it is answered with, the same on every transport.

use crate::protocol::ErrorCode;

/// Where a bound of requests in flight is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InFlightScope {
    /// One stream connection (`max_in_flight_per_connection`).
    Connection,
    /// One UDP endpoint, all its peers together (`max_in_flight_per_udp_endpoint`).
    UdpEndpoint,
}

/// A request refused by the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestRefusal<'a> {
    /// The server is draining or closing.
    ShuttingDown,
    /// A request with the same id is still in flight on the connection.
    Duplicate,
    /// As many requests as allowed are in flight already.
    Busy {
        /// The bound.
        limit: usize,
        /// Where it is counted.
        scope: InFlightScope,
    },
    /// No handler is registered under the route key.
    UnknownRoute(&'a str),
}

impl RequestRefusal<'_> {
    /// The error code it is answered with.
    pub fn code(&self) -> ErrorCode {
        match self {
            RequestRefusal::ShuttingDown => ErrorCode::ShuttingDown,
            RequestRefusal::Duplicate => ErrorCode::Protocol,
            RequestRefusal::Busy { .. } => ErrorCode::Busy,
            RequestRefusal::UnknownRoute(_) => ErrorCode::UnknownRoute,
        }
    }

    /// The message it is answered with, for request `id`: what happened and what to do.
    pub fn message(&self, id: u64) -> String {
        match self {
            RequestRefusal::ShuttingDown => {
                "the server is shutting down and takes no new requests".to_owned()
            }
            RequestRefusal::Duplicate => {
                format!("request id {id} is already in flight on this connection")
            }
            RequestRefusal::Busy {
                limit,
                scope: InFlightScope::Connection,
            } => format!(
                "{limit} requests are already in flight on this connection (the most allowed); wait for replies before sending more"
            ),
            RequestRefusal::Busy {
                limit,
                scope: InFlightScope::UdpEndpoint,
            } => format!(
                "{limit} requests are already in flight on this UDP endpoint; try again later"
            ),
            RequestRefusal::UnknownRoute(route) => format!("no route {route:?} on this server"),
        }
    }
}
