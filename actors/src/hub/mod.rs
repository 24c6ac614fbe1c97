//! The pub/sub hub (issue 7, in progress): today the subscription table actor
//! ([`SubscriptionTable`]), which applies subscription changes and publishes immutable
//! snapshots for connections to route publishes with. The hub connection, spokes and RPC build
//! on it (see `docs/protocol.md`, section 10, for the frames).

mod table;

#[cfg(test)]
mod table_tests;

pub use table::{
    ConnId, Disconnected, Figures, HubSnapshot, ReplaceAll, Replay, Retain, Sid, Subscribe,
    Subscriber, SubscriptionTable, TableFigures, Unsubscribe,
};
