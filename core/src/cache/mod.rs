//! A bounded least-recently-used map with optional expiry, and the counters it keeps.
//!
//! [`LruStore`] is plain code on the `lru` crate: it never reads a clock. Every method that can
//! see expiry takes `now: Instant`, so tests (and the `hubwire-actors` cache actor, which owns a
//! store and reads an injectable clock) decide what time it is.
//!
//! ```
//! use std::num::NonZeroUsize;
//! use std::time::{Duration, Instant};
//! use hubwire_core::cache::LruStore;
//!
//! let capacity = NonZeroUsize::new(2).unwrap();
//! let mut store = LruStore::new(capacity, Some(Duration::from_secs(60)));
//! let start = Instant::now();
//!
//! store.put("a", 1, None, start); // lives for the default 60 s
//! store.put("b", 2, Some(Duration::from_secs(5)), start);
//! assert_eq!(store.get(&"a", start), Some(&1)); // "a" is now the most recently used
//! store.put("c", 3, None, start); // full: "b", the least recently used, is evicted
//! assert_eq!(store.get(&"b", start), None);
//!
//! let later = start + Duration::from_secs(61);
//! assert_eq!(store.get(&"a", later), None); // expired, removed
//! let counters = store.counters();
//! assert_eq!((counters.hits, counters.misses), (1, 2));
//! assert_eq!((counters.evictions, counters.expirations), (1, 1));
//! ```

mod counters;
mod store;
#[cfg(test)]
mod store_tests;

pub use counters::{CacheCounters, CacheStatsSnapshot};
pub use store::LruStore;
