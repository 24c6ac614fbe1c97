//! Frame kinds: the `u16` that follows every frame's length.
//!
//! The numbers are part of the wire format and never change meaning. Kinds 1-6 keep the numbers
//! Net Queue gave them; the other ranges are set aside per family so each can grow without
//! colliding with the rest.

/// Handshake: the first frame each side sends (payload: [`crate::protocol::Hello`]).
pub const CONN: u16 = 1;
/// Orderly goodbye with a reason (payload: [`crate::protocol::Disconnect`]).
pub const DISCONN: u16 = 2;
/// Work queue, both ways: what the sender reports about itself (payload:
/// [`crate::protocol::WorkStatus`]).
pub const STATUS: u16 = 3;
/// Keepalive probe (payload: [`crate::protocol::Ping`]).
pub const PING: u16 = 4;
/// Answer to a PING, echoing its nonce.
pub const PONG: u16 = 5;
/// Work queue, producer to dispatcher: items for a queue (payload: [`crate::protocol::Enqueue`]).
pub const ENQUEUE: u16 = 6;
/// Client to server, right after CONN: credentials (payload: [`crate::protocol::Auth`]).
pub const AUTH: u16 = 7;
/// Server to client: the AUTH was accepted, and as whom (payload: [`crate::protocol::AuthOk`]).
pub const AUTH_OK: u16 = 8;
/// Both ways, right after CONN: the client's offer of compression algorithms, the server's
/// choice (payload: [`crate::protocol::Compress`]).
pub const COMPRESS: u16 = 9;

/// A call to a route (payload: [`crate::protocol::Request`]).
pub const REQUEST: u16 = 16;
/// A successful reply to a REQUEST (payload: [`crate::protocol::Response`]).
pub const RESPONSE: u16 = 17;
/// A failed REQUEST, or a connection-level error (payload: [`crate::protocol::ErrorFrame`]).
pub const ERROR: u16 = 18;
/// The caller no longer wants the reply to a REQUEST (payload: [`crate::protocol::Cancel`]).
pub const CANCEL: u16 = 19;

/// Spoke to hub: a subscription under a spoke-chosen id (payload: [`crate::protocol::Subscribe`]).
pub const SUBSCRIBE: u16 = 32;
/// Spoke to hub: end a subscription (payload: [`crate::protocol::Unsubscribe`]).
pub const UNSUBSCRIBE: u16 = 33;
/// Spoke to hub: the spoke's whole subscription list, replacing the hub's (payload:
/// [`crate::protocol::Subscriptions`]).
pub const SUBSCRIPTIONS: u16 = 34;
/// Spoke to hub: a message for a channel (payload: [`crate::protocol::Publish`]).
pub const PUBLISH: u16 = 35;
/// Hub to spoke: a message for some of the connection's subscriptions (payload:
/// [`crate::protocol::Message`]).
pub const MESSAGE: u16 = 36;
/// Hub to spoke: a subscription or publish was not applied (payload:
/// [`crate::protocol::Refused`]).
pub const REFUSED: u16 = 37;

/// Dialing hub to listening hub, first bridge frame (payload: [`crate::protocol::BridgeHello`]).
pub const BRIDGE_HELLO: u16 = 64;
/// Listening hub to dialing hub (payload: [`crate::protocol::BridgeChallenge`]).
pub const BRIDGE_CHALLENGE: u16 = 65;
/// Both ways, dialer first: proof of the shared secret ([`crate::protocol::BridgeProof`]).
pub const BRIDGE_PROOF: u16 = 66;
/// A hub's bridge neighbors, flooded ([`crate::bridge::LinkState`]).
pub const BRIDGE_LINK_STATE: u16 = 67;
/// A change to (or part of) a hub's interest, flooded ([`crate::bridge::InterestUpdate`]).
pub const BRIDGE_INTEREST: u16 = 68;
/// A request for a hub's whole interest ([`crate::protocol::BridgeResync`]).
pub const BRIDGE_RESYNC: u16 = 69;
/// A publish forwarded between hubs ([`crate::protocol::BridgeMessage`]).
pub const BRIDGE_MESSAGE: u16 = 70;

/// Work queue, dispatcher to producer: an ENQUEUE's items are stored
/// ([`crate::protocol::Enqueued`]).
pub const WORK_ENQUEUED: u16 = 96;
/// Work queue, worker to dispatcher: the queues taken and the credit ([`crate::protocol::Take`]).
pub const WORK_TAKE: u16 = 97;
/// Work queue, dispatcher to worker: a TAKE applied ([`crate::protocol::Taken`]).
pub const WORK_TAKEN: u16 = 98;
/// Work queue, dispatcher to worker: an item under a lease ([`crate::protocol::Deliver`]).
pub const WORK_DELIVER: u16 = 99;
/// Work queue, worker to dispatcher: an item done ([`crate::protocol::Ack`]).
pub const WORK_ACK: u16 = 100;
/// Work queue, worker to dispatcher: an item failed, deliver it again later
/// ([`crate::protocol::Nack`]).
pub const WORK_NACK: u16 = 101;
/// Work queue, worker to dispatcher: an item refused for good ([`crate::protocol::Reject`]).
pub const WORK_REJECT: u16 = 102;
/// Work queue, worker to dispatcher: still working, extend the lease
/// ([`crate::protocol::Progress`]).
pub const WORK_PROGRESS: u16 = 103;

/// Kinds 96..=127 belong to the network work queue (with STATUS and ENQUEUE).
pub const WORK_RANGE: std::ops::RangeInclusive<u16> = 96..=127;

/// Kinds 32..=63 belong to pub/sub (publish, subscribe, ...).
pub const PUBSUB_RANGE: std::ops::RangeInclusive<u16> = 32..=63;
/// Kinds 64..=95 belong to links between hubs.
pub const BRIDGE_RANGE: std::ops::RangeInclusive<u16> = 64..=95;
/// The bridge kinds assigned so far (the rest of [`BRIDGE_RANGE`] is reserved).
pub const BRIDGE_ASSIGNED: std::ops::RangeInclusive<u16> = BRIDGE_HELLO..=BRIDGE_MESSAGE;

/// The name of a kind, for logs and error messages.
pub fn name(kind: u16) -> &'static str {
    match kind {
        CONN => "CONN",
        DISCONN => "DISCONN",
        STATUS => "STATUS",
        PING => "PING",
        PONG => "PONG",
        ENQUEUE => "ENQUEUE",
        AUTH => "AUTH",
        AUTH_OK => "AUTH_OK",
        COMPRESS => "COMPRESS",
        REQUEST => "REQUEST",
        RESPONSE => "RESPONSE",
        ERROR => "ERROR",
        CANCEL => "CANCEL",
        SUBSCRIBE => "SUBSCRIBE",
        UNSUBSCRIBE => "UNSUBSCRIBE",
        SUBSCRIPTIONS => "SUBSCRIPTIONS",
        PUBLISH => "PUBLISH",
        MESSAGE => "MESSAGE",
        REFUSED => "REFUSED",
        BRIDGE_HELLO => "BRIDGE_HELLO",
        BRIDGE_CHALLENGE => "BRIDGE_CHALLENGE",
        BRIDGE_PROOF => "BRIDGE_PROOF",
        BRIDGE_LINK_STATE => "BRIDGE_LINK_STATE",
        BRIDGE_INTEREST => "BRIDGE_INTEREST",
        BRIDGE_RESYNC => "BRIDGE_RESYNC",
        BRIDGE_MESSAGE => "BRIDGE_MESSAGE",
        WORK_ENQUEUED => "ENQUEUED",
        WORK_TAKE => "TAKE",
        WORK_TAKEN => "TAKEN",
        WORK_DELIVER => "DELIVER",
        WORK_ACK => "ACK",
        WORK_NACK => "NACK",
        WORK_REJECT => "REJECT",
        WORK_PROGRESS => "PROGRESS",
        k if WORK_RANGE.contains(&k) => "work queue (reserved)",
        k if PUBSUB_RANGE.contains(&k) => "pub/sub (reserved)",
        k if BRIDGE_RANGE.contains(&k) => "bridge (reserved)",
        _ => "unknown",
    }
}
