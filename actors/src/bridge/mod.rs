//! Bridges: hubs joined into topologies (chain, star, ring, mesh), so that a publish or a call
//! reaches every interested subscriber on any hub, once, never in a loop (`docs/bridges.md`).
//!
//! The routing itself is plain code in `hubwire_core::bridge` (link-state adverts, one
//! shortest-path tree per origin hub, every hub's interest, a seen window); this module owns it
//! in actors and moves the frames:
//! - [`BridgeTable`] (`table.rs`): the actor owning the routing state and the links; floods
//!   adverts and interest (paced, coalesced per tick) and publishes a [`BridgeView`].
//! - [`Bridges`] (`forward.rs`): the fast path, on the thread that has the message: number and
//!   send a local publish, take a forwarded one (parent link only, once) and send it on.
//! - [`LinkSide`] (`link.rs`): one end of a live link, dialed or accepted: frames in,
//!   keepalive, round trip.
//! - admission (`admit.rs`): the challenge-response on a shared secret, both ends.
//! - [`BridgeDialer`] (`dialer.rs`): keeps one configured bridge up, with back-off.
//! - [`LinkStats`] (`stats.rs`): each bridge's figures in the stats registry.

mod admit;
mod dialer;
mod forward;
mod link;
mod sink;
mod start;
mod stats;
mod table;

pub use hubwire_core::bridge as routing;
pub use hubwire_core::config::{BridgeTarget, Secret};

pub use admit::{dial, fresh_nonce, AdmitError, Admitted, ADMISSION_TIMEOUT};
pub use dialer::BridgeDialer;
pub use forward::Bridges;
pub use link::{LinkSide, LINK_MAX_PINGS_OUT, LINK_PING_EVERY};
pub use sink::{BoundedSink, FrameSink};
pub use start::start_for_hub;
pub use stats::LinkStats;
pub use table::{
    BridgeTable, BridgeView, Control, FromLink, LinkDown, LinkOut, LinkUp, LocalInterestChanged,
    INTEREST_TICK,
};
