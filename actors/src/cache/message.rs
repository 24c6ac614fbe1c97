//! The messages a cache actor takes, one per operation on its store.
//!
//! The [`Cache`](super::Cache) handle sends these for you; they are public so that other actors
//! can hold an `Addr<CacheActor<K, V>>` or a `Recipient` and send them directly. Messages that
//! carry no value name the value type `V` anyway (actix needs it to type the reply), so build
//! them with `new`.

use std::marker::PhantomData;
use std::time::Duration;

use actix::Message;
use hubwire_core::cache::CacheStatsSnapshot;

/// Looks up `key`, making it recently used: the live value or `None`. Counts a hit or a miss.
#[derive(Debug)]
pub struct CacheGet<K, V> {
    /// The key to look up.
    pub key: K,
    _value: PhantomData<fn() -> V>,
}

/// Looks at `key` without making it recently used or counting: the live value or `None`.
#[derive(Debug)]
pub struct CachePeek<K, V> {
    /// The key to look at.
    pub key: K,
    _value: PhantomData<fn() -> V>,
}

/// Stores `value` under `key`, answering with the live value it replaces.
#[derive(Debug)]
pub struct CachePut<K, V> {
    /// The key.
    pub key: K,
    /// The value to keep.
    pub value: V,
    /// How long the value is served (`None`: the cache's default).
    pub ttl: Option<Duration>,
}

/// Removes `key`, answering with its live value.
#[derive(Debug)]
pub struct CachePop<K, V> {
    /// The key to remove.
    pub key: K,
    _value: PhantomData<fn() -> V>,
}

/// Asks for the counters, length and capacity.
#[derive(Debug, Clone, Copy, Default)]
pub struct CacheStats;

impl<K, V> CacheGet<K, V> {
    /// A lookup of `key`.
    pub fn new(key: K) -> Self {
        CacheGet {
            key,
            _value: PhantomData,
        }
    }
}

impl<K, V> CachePeek<K, V> {
    /// A look at `key`.
    pub fn new(key: K) -> Self {
        CachePeek {
            key,
            _value: PhantomData,
        }
    }
}

impl<K, V> CachePop<K, V> {
    /// A removal of `key`.
    pub fn new(key: K) -> Self {
        CachePop {
            key,
            _value: PhantomData,
        }
    }
}

impl<K: 'static, V: 'static> Message for CacheGet<K, V> {
    type Result = Option<V>;
}

impl<K: 'static, V: 'static> Message for CachePeek<K, V> {
    type Result = Option<V>;
}

impl<K: 'static, V: 'static> Message for CachePut<K, V> {
    type Result = Option<V>;
}

impl<K: 'static, V: 'static> Message for CachePop<K, V> {
    type Result = Option<V>;
}

impl Message for CacheStats {
    type Result = CacheStatsSnapshot;
}
