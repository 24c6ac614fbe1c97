//! Per-route figures, kept in the server's stats registry under the route's label.

use std::time::Duration;

use hubwire_core::protocol::ErrorCode;
use hubwire_core::stats::{Counter, Histogram, StatsRegistry};

/// What happened to a route's requests (series `requests.*` labelled `route`).
#[derive(Clone, Debug)]
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
    /// Time the handler took.
    pub latency: Histogram,
    registry: StatsRegistry,
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
}

/// Counts an error answer by its code (series `requests.errors` labelled `code`).
pub fn count_error(registry: &StatsRegistry, code: ErrorCode) {
    registry
        .counter("requests.errors", &[("code", code.name())])
        .inc();
}

impl RouteStats {
    /// The series of route `key` in `registry`.
    pub fn new(registry: &StatsRegistry, key: &str) -> Self {
        let labels = [("route", key)];
        let counter = |name: &str| registry.counter(name, &labels);
        RouteStats {
            dispatched: counter("requests.dispatched"),
            succeeded: counter("requests.succeeded"),
            failed: counter("requests.failed"),
            panicked: counter("requests.panicked"),
            timed_out: counter("requests.timed_out"),
            busy: counter("requests.busy"),
            invalid_body: counter("requests.invalid_body"),
            latency: registry.histogram("requests.latency", &labels),
            registry: registry.clone(),
        }
    }

    /// Adds one handler run's duration.
    pub fn record_latency(&self, took: Duration) {
        self.latency.record(took);
    }

    /// Counts an error answer by its code.
    pub fn count_error(&self, code: ErrorCode) {
        count_error(&self.registry, code);
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
        }
    }
}
