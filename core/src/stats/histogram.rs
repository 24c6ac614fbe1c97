//! [`Histogram`]s of latencies, and the [`HistogramSummary`] read from one.
//!
//! Each thread records into its own shard of log-linear buckets (`buckets.rs`); a read merges
//! the shards and walks the merged buckets for percentiles. Atomics are `Relaxed` for the reason
//! given in `counter.rs`: these are figures to report, not to coordinate by. A read taken while
//! other threads record is not a point-in-time cut: count, sum, min and max may each include a
//! recording the others do not yet show.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::buckets::{bucket_index, bucket_midpoint, BUCKET_COUNT};
use super::shard::{CachePadded, Shards};
use super::timer::Timer;

/// One thread's share of a histogram: about 3.7 KB, so it is allocated on the thread's first
/// recording and series recorded from few threads stay small.
#[derive(Debug)]
struct HistogramShard {
    buckets: [AtomicU64; BUCKET_COUNT],
    /// Exact, unlike the buckets, so the mean is exact.
    sum: AtomicU64,
    /// Exact, to report and to keep bucket midpoints from straying past the real extremes.
    min: AtomicU64,
    max: AtomicU64,
}

impl HistogramShard {
    fn new() -> Self {
        HistogramShard {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum: AtomicU64::new(0),
            min: AtomicU64::new(u64::MAX),
            max: AtomicU64::new(0),
        }
    }
}

/// A distribution of latencies in microseconds, for percentiles within
/// [`MAX_RELATIVE_ERROR`](super::MAX_RELATIVE_ERROR) of the exact ones.
///
/// Recording from many threads does not contend: each thread has its own shard. Clones are
/// handles to the same series.
#[derive(Clone)]
pub struct Histogram {
    shards: Arc<Shards<OnceLock<Box<CachePadded<HistogramShard>>>>>,
}

impl Histogram {
    /// An empty histogram, not yet in any registry.
    pub(crate) fn new() -> Self {
        Histogram {
            shards: Arc::new(Shards::new()),
        }
    }

    /// Records `latency`, in whole microseconds (rounded down).
    pub fn record(&self, latency: Duration) {
        self.record_micros(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
    }

    /// Records a latency of `micros` microseconds.
    pub fn record_micros(&self, micros: u64) {
        let shard = &self
            .shards
            .local()
            .get_or_init(|| Box::new(CachePadded(HistogramShard::new())))
            .0;
        shard.sum.fetch_add(micros, Ordering::Relaxed);
        // Checking first skips the read-modify-write once the extremes settle.
        if micros < shard.min.load(Ordering::Relaxed) {
            shard.min.fetch_min(micros, Ordering::Relaxed);
        }
        if micros > shard.max.load(Ordering::Relaxed) {
            shard.max.fetch_max(micros, Ordering::Relaxed);
        }
        shard.buckets[bucket_index(micros)].fetch_add(1, Ordering::Relaxed);
    }

    /// A timer that records into this histogram when stopped or dropped.
    pub fn start_timer(&self) -> Timer {
        Timer::start(self.clone())
    }

    /// Count, sum, extremes and the usual percentiles, merged over every thread's shard.
    pub fn summary(&self) -> HistogramSummary {
        self.merge().summary()
    }

    /// The latency at quantile `q` (0.0 to 1.0; 0.5 is the median) in microseconds, by nearest
    /// rank; 0 when nothing has been recorded.
    pub fn percentile_micros(&self, q: f64) -> u64 {
        self.merge().percentile(q)
    }

    fn merge(&self) -> Merged {
        let mut merged = Merged {
            buckets: vec![0; BUCKET_COUNT],
            count: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
        };
        for shard in self.shards.iter().filter_map(OnceLock::get) {
            let shard = &shard.0;
            for (total, bucket) in merged.buckets.iter_mut().zip(&shard.buckets) {
                *total += bucket.load(Ordering::Relaxed);
            }
            merged.sum = merged.sum.wrapping_add(shard.sum.load(Ordering::Relaxed));
            merged.min = merged.min.min(shard.min.load(Ordering::Relaxed));
            merged.max = merged.max.max(shard.max.load(Ordering::Relaxed));
        }
        merged.count = merged.buckets.iter().sum();
        merged
    }
}

impl fmt::Debug for Histogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Histogram")
            .field("summary", &self.summary())
            .finish()
    }
}

/// All shards of one histogram added together.
struct Merged {
    buckets: Vec<u64>,
    /// The buckets' total, so percentile ranks always fall inside the buckets.
    count: u64,
    sum: u64,
    min: u64,
    max: u64,
}

impl Merged {
    fn summary(&self) -> HistogramSummary {
        if self.count == 0 {
            return HistogramSummary::default();
        }
        HistogramSummary {
            count: self.count,
            sum_micros: self.sum,
            // A read racing a thread's first recording can see its bucket before its minimum.
            min_micros: if self.min == u64::MAX { 0 } else { self.min },
            max_micros: self.max,
            p50_micros: self.percentile(0.50),
            p95_micros: self.percentile(0.95),
            p99_micros: self.percentile(0.99),
        }
    }

    fn percentile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        // Nearest rank: the smallest value with at least q * count values at or below it.
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (index, &in_bucket) in self.buckets.iter().enumerate() {
            seen += in_bucket;
            if seen >= rank {
                let midpoint = bucket_midpoint(index);
                // The exact value lies within [min, max]; clamping only brings the midpoint
                // closer. A torn read can leave min > max, and then the midpoint stands.
                return if self.min <= self.max {
                    midpoint.clamp(self.min, self.max)
                } else {
                    midpoint
                };
            }
        }
        self.max
    }
}

/// What a [`Histogram`] holds, read at one moment; all latencies in microseconds, all zero for
/// an empty histogram.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistogramSummary {
    /// Latencies recorded.
    pub count: u64,
    /// Their exact sum, so `sum_micros / count` is the exact mean.
    pub sum_micros: u64,
    /// The exact smallest.
    pub min_micros: u64,
    /// The exact largest.
    pub max_micros: u64,
    /// The median, within [`MAX_RELATIVE_ERROR`](super::MAX_RELATIVE_ERROR).
    pub p50_micros: u64,
    /// The 95th percentile, within [`MAX_RELATIVE_ERROR`](super::MAX_RELATIVE_ERROR).
    pub p95_micros: u64,
    /// The 99th percentile, within [`MAX_RELATIVE_ERROR`](super::MAX_RELATIVE_ERROR).
    pub p99_micros: u64,
}
