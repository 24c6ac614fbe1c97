//! The plain parts of queued senders: where a message goes ([`Destination`]) and which failed
//! deliveries are worth another attempt ([`RetryRule`]). The actors are in
//! `hubwire_actors::sender`.

mod retry_rule;

pub use retry_rule::RetryRule;

use crate::Address;

/// Where a sender delivers: a hubwire application's address and the route key to call there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// The application's address.
    pub address: Address,
    /// The route to call with each message (a queued route, typically).
    pub route: String,
}

impl Destination {
    /// Route `route` of the application at `address`.
    pub fn new(address: Address, route: impl Into<String>) -> Self {
        Destination {
            address,
            route: route.into(),
        }
    }
}

impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.address, self.route)
    }
}
