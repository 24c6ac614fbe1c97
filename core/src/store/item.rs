//! What the store keeps: item ids, pending and errored items, pause states.

use std::fmt;
use std::str::FromStr;

use bytes::Bytes;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The id of a queued item: one strictly increasing sequence per store, starting at 1 and never
/// reused (also across restarts), so ids order items FIFO and "up to this id" is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ItemId(pub u64);

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for ItemId {
    type Err = std::num::ParseIntError;

    /// Parses the decimal form [`Display`](fmt::Display) writes, as operators type it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(ItemId)
    }
}

/// One failed attempt: when, and what the handler said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptError {
    /// Milliseconds since the Unix epoch, as the caller's clock said.
    pub at_ms: u64,
    /// The handler's error message, kept verbatim for the operator.
    pub message: String,
}

/// An accepted request waiting to be processed (or being processed: workers hold ids, the store
/// does not know which).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingItem {
    /// Its place in the store's sequence.
    pub id: ItemId,
    /// The queue it belongs to (a queued route's key, usually).
    pub queue: String,
    /// The route key the request was addressed to, so a handler can be found after a restart.
    pub route: String,
    /// The request body as received.
    #[serde(with = "bytes_as_bin")]
    pub body: Bytes,
    /// The request's header pairs, in order.
    pub headers: Vec<(String, String)>,
    /// The client's idempotency key: a second request with the same key gets this item's id.
    pub idempotency_key: Option<String>,
    /// When it was accepted (ms since the Unix epoch).
    pub enqueued_at_ms: u64,
    /// Attempts made since it was enqueued or last requeued.
    pub attempts: u32,
    /// Every failed attempt, oldest first; a requeue keeps them.
    pub errors: Vec<AttemptError>,
    /// Earliest time of the next attempt (ms since the Unix epoch); 0 means at once.
    pub not_before_ms: u64,
    /// How many times an operator sent it back from the error queue.
    pub requeue_count: u32,
    /// Its ordering group in a sequenced queue: no item of a group is taken while an older one
    /// of the same group is pending ([`Store::next_ready_in_groups`](super::Store)).
    #[serde(default)]
    pub group: Option<String>,
}

/// An item that failed for good and waits in the error queue for an operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErroredItem {
    /// The item as it was at its last failure (attempts and every error included).
    pub item: PendingItem,
    /// When it was moved to the error queue (ms since the Unix epoch).
    pub failed_at_ms: u64,
}

impl ErroredItem {
    /// Its id (the same it had while pending).
    pub fn id(&self) -> ItemId {
        self.item.id
    }

    /// The last error message, the one that sent it here.
    pub fn last_error(&self) -> Option<&str> {
        self.item.errors.last().map(|e| e.message.as_str())
    }
}

/// Whether a queue accepts new requests and whether its workers take them. Persisted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseState {
    /// New requests are refused with an error that says the route is paused.
    pub receiving_paused: bool,
    /// Requests are still accepted and stored, but no worker takes them.
    pub processing_paused: bool,
}

/// Bodies are MessagePack bin, not arrays of integers.
mod bytes_as_bin {
    use super::*;

    pub fn serialize<S: Serializer>(body: &Bytes, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(body)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        serde_bytes::ByteBuf::deserialize(d).map(|buf| Bytes::from(buf.into_vec()))
    }
}
