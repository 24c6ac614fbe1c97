//! Guards the shared LRU cache actor: get/put/peek/pop semantics, eviction of the least recently
//! used entry at capacity, expiry on an injected clock (no sleeping), the counters, a typed error
//! once the actor is gone, and a served route whose handler answers repeats from the cache.

mod support;

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hubwire::prelude::*;
use hubwire_actors::cache::{Cache, CacheActor, CacheCounters, CacheError, ManualClock};
use support::*;

fn capacity(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap()
}

/// put answers with the value it replaces, get and peek with the live value, pop removes it.
#[actix::test]
async fn put_get_peek_and_pop_follow_the_map_contract() {
    let cache = Cache::<&'static str, u32>::start(capacity(4), None);
    assert_eq!(cache.put("a", 1, None).await.unwrap(), None);
    assert_eq!(cache.put("a", 2, None).await.unwrap(), Some(1));
    assert_eq!(cache.get("a").await.unwrap(), Some(2));
    assert_eq!(cache.peek("a").await.unwrap(), Some(2));
    assert_eq!(cache.pop("a").await.unwrap(), Some(2));
    assert_eq!(cache.pop("a").await.unwrap(), None);
    assert_eq!(cache.get("a").await.unwrap(), None);
    assert_eq!(cache.peek("never").await.unwrap(), None);
    let stats = cache.stats().await.unwrap();
    assert_eq!((stats.len, stats.capacity), (0, 4));
    // peek counted nothing: one hit, one miss.
    assert_eq!((stats.counters.hits, stats.counters.misses), (1, 1));
}

/// At capacity a new key evicts the least recently used entry; get refreshes an entry, peek
/// does not.
#[actix::test]
async fn the_least_recently_used_entry_is_evicted_at_capacity() {
    let cache = Cache::<u32, &'static str>::start(capacity(2), None);
    cache.put(1, "one", None).await.unwrap();
    cache.put(2, "two", None).await.unwrap();
    assert_eq!(cache.get(1).await.unwrap(), Some("one"));
    cache.put(3, "three", None).await.unwrap();
    assert_eq!(
        cache.peek(2).await.unwrap(),
        None,
        "2 was least recently used"
    );
    assert_eq!(cache.peek(1).await.unwrap(), Some("one"));
    // peek did not refresh 1, and 3 is newer than 1: 1 goes next.
    cache.put(4, "four", None).await.unwrap();
    assert_eq!(cache.peek(1).await.unwrap(), None);
    assert_eq!(cache.peek(3).await.unwrap(), Some("three"));
    let stats = cache.stats().await.unwrap();
    assert_eq!((stats.len, stats.counters.evictions), (2, 2));
}

/// Entries expire on the cache's clock, here a manual one: no sleeping.
#[actix::test]
async fn entries_expire_on_the_injected_clock() {
    let clock = ManualClock::new();
    let default_ttl = Some(Duration::from_secs(10));
    let cache =
        Cache::<&'static str, u32>::start_with_clock(capacity(4), default_ttl, clock.clone());
    cache.put("default", 1, None).await.unwrap();
    cache
        .put("long", 2, Some(Duration::from_secs(60)))
        .await
        .unwrap();
    cache
        .put("short", 3, Some(Duration::from_secs(1)))
        .await
        .unwrap();

    clock.advance(Duration::from_secs(9));
    assert_eq!(cache.get("default").await.unwrap(), Some(1));
    assert_eq!(
        cache.peek("short").await.unwrap(),
        None,
        "short expired at 1 s"
    );
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        cache.get("default").await.unwrap(),
        None,
        "expired at exactly 10 s"
    );
    assert_eq!(cache.get("long").await.unwrap(), Some(2));
    assert_eq!(
        cache.pop("short").await.unwrap(),
        None,
        "an expired value is not handed out"
    );

    clock.advance(Duration::from_secs(50));
    assert_eq!(cache.get("long").await.unwrap(), None);
    let stats = cache.stats().await.unwrap();
    assert_eq!(stats.len, 0);
    assert_eq!(stats.counters.expirations, 3);
}

/// The counters add up hits, misses, evictions and expirations exactly.
#[actix::test]
async fn the_counters_count_every_kind_of_outcome() {
    let clock = ManualClock::new();
    let cache = Cache::<u32, u32>::start_with_clock(capacity(2), None, clock.clone());
    cache
        .put(1, 10, Some(Duration::from_secs(5)))
        .await
        .unwrap();
    cache.get(1).await.unwrap(); // hit
    cache.get(9).await.unwrap(); // miss
    cache.put(2, 20, None).await.unwrap();
    cache.put(3, 30, None).await.unwrap(); // evicts 1 while live
    cache
        .put(4, 40, Some(Duration::from_secs(1)))
        .await
        .unwrap(); // evicts 2
    clock.advance(Duration::from_secs(2));
    cache.get(4).await.unwrap(); // miss and expiration
    cache.peek(3).await.unwrap(); // counts nothing
    let stats = cache.stats().await.unwrap();
    assert_eq!(
        stats.counters,
        CacheCounters {
            hits: 1,
            misses: 2,
            evictions: 2,
            expirations: 1,
        }
    );
    assert_eq!((stats.len, stats.capacity), (1, 2));
}

/// Clones of a handle reach the same cache, from any thread.
#[actix::test]
async fn clones_of_a_handle_share_one_cache_across_threads() {
    let cache = Cache::<u32, u32>::start(capacity(8), None);
    let elsewhere = cache.clone();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    // The cache answers on this test's thread, so wait for the other thread without blocking.
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let _ = done_tx.send(runtime.block_on(elsewhere.put(1, 100, None)).unwrap());
    });
    let replaced = recv_or_fail("the other thread's put", done_rx)
        .await
        .unwrap();
    assert_eq!(replaced, None);
    assert_eq!(cache.get(1).await.unwrap(), Some(100));
}

/// A call to a cache whose arbiter has stopped is a typed error that says what to do.
#[actix::test]
async fn a_cache_whose_arbiter_stopped_answers_unreachable() {
    let arbiter = actix::Arbiter::new();
    let addr = CacheActor::start_in_arbiter(&arbiter.handle(), |_| {
        CacheActor::<u32, u32>::new(capacity(1), None)
    });
    let cache = Cache::from(addr);
    assert_eq!(cache.put(1, 1, None).await.unwrap(), None);
    arbiter.stop();
    arbiter.join().unwrap();
    let err = cache.get(1).await.unwrap_err();
    assert!(matches!(err, CacheError::Unreachable(_)), "{err:?}");
    assert!(err.to_string().contains("start a new Cache"), "{err}");
}

// ---- a served route whose handler caches its replies ----

route!(
    /// Answers with a fortune for the seed; every computed answer carries a new serial number,
    /// so an answer that stays the same came from the cache.
    Fortune = "test.fortune", u64 => String
);

struct FortuneTeller {
    cache: Cache<u64, String>,
    computed: Arc<AtomicU64>,
}

impl Actor for FortuneTeller {
    type Context = Context<Self>;
}

impl Serve<Fortune> for FortuneTeller {
    fn serve(&mut self, seed: u64, _: &mut Context<Self>) -> Reply<String> {
        let cached = self.cache.get(seed);
        let cache = self.cache.clone();
        let computed = self.computed.clone();
        Reply::later(async move {
            if let Some(fortune) = cached.await? {
                return Ok(fortune);
            }
            let serial = computed.fetch_add(1, Ordering::SeqCst) + 1;
            let fortune = format!("fortune #{serial} for seed {seed}");
            cache.put(seed, fortune.clone(), None).await?;
            Ok(fortune)
        })
    }
}

serve!(FortuneTeller: Fortune);

/// Repeated calls over the network are answered from the cache: the answer stays the same, the
/// work is done once, and the cache counts the hits.
#[actix::test]
async fn a_served_route_answers_repeats_from_the_cache() {
    // The cache lives on the test's actix system; the server's handlers, on its own threads,
    // reach it through clones of the handle.
    let cache = Cache::<u64, String>::start(capacity(16), None);
    let computed = Arc::new(AtomicU64::new(0));
    let server = {
        let (cache, computed) = (cache.clone(), computed.clone());
        TestServer::start(loopback_config(), move |b| {
            b.route_pool(Fortune, 2, move || FortuneTeller {
                cache: cache.clone(),
                computed: computed.clone(),
            })
        })
        .expect("server starts")
    };
    let client = Client::new(server.tcp());

    let first = recv_or_fail("first call", client.call::<Fortune>(&7))
        .await
        .unwrap();
    for _ in 0..3 {
        let again = recv_or_fail("repeat call", client.call::<Fortune>(&7))
            .await
            .unwrap();
        assert_eq!(again, first);
    }
    let other = recv_or_fail("other seed", client.call::<Fortune>(&8))
        .await
        .unwrap();
    assert_ne!(other, first);

    assert_eq!(computed.load(Ordering::SeqCst), 2, "computed once per seed");
    let stats = cache.stats().await.unwrap();
    assert_eq!((stats.counters.hits, stats.counters.misses), (3, 2));
    assert_eq!(stats.len, 2);
    assert_eq!(server.stats("test.fortune").succeeded, 5);
}

/// A cache started with a registry shows its hits, misses, evictions and entries in the stats
/// (what `hubwire.stats` reports).
#[actix::test]
async fn cache_counters_appear_in_the_stats_registry() {
    let registry = hubwire::stats::StatsRegistry::new();
    let cache = Cache::<u64, u64>::start_with_stats(&registry, "squares", capacity(2), None);
    cache.put(1, 1, None).await.unwrap();
    cache.put(2, 4, None).await.unwrap();
    cache.put(3, 9, None).await.unwrap(); // evicts 1
    assert_eq!(cache.get(1).await.unwrap(), None);
    assert_eq!(cache.get(3).await.unwrap(), Some(9));
    assert_eq!(cache.get(3).await.unwrap(), Some(9));
    let snapshot = registry.snapshot();
    let labels = [("cache", "squares")];
    assert_eq!(snapshot.counter("cache.hits", &labels), Some(2));
    assert_eq!(snapshot.counter("cache.misses", &labels), Some(1));
    assert_eq!(snapshot.counter("cache.evictions", &labels), Some(1));
    assert_eq!(snapshot.gauge("cache.entries", &labels), Some(2));
}
