//! The server side of a connection as a sans-IO state machine: frames and the time go in, what
//! to do comes out. No sockets, no clock, no actors: a driver (the TCP and Unix connection
//! actor, the UDP endpoint, and the transports to come) owns the socket and the timers and
//! carries out the [`Step`]s.
//!
//! ```text
//!  frame, now ─▶ ServerSession::on_frame ─▶ Step: Send / Refuse / Request / Cancel /
//!  now        ─▶ ServerSession::on_tick  ─▶       PubSub / Bridge / Ping / Close
//!  phase      ─▶ ServerSession::on_phase ─▶ Wind: Stay / Close / AbandonAndClose
//!  Step::PubSub ─▶ HubSide     (batches for the hub's table, REFUSED, PONGs, keepalive)
//!  Step::Bridge ─▶ BridgeEnd   (admission, then every frame the live link's)
//! ```
//!
//! - [`ServerSession`]: the handshake (CONN first, the version, the peer's `max_frame`), which
//!   kinds this server serves (and the one answer for those it does not), DISCONN, and the
//!   handshake and idle timers.
//! - [`HubSide`]: the pub/sub side of a connection on a hub: subscription changes gathered
//!   into batches (one at the table at a time, so they apply in order), REFUSED for what
//!   cannot be read, the hub's keepalive, and the
//!   [`PingBarrier`] (a PONG waits for the subscription changes sent before its PING).
//! - [`BridgeEnd`]: a connection a peer hub dialed to make a bridge link: admission on the
//!   shared secret, frames held while the link registers, then every frame the link's.
//! - [`on_datagram`]: the same rules for the frame of one datagram (UDP), which has no
//!   connection state; [`answer_hello`] and [`unknown_kind`] are shared by both.
//! - [`RequestRefusal`]: the requests a transport refuses before a handler sees them, with
//!   their codes and words.
//! - [`Phase`] and [`Wind`]: draining (new requests refused, DISCONN once nothing is in
//!   flight), closing (what is in flight abandoned), and a peer that half-closed.
//!
//! What stays with the driver, and why: the ledger of requests in flight lives with the
//! outbound buffer ([`crate::stream::ReplyQueue`]) because handlers answer straight into it
//! from their own threads; the session says *that* a REQUEST arrived, the driver admits it.

mod barrier;
mod bridge_end;
mod datagram;
mod hub_side;
mod phase;
mod refusal;
mod server;

#[cfg(test)]
mod auth_tests;
#[cfg(test)]
mod bridge_end_tests;
#[cfg(test)]
mod compress_tests;
#[cfg(test)]
mod hub_side_tests;
#[cfg(test)]
mod phase_tests;
#[cfg(test)]
mod tests;

pub use barrier::PingBarrier;
pub use bridge_end::{
    BridgeEnd, BridgeKeys, BridgeStep, BridgeTick, ADMISSION_TIMEOUT, LINK_PING_EVERY,
};
pub use datagram::on_datagram;
pub use hub_side::{
    HubSide, Keepalive, KeepaliveLimits, PubSubStep, MAX_OWN_INBOXES, MAX_WAITING_CHANGES,
};
pub use phase::{abandoned_request, Phase, Wind};
pub use refusal::{InFlightScope, RequestRefusal};
pub use server::{
    answer_hello, unknown_kind, Close, CompressionSwitch, ServerSession, Serves, SessionLimits,
    Step,
};
