//! [`CacheActor`]: owns an [`LruStore`] and turns each message into one call on it.

use std::fmt;
use std::hash::Hash;
use std::num::NonZeroUsize;
use std::time::Duration;

use actix::{Actor, Context, Handler, MessageResult};
use hubwire_core::cache::LruStore;
use hubwire_core::stats::StatsRegistry;

use super::series::CacheSeries;
use super::{CacheGet, CachePeek, CachePop, CachePut, CacheStats, Clock, SystemClock};

/// The actor behind a [`Cache`](super::Cache): one store, one clock, one message at a time.
///
/// Every handler that shares the cache sends it messages, so the store needs no lock and its
/// counters see every call.
pub struct CacheActor<K, V> {
    store: LruStore<K, V>,
    /// Read once per message; a test hands in a [`ManualClock`](super::ManualClock) so expiry is
    /// checked without sleeping.
    clock: Box<dyn Clock>,
    /// Where the counters are mirrored for `hubwire.stats`, if anywhere.
    series: Option<CacheSeries>,
}

impl<K: Hash + Eq, V> CacheActor<K, V> {
    /// A cache of at most `capacity` entries on the system clock; values put without a
    /// time-to-live expire after `default_ttl` (`None`: never).
    pub fn new(capacity: NonZeroUsize, default_ttl: Option<Duration>) -> Self {
        CacheActor::with_clock(capacity, default_ttl, SystemClock)
    }

    /// As [`new`](Self::new), reading the time from `clock`.
    pub fn with_clock(
        capacity: NonZeroUsize,
        default_ttl: Option<Duration>,
        clock: impl Clock,
    ) -> Self {
        CacheActor {
            store: LruStore::new(capacity, default_ttl),
            clock: Box::new(clock),
            series: None,
        }
    }

    /// Mirrors the counters into `registry` as `cache.*` series labelled `cache = name`.
    pub fn with_stats(mut self, registry: &StatsRegistry, name: &str) -> Self {
        self.series = Some(CacheSeries::new(registry, name));
        self
    }

    fn publish(&mut self) {
        if let Some(series) = &mut self.series {
            series.publish(self.store.counters(), self.store.len());
        }
    }
}

impl<K, V> Actor for CacheActor<K, V>
where
    K: Hash + Eq + Send + 'static,
    V: Clone + Send + 'static,
{
    type Context = Context<Self>;
}

impl<K, V> Handler<CacheGet<K, V>> for CacheActor<K, V>
where
    K: Hash + Eq + Send + 'static,
    V: Clone + Send + 'static,
{
    type Result = Option<V>;

    fn handle(&mut self, msg: CacheGet<K, V>, _: &mut Context<Self>) -> Option<V> {
        let value = self.store.get(&msg.key, self.clock.now()).cloned();
        self.publish();
        value
    }
}

impl<K, V> Handler<CachePeek<K, V>> for CacheActor<K, V>
where
    K: Hash + Eq + Send + 'static,
    V: Clone + Send + 'static,
{
    type Result = Option<V>;

    fn handle(&mut self, msg: CachePeek<K, V>, _: &mut Context<Self>) -> Option<V> {
        self.store.peek(&msg.key, self.clock.now()).cloned()
    }
}

impl<K, V> Handler<CachePut<K, V>> for CacheActor<K, V>
where
    K: Hash + Eq + Send + 'static,
    V: Clone + Send + 'static,
{
    type Result = Option<V>;

    fn handle(&mut self, msg: CachePut<K, V>, _: &mut Context<Self>) -> Option<V> {
        let now = self.clock.now();
        let old = self.store.put(msg.key, msg.value, msg.ttl, now);
        self.publish();
        old
    }
}

impl<K, V> Handler<CachePop<K, V>> for CacheActor<K, V>
where
    K: Hash + Eq + Send + 'static,
    V: Clone + Send + 'static,
{
    type Result = Option<V>;

    fn handle(&mut self, msg: CachePop<K, V>, _: &mut Context<Self>) -> Option<V> {
        let value = self.store.pop(&msg.key, self.clock.now());
        self.publish();
        value
    }
}

impl<K, V> Handler<CacheStats> for CacheActor<K, V>
where
    K: Hash + Eq + Send + 'static,
    V: Clone + Send + 'static,
{
    type Result = MessageResult<CacheStats>;

    fn handle(&mut self, _: CacheStats, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.store.stats())
    }
}

// By hand: the clock is a trait object, and keys and values need not be `Debug`.
impl<K: Hash + Eq, V> fmt::Debug for CacheActor<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheActor")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}
