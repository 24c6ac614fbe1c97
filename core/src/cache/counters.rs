//! What a cache counts, and the snapshot a cache reports.

use serde::{Deserialize, Serialize};

/// Totals over a store's life (clearing the store keeps them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheCounters {
    /// Lookups (`get`) that found a live entry.
    pub hits: u64,
    /// Lookups (`get`) that found nothing or an expired entry.
    pub misses: u64,
    /// Live entries pushed out to make room for a new key.
    pub evictions: u64,
    /// Entries found expired and dropped (by `get`, `put`, `pop` or
    /// [`remove_expired`](super::LruStore::remove_expired)).
    pub expirations: u64,
}

impl CacheCounters {
    /// The share of lookups that hit, from 0.0 to 1.0 (0.0 before any lookup).
    pub fn hit_ratio(&self) -> f64 {
        let lookups = self.hits + self.misses;
        if lookups == 0 {
            0.0
        } else {
            self.hits as f64 / lookups as f64
        }
    }
}

/// A cache's counters with its size, as one value to report (a stats route can answer with it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheStatsSnapshot {
    /// Totals so far.
    pub counters: CacheCounters,
    /// Entries held, counting expired ones not yet noticed.
    pub len: usize,
    /// The most entries the cache holds.
    pub capacity: usize,
}
