//! [`LruStore`]: the `lru` crate's map with per-entry expiry and counters.

use std::borrow::Borrow;
use std::fmt;
use std::hash::Hash;
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use lru::LruCache;

use super::{CacheCounters, CacheStatsSnapshot};

/// A bounded least-recently-used map whose entries may expire.
///
/// When full, putting a new key evicts the least recently used entry. An entry put with a
/// time-to-live expires at `now + ttl`: from that instant on it is treated as absent, and it is
/// dropped (and counted as an expiration) the next time a method taking `now` meets it. Expired
/// entries nobody asks for keep their place until evicted or swept by
/// [`remove_expired`](Self::remove_expired), so [`len`](Self::len) counts them.
///
/// Nothing here reads a clock: every method that can see expiry takes `now`.
pub struct LruStore<K, V> {
    entries: LruCache<K, Entry<V>>,
    /// Used by `put` when it is given no time-to-live.
    default_ttl: Option<Duration>,
    counters: CacheCounters,
}

/// A value and the instant it stops being served (`None`: never).
struct Entry<V> {
    value: V,
    expires_at: Option<Instant>,
}

impl<V> Entry<V> {
    fn is_expired(&self, now: Instant) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }
}

impl<K: Hash + Eq, V> LruStore<K, V> {
    /// An empty store of at most `capacity` entries; `put` without a time-to-live uses
    /// `default_ttl` (`None`: entries never expire).
    pub fn new(capacity: NonZeroUsize, default_ttl: Option<Duration>) -> Self {
        LruStore {
            entries: LruCache::new(capacity),
            default_ttl,
            counters: CacheCounters::default(),
        }
    }

    /// The live value of `key`, which becomes the most recently used entry. Counts a hit or a
    /// miss; an expired entry is dropped and counts as a miss and an expiration.
    pub fn get<Q>(&mut self, key: &Q, now: Instant) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        match self.entries.peek(key).map(|entry| entry.is_expired(now)) {
            Some(false) => {
                self.counters.hits += 1;
                self.entries.get(key).map(|entry| &entry.value)
            }
            Some(true) => {
                self.entries.pop(key);
                self.counters.misses += 1;
                self.counters.expirations += 1;
                None
            }
            None => {
                self.counters.misses += 1;
                None
            }
        }
    }

    /// The live value of `key`, without making it recently used and without counting.
    pub fn peek<Q>(&self, key: &Q, now: Instant) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.entries
            .peek(key)
            .filter(|entry| !entry.is_expired(now))
            .map(|entry| &entry.value)
    }

    /// Stores `value` under `key` as the most recently used entry, expiring after `ttl` (`None`:
    /// the store's default). Returns the value it replaces if that was still live. A new key in
    /// a full store evicts the least recently used entry (counted as an eviction, or as an
    /// expiration if that entry had expired).
    pub fn put(&mut self, key: K, value: V, ttl: Option<Duration>, now: Instant) -> Option<V> {
        let entry = Entry {
            value,
            // An instant too far away to represent is as good as never.
            expires_at: ttl
                .or(self.default_ttl)
                .and_then(|ttl| now.checked_add(ttl)),
        };
        if self.entries.contains(&key) {
            let old = self.entries.put(key, entry)?;
            return self.live_or_count(old, now);
        }
        if let Some((_, pushed_out)) = self.entries.push(key, entry) {
            if pushed_out.is_expired(now) {
                self.counters.expirations += 1;
            } else {
                self.counters.evictions += 1;
            }
        }
        None
    }

    /// Removes `key`, returning its value if it was still live (an expired one counts as an
    /// expiration).
    pub fn pop<Q>(&mut self, key: &Q, now: Instant) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let old = self.entries.pop(key)?;
        self.live_or_count(old, now)
    }

    /// Drops every entry expired at `now` and returns how many (each counts as an expiration).
    /// This walks the whole store; the other methods only look at the entries they touch.
    pub fn remove_expired(&mut self, now: Instant) -> usize {
        let before = self.entries.len();
        self.entries.retain(|_, entry| !entry.is_expired(now));
        let removed = before - self.entries.len();
        self.counters.expirations += removed as u64;
        removed
    }

    /// Entries held, counting expired ones not yet noticed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the store holds no entry at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The most entries the store holds.
    pub fn capacity(&self) -> NonZeroUsize {
        self.entries.cap()
    }

    /// The time-to-live of entries put without one.
    pub fn default_ttl(&self) -> Option<Duration> {
        self.default_ttl
    }

    /// Drops every entry (not counted: the counters keep their totals).
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Hits, misses, evictions and expirations so far.
    pub fn counters(&self) -> CacheCounters {
        self.counters
    }

    /// The counters with the current length and the capacity.
    pub fn stats(&self) -> CacheStatsSnapshot {
        CacheStatsSnapshot {
            counters: self.counters,
            len: self.len(),
            capacity: self.capacity().get(),
        }
    }

    /// `entry`'s value if it is live at `now`; otherwise counts an expiration.
    fn live_or_count(&mut self, entry: Entry<V>, now: Instant) -> Option<V> {
        if entry.is_expired(now) {
            self.counters.expirations += 1;
            None
        } else {
            Some(entry.value)
        }
    }
}

// By hand, so that keys and values need not be `Debug`.
impl<K: Hash + Eq, V> fmt::Debug for LruStore<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LruStore")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("default_ttl", &self.default_ttl)
            .field("counters", &self.counters)
            .finish()
    }
}
