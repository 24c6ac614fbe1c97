//! [`Counter`]s (totals that only grow) and [`Gauge`]s (levels that go up and down).
//!
//! Every atomic here uses `Relaxed` ordering: a figure is read for reporting, never to decide
//! what another thread may touch, so no ordering with other memory is needed. Each operation is
//! still atomic, so no increment is lost; a read taken while others record sees some of the
//! in-flight updates and not others, as a read a moment earlier or later would.

use std::fmt;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use super::shard::{CachePadded, Shards};

/// A total that only grows: requests served, frames dropped, bytes written.
///
/// Each thread adds to its own shard, so counting from many threads does not contend;
/// [`get`](Self::get) sums the shards. Clones are handles to the same series.
#[derive(Clone)]
pub struct Counter {
    shards: Arc<Shards<AtomicU64>>,
}

impl Counter {
    /// A counter at zero, not yet in any registry.
    pub(crate) fn new() -> Self {
        Counter {
            shards: Arc::new(Shards::new()),
        }
    }

    /// Adds one.
    pub fn inc(&self) {
        self.add(1);
    }

    /// Adds `n`. The total wraps past `u64::MAX`, which counting once per nanosecond takes
    /// centuries to reach.
    pub fn add(&self, n: u64) {
        self.shards.local().fetch_add(n, Ordering::Relaxed);
    }

    /// The total so far, summed over every thread's shard.
    pub fn get(&self) -> u64 {
        self.shards.iter().fold(0u64, |sum, shard| {
            sum.wrapping_add(shard.load(Ordering::Relaxed))
        })
    }
}

impl fmt::Debug for Counter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Counter")
            .field("value", &self.get())
            .finish()
    }
}

/// A level that goes up and down: connections open, messages queued.
///
/// Unlike a [`Counter`] a gauge is one atomic, not per-thread shards: [`set`](Self::set) must
/// replace the whole value, which shards cannot do without a lock, and levels change per
/// connection or per queue operation rather than per recorded latency, so the shared cache
/// line costs little. Clones are handles to the same series.
#[derive(Clone)]
pub struct Gauge {
    value: Arc<CachePadded<AtomicI64>>,
}

impl Gauge {
    /// A gauge at zero, not yet in any registry.
    pub(crate) fn new() -> Self {
        Gauge {
            value: Arc::new(CachePadded(AtomicI64::new(0))),
        }
    }

    /// Replaces the level with `value`.
    pub fn set(&self, value: i64) {
        self.value.0.store(value, Ordering::Relaxed);
    }

    /// Raises the level by one.
    pub fn inc(&self) {
        self.add(1);
    }

    /// Lowers the level by one.
    pub fn dec(&self) {
        self.add(-1);
    }

    /// Moves the level by `delta` (negative to lower it).
    pub fn add(&self, delta: i64) {
        self.value.0.fetch_add(delta, Ordering::Relaxed);
    }

    /// The current level.
    pub fn get(&self) -> i64 {
        self.value.0.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for Gauge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gauge").field("value", &self.get()).finish()
    }
}
