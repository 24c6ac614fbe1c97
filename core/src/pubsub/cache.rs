//! [`MatchCache`]: recent match results, kept for one version of the trie.

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Instant;

use crate::cache::{CacheCounters, CacheStatsSnapshot, LruStore};

use super::{Channel, TrieSnapshot};

/// How many channels a [`MatchCache`] remembers unless told otherwise.
pub const DEFAULT_MATCH_CACHE_ENTRIES: usize = 4096;

/// A bounded least-recently-used map from channel to its matched subscribers, valid for one
/// [`TrieSnapshot`] version at a time.
///
/// Each reader (a connection, or one per I/O thread) keeps its own cache, so a lookup takes no
/// lock. Every lookup names the snapshot it is for; when that is not the version the entries
/// were computed on, the cache drops them all first. It compares versions by identity
/// ([`TrieSnapshot::same_version`]) and keeps the snapshot it is valid for, so the identity
/// cannot be recycled under it and a result is never served for another version, nor for
/// another trie that happens to have the same generation number.
///
/// ```
/// use std::num::NonZeroUsize;
/// use hubwire_core::pubsub::{Channel, MatchCache, Pattern, SubscriptionTrie};
///
/// let mut trie = SubscriptionTrie::new();
/// trie.subscribe(&Pattern::parse("chat/*").unwrap(), 1_u64);
/// let mut cache = MatchCache::new(NonZeroUsize::new(100).unwrap());
/// let room = Channel::parse("chat/lobby").unwrap();
///
/// assert_eq!(&*cache.matches(&trie.snapshot(), &room), [1]); // a miss, computed
/// assert_eq!(&*cache.matches(&trie.snapshot(), &room), [1]); // a hit
/// trie.subscribe(&Pattern::parse("chat/lobby").unwrap(), 2);
/// assert_eq!(&*cache.matches(&trie.snapshot(), &room), [1, 2]); // new version: recomputed
/// let counters = cache.counters();
/// assert_eq!((counters.hits, counters.misses), (1, 2));
/// ```
pub struct MatchCache<S> {
    /// The version the entries were computed on. Holding it keeps its root alive, so no other
    /// version can be allocated at the same address and pass for it.
    version: Option<TrieSnapshot<S>>,
    /// Keyed by the channel's normal text, so a lookup borrows a `&str` and only a miss
    /// allocates a key.
    entries: LruStore<Box<str>, Arc<[S]>>,
    /// `LruStore` takes the time for expiry; these entries never expire, so any fixed instant
    /// serves and no clock is read per lookup.
    epoch: Instant,
    /// How many times a new version dropped the entries.
    invalidations: u64,
}

impl<S: Copy + Ord> MatchCache<S> {
    /// An empty cache of at most `capacity` channels.
    pub fn new(capacity: NonZeroUsize) -> Self {
        MatchCache {
            version: None,
            entries: LruStore::new(capacity, None),
            epoch: Instant::now(),
            invalidations: 0,
        }
    }

    /// The subscribers `snapshot` matches for `channel`, from the cache when this version
    /// already answered for this channel (a hit), else computed and remembered (a miss).
    pub fn matches(&mut self, snapshot: &TrieSnapshot<S>, channel: &Channel) -> Arc<[S]> {
        self.use_version(snapshot);
        if let Some(found) = self.entries.get(channel.as_str(), self.epoch) {
            return Arc::clone(found);
        }
        let found = snapshot.matches(channel);
        self.entries.put(
            channel.as_str().into(),
            Arc::clone(&found),
            None,
            self.epoch,
        );
        found
    }

    /// Drops the entries unless they were computed on `snapshot`'s version.
    fn use_version(&mut self, snapshot: &TrieSnapshot<S>) {
        if self
            .version
            .as_ref()
            .is_some_and(|version| version.same_version(snapshot))
        {
            return;
        }
        if !self.entries.is_empty() {
            self.entries.clear();
            self.invalidations += 1;
        }
        self.version = Some(snapshot.clone());
    }

    /// The generation of the version the entries belong to (`None` before the first lookup).
    pub fn generation(&self) -> Option<u64> {
        self.version.as_ref().map(TrieSnapshot::generation)
    }

    /// Hits and misses so far (evictions count channels pushed out to make room; nothing
    /// expires). Dropping entries for a new version keeps the totals.
    pub fn counters(&self) -> CacheCounters {
        self.entries.counters()
    }

    /// The counters with the current length and the capacity, as one value to report.
    pub fn stats(&self) -> CacheStatsSnapshot {
        self.entries.stats()
    }

    /// How many times a new trie version dropped cached entries.
    pub fn invalidations(&self) -> u64 {
        self.invalidations
    }

    /// How many channels are cached.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no channel is cached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Drops the entries and the version they belong to (the counters keep their totals).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.version = None;
    }
}

impl<S: Copy + Ord> Default for MatchCache<S> {
    /// A cache of [`DEFAULT_MATCH_CACHE_ENTRIES`] channels.
    fn default() -> Self {
        MatchCache::new(NonZeroUsize::new(DEFAULT_MATCH_CACHE_ENTRIES).expect("not zero"))
    }
}

impl<S> fmt::Debug for MatchCache<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MatchCache")
            .field("generation", &self.version.as_ref().map(|v| v.generation()))
            .field("entries", &self.entries)
            .field("invalidations", &self.invalidations)
            .finish()
    }
}
