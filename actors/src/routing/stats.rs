//! Per-route counters, recorded by connections and handlers and read by anyone.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A monotonically increasing count.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// The count now.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// What happened to a route's requests. Relaxed atomic counters: metrics, not coordination.
#[derive(Debug, Default)]
pub struct RouteStats {
    /// Requests handed to the handler.
    pub dispatched: Counter,
    /// Requests answered with a reply.
    pub succeeded: Counter,
    /// Requests answered with the handler's error.
    pub failed: Counter,
    /// Requests whose handler panicked.
    pub panicked: Counter,
    /// Requests whose deadline passed before they were processed.
    pub timed_out: Counter,
    /// Requests refused because the handler had too many waiting.
    pub busy: Counter,
    /// Requests whose body did not decode into the route's request type.
    pub invalid_body: Counter,
    latency_micros_total: AtomicU64,
}

/// A copy of a route's counters at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RouteStatsSnapshot {
    /// Requests handed to the handler.
    pub dispatched: u64,
    /// Requests answered with a reply.
    pub succeeded: u64,
    /// Requests answered with the handler's error.
    pub failed: u64,
    /// Requests whose handler panicked.
    pub panicked: u64,
    /// Requests whose deadline passed before they were processed.
    pub timed_out: u64,
    /// Requests refused because the handler had too many waiting.
    pub busy: u64,
    /// Requests whose body did not decode.
    pub invalid_body: u64,
    /// Total handler time in microseconds (mean = this / (succeeded + failed)).
    pub latency_micros_total: u64,
}

impl RouteStats {
    /// Adds one handler run's duration.
    pub fn record_latency(&self, took: Duration) {
        self.latency_micros_total
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> RouteStatsSnapshot {
        RouteStatsSnapshot {
            dispatched: self.dispatched.get(),
            succeeded: self.succeeded.get(),
            failed: self.failed.get(),
            panicked: self.panicked.get(),
            timed_out: self.timed_out.get(),
            busy: self.busy.get(),
            invalid_body: self.invalid_body.get(),
            latency_micros_total: self.latency_micros_total.load(Ordering::Relaxed),
        }
    }
}
