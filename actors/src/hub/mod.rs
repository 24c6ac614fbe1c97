//! The pub/sub hub: the subscription table actor
//! ([`SubscriptionTable`]), which applies subscription changes and publishes immutable
//! snapshots, and the [`Hub`] that connections share to route publishes with them (the frames
//! are in `docs/protocol.md`, section 10). Spokes and RPC build on it.

mod router;
mod table;

#[cfg(test)]
mod table_tests;

pub use router::{Hub, HubLimits, SlowConsumer, SLOW_CONSUMER_MESSAGE};
pub use table::{
    ConnId, Disconnected, Figures, GroupId, HubSnapshot, ReplaceAll, Replay, Retain, Sid,
    Subscribe, Subscriber, SubscriptionTable, TableFigures, Unsubscribe, NO_GROUP,
};
