//! The standard endpoints every hubwire application serves, declared once for servers and
//! clients (`hubwire health`, `hubwire stats`).

mod queue;

pub use queue::*;

use std::collections::BTreeMap;

use hubwire_actors::queue::QueueData;
use hubwire_core::stats::StatsSnapshot;
use serde::{Deserialize, Serialize};

/// The answer of `hubwire.health`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HealthReply {
    /// `"ok"` while serving.
    pub status: String,
    /// The application's name.
    pub app: String,
    /// The instance id.
    pub instance: String,
    /// The hubwire version.
    pub version: String,
    /// Milliseconds since start.
    pub uptime_ms: u64,
}

/// The answer of `hubwire.stats`: every figure in the application's stats registry
/// (`connections.open`, `requests.*` per route, `requests.errors` per code,
/// `requests.latency` percentiles, `peers.denied`, `connections.refused`, ...).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StatsReply {
    /// The application's name.
    pub app: String,
    /// The instance id.
    pub instance: String,
    /// Milliseconds since start.
    pub uptime_ms: u64,
    /// The figures.
    pub stats: StatsSnapshot,
    /// Every queued route's figures (pending and error sizes, pause state, totals), by key.
    #[serde(default)]
    pub queues: BTreeMap<String, QueueData>,
    /// Every sender's figures, by name (`pending`: outgoing and retrying; `errors`: errored;
    /// `processed`: delivered).
    #[serde(default)]
    pub senders: BTreeMap<String, QueueData>,
    /// Every work-queue dispatcher's figures, by dispatcher name: per queue (pending, in
    /// flight, delivered, redelivered, acked, nacked, lapsed, released, dead-lettered) and per
    /// connected worker (queues, credit, in flight, its last STATUS, when last heard from).
    #[serde(default)]
    pub work: BTreeMap<String, hubwire_actors::work::WorkFigures>,
}

/// The request of `hubwire.log.level`: no level to ask for the current filter, a level to set
/// it (admin peers only).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LogLevelRequest {
    /// The new filter (`debug`, `info,hubwire_actors=trace`).
    #[serde(default)]
    pub level: Option<String>,
}

/// The answer of `hubwire.log.level`: the filter in force.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogLevelReply {
    /// The filter in force.
    pub level: String,
}

crate::route!(
    /// Liveness: answers while the application serves.
    pub Health = "hubwire.health", () => HealthReply, idempotent = true
);
crate::route!(
    /// Every figure the application records.
    pub Stats = "hubwire.stats", () => StatsReply, idempotent = true
);
crate::route!(
    /// Reads or (admin peers only) sets the log filter.
    pub LogLevel = "hubwire.log.level", LogLevelRequest => LogLevelReply
);

/// The request of `hubwire.fault.fail_listener`: which listener to fail, and how many of its
/// restarts should fail too (a large number drives a crash loop up the supervision tree).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FailListenerRequest {
    /// The listener's address, as the application printed it.
    pub address: String,
    /// Restarts that fail after the kill.
    #[serde(default)]
    pub failing_restarts: u32,
}

/// The answer of `hubwire.fault.fail_listener`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailListenerReply {
    /// Whether the failure was injected (a listener on that address is supervised).
    pub requested: bool,
}

crate::route!(
    /// Fault injection (only with `fault_injection` on, admin peers only): fails a listener.
    pub FailListener = "hubwire.fault.fail_listener", FailListenerRequest => FailListenerReply
);
