//! Figures per queue and per worker, as `hubwire.stats` shows them.

use serde::{Deserialize, Serialize};

/// One queue's figures. Counters count since the dispatcher started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueFigures {
    /// Items waiting (ready or delayed), not leased.
    pub pending: u64,
    /// Items leased to a worker now.
    pub in_flight: u64,
    /// Deliveries made (first ones and redeliveries).
    pub delivered: u64,
    /// Deliveries of an item delivered before.
    pub redelivered: u64,
    /// Items acked.
    pub acked: u64,
    /// Leases ended by a nack.
    pub nacked: u64,
    /// Leases that lapsed (not extended in time).
    pub lapsed: u64,
    /// Leases given back because their worker left or went silent (not counted against items).
    pub released: u64,
    /// Items sent to the error queue (rejected, or at `max_deliveries`).
    pub dead_lettered: u64,
    /// In-memory queues: errored items dropped from the full error queue (oldest first).
    #[serde(default)]
    pub dead_dropped: u64,
    /// Broadcast copies made by `send_all`.
    pub broadcast: u64,
    /// Whether dispatching from this queue is paused.
    pub paused: bool,
}

/// One worker's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerFigures {
    /// The worker's number at this dispatcher.
    pub worker: u64,
    /// Its name (from its CONN), for people.
    pub name: String,
    /// The queues it takes.
    pub queues: Vec<String>,
    /// Leases it may hold at once.
    pub credit: u32,
    /// Leases it holds now.
    pub in_flight: u32,
    /// Items delivered to it.
    pub delivered: u64,
    /// Items it acked.
    pub acked: u64,
    /// Broadcast copies waiting for its credit.
    pub broadcast_backlog: u64,
    /// Its last STATUS, as bytes (MessagePack).
    #[serde(with = "serde_bytes")]
    pub status: Vec<u8>,
    /// When it was last heard from (a PONG or any frame), ms on the dispatcher's clock.
    pub last_heard_ms: u64,
}
