//! The pub/sub hub: the subscription table actor
//! ([`SubscriptionTable`]), which applies subscription changes and publishes immutable
//! snapshots, and the [`Hub`] that connections share to route publishes with them (the frames
//! are in `docs/protocol.md`, section 10). Spokes and RPC build on it.

mod router;
mod table;

#[cfg(test)]
mod table_tests;

pub use router::{
    Hub, HubLimits, NatsDelivery, NatsPeer, SlowConsumer, Stalled, SubscriptionEnded, MAX_GATHERED,
    SLOW_CONSUMER_MESSAGE,
};
pub use table::{
    Changes, ConnId, Disconnected, Figures, GroupId, HubSnapshot, Retain, Sid, Subscriber,
    SubscriptionTable, TableFigures, NO_GROUP,
};
