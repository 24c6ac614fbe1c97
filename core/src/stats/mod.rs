//! Stats: counters, gauges and latency histograms that any part of hubwire registers with one
//! [`StatsRegistry`], so a new feature adds its figures without editing a central struct, and
//! the stats endpoint reports them all from one [`StatsSnapshot`].
//!
//! ```text
//! StatsRegistry (clone per component; one Arc inside)
//! ├── counter("requests.total", [("route", "dice.roll")])   -> Counter   (sharded u64)
//! ├── gauge("connections.open", [("transport", "tcp")])     -> Gauge     (one i64)
//! └── histogram("requests.latency", [("route", "dice.roll")]) -> Histogram (sharded buckets)
//!         each shard: one thread's recordings, on its own cache line; reads merge them all
//! ```
//!
//! Recording never takes a lock and threads do not contend: each thread records into its own
//! shard (picked round-robin on the thread's first recording), and reads sum or merge the
//! shards. All atomics are `Relaxed`, because a figure is reported, never used to decide what
//! another thread may touch.
//!
//! # Naming
//! - A name is dotted lowercase segments of `[a-z0-9_]`, from general to specific:
//!   `<area>.<thing>[.<detail>]`, as in `requests.errors`, `connections.open`,
//!   `udp.datagrams.dropped`.
//! - Counters name what they count, in the plural (`frames.dropped`); gauges name a level
//!   (`connections.open`, `mailbox.queued`); histograms name a latency (`requests.latency`) and
//!   always hold microseconds, so no unit suffix is needed.
//! - One name is one kind: asking for a counter's name as a gauge panics.
//! - Labels split one name by a dimension with a few values known in advance: `route`,
//!   `transport`, `code`. Label keys follow the segment rule; values are free text. Never label
//!   by peer address, connection or request id: each label combination is a series kept for the
//!   registry's life (at most [`MAX_SERIES`]).
//!
//! # Example
//! ```
//! use std::time::Duration;
//! use hubwire_core::stats::StatsRegistry;
//!
//! let stats = StatsRegistry::new();
//! // Look up once, keep the handles; recording through them is lock-free.
//! let requests = stats.counter("requests.total", &[("route", "dice.roll")]);
//! let latency = stats.histogram("requests.latency", &[("route", "dice.roll")]);
//!
//! requests.inc();
//! latency.record(Duration::from_micros(250));
//!
//! let snapshot = stats.snapshot();
//! assert_eq!(snapshot.counter("requests.total", &[("route", "dice.roll")]), Some(1));
//! let summary = snapshot.histogram("requests.latency", &[("route", "dice.roll")]).unwrap();
//! assert_eq!((summary.count, summary.p50_micros), (1, 250));
//! ```
//!
//! # Accuracy
//! Counters, gauges, histogram counts, sums, minima and maxima are exact. Percentiles come from
//! log-linear buckets and are within [`MAX_RELATIVE_ERROR`] (1/32) of the exact nearest-rank
//! value for latencies up to [`MAX_TRACKED_MICROS`] (about 71.6 minutes).

mod buckets;
mod counter;
mod histogram;
mod naming;
mod registry;
mod shard;
mod snapshot;
mod timer;

pub use buckets::{MAX_RELATIVE_ERROR, MAX_TRACKED_MICROS};
pub use counter::{Counter, Gauge};
pub use histogram::{Histogram, HistogramSummary};
pub use registry::{StatsRegistry, MAX_SERIES};
pub use snapshot::{Labels, Sample, StatsSnapshot};
pub use timer::Timer;

#[cfg(test)]
mod buckets_tests;
#[cfg(test)]
mod counter_tests;
#[cfg(test)]
mod histogram_tests;
#[cfg(test)]
mod registry_tests;
