//! A cache's counters mirrored into a stats registry, so `hubwire.stats` shows them.

use hubwire_core::cache::CacheCounters;
use hubwire_core::stats::{Counter, Gauge, StatsRegistry};

/// The series `cache.hits`, `cache.misses`, `cache.evictions`, `cache.expirations` and
/// `cache.entries`, labelled with the cache's name.
#[derive(Debug)]
pub(crate) struct CacheSeries {
    hits: Counter,
    misses: Counter,
    evictions: Counter,
    expirations: Counter,
    entries: Gauge,
    published: CacheCounters,
}

impl CacheSeries {
    pub(crate) fn new(registry: &StatsRegistry, name: &str) -> Self {
        let labels = [("cache", name)];
        CacheSeries {
            hits: registry.counter("cache.hits", &labels),
            misses: registry.counter("cache.misses", &labels),
            evictions: registry.counter("cache.evictions", &labels),
            expirations: registry.counter("cache.expirations", &labels),
            entries: registry.gauge("cache.entries", &labels),
            published: CacheCounters::default(),
        }
    }

    /// Adds what changed since the last call.
    pub(crate) fn publish(&mut self, now: CacheCounters, entries: usize) {
        let last = self.published;
        self.hits.add(now.hits - last.hits);
        self.misses.add(now.misses - last.misses);
        self.evictions.add(now.evictions - last.evictions);
        self.expirations.add(now.expirations - last.expirations);
        self.entries.set(entries as i64);
        self.published = now;
    }
}
