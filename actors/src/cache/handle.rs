//! [`Cache`]: the typed handle that handlers hold and clone.

use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::num::NonZeroUsize;
use std::time::Duration;

use actix::{Actor, Addr};
use hubwire_core::cache::CacheStatsSnapshot;

use super::{CacheActor, CacheError, CacheGet, CachePeek, CachePop, CachePut, CacheStats, Clock};

/// A shared LRU cache: a cheap, cloneable handle to one [`CacheActor`].
///
/// Each method sends its message when called (so calls made one after another reach the cache
/// in that order) and returns a `'static` future of the answer, which a handler can await
/// inside `Reply::later` without cloning the handle.
pub struct Cache<K, V>
where
    K: Hash + Eq + Send + 'static,
    V: Clone + Send + 'static,
{
    actor: Addr<CacheActor<K, V>>,
}

impl<K, V> Cache<K, V>
where
    K: Hash + Eq + Send + 'static,
    V: Clone + Send + 'static,
{
    /// Starts a cache of at most `capacity` entries on the current arbiter, on the system clock;
    /// values put without a time-to-live expire after `default_ttl` (`None`: never). Must be
    /// called inside a running actix system.
    pub fn start(capacity: NonZeroUsize, default_ttl: Option<Duration>) -> Self {
        CacheActor::new(capacity, default_ttl).start().into()
    }

    /// As [`start`](Self::start), with hits, misses, evictions, expirations and entries
    /// mirrored into `registry` as `cache.*` series labelled `cache = name` (so `hubwire.stats`
    /// shows them).
    pub fn start_with_stats(
        registry: &hubwire_core::stats::StatsRegistry,
        name: &str,
        capacity: NonZeroUsize,
        default_ttl: Option<Duration>,
    ) -> Self {
        CacheActor::new(capacity, default_ttl)
            .with_stats(registry, name)
            .start()
            .into()
    }

    /// As [`start`](Self::start), reading the time from `clock` (a
    /// [`ManualClock`](super::ManualClock) in tests).
    pub fn start_with_clock(
        capacity: NonZeroUsize,
        default_ttl: Option<Duration>,
        clock: impl Clock,
    ) -> Self {
        CacheActor::with_clock(capacity, default_ttl, clock)
            .start()
            .into()
    }

    /// The live value of `key`, which becomes the most recently used (counts a hit or a miss).
    pub fn get(&self, key: K) -> impl Future<Output = Result<Option<V>, CacheError>> + 'static {
        let request = self.actor.send(CacheGet::new(key));
        async move { Ok(request.await?) }
    }

    /// The live value of `key`, without making it recently used or counting.
    pub fn peek(&self, key: K) -> impl Future<Output = Result<Option<V>, CacheError>> + 'static {
        let request = self.actor.send(CachePeek::new(key));
        async move { Ok(request.await?) }
    }

    /// Stores `value` under `key` for `ttl` (`None`: the cache's default); answers with the live
    /// value it replaces.
    pub fn put(
        &self,
        key: K,
        value: V,
        ttl: Option<Duration>,
    ) -> impl Future<Output = Result<Option<V>, CacheError>> + 'static {
        let request = self.actor.send(CachePut { key, value, ttl });
        async move { Ok(request.await?) }
    }

    /// Removes `key`; answers with its live value.
    pub fn pop(&self, key: K) -> impl Future<Output = Result<Option<V>, CacheError>> + 'static {
        let request = self.actor.send(CachePop::new(key));
        async move { Ok(request.await?) }
    }

    /// Hits, misses, evictions, expirations, length and capacity.
    pub fn stats(&self) -> impl Future<Output = Result<CacheStatsSnapshot, CacheError>> + 'static {
        let request = self.actor.send(CacheStats);
        async move { Ok(request.await?) }
    }

    /// The actor's address, to send it messages directly.
    pub fn addr(&self) -> &Addr<CacheActor<K, V>> {
        &self.actor
    }
}

/// A handle to a cache actor started some other way (on another arbiter, say).
impl<K, V> From<Addr<CacheActor<K, V>>> for Cache<K, V>
where
    K: Hash + Eq + Send + 'static,
    V: Clone + Send + 'static,
{
    fn from(actor: Addr<CacheActor<K, V>>) -> Self {
        Cache { actor }
    }
}

// By hand, so that keys need not be `Clone` nor either type `Debug`.
impl<K, V> Clone for Cache<K, V>
where
    K: Hash + Eq + Send + 'static,
    V: Clone + Send + 'static,
{
    fn clone(&self) -> Self {
        Cache {
            actor: self.actor.clone(),
        }
    }
}

impl<K, V> fmt::Debug for Cache<K, V>
where
    K: Hash + Eq + Send + 'static,
    V: Clone + Send + 'static,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache")
            .field("connected", &self.actor.connected())
            .finish()
    }
}
