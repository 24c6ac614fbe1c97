//! `LruStore`: recency, eviction, expiry and counters by example, then against a model.

use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;

fn store(capacity: usize, default_ttl: Option<Duration>) -> LruStore<&'static str, u32> {
    LruStore::new(NonZeroUsize::new(capacity).unwrap(), default_ttl)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[test]
fn a_get_makes_an_entry_recent_so_the_other_one_is_evicted() {
    let now = Instant::now();
    let mut store = store(2, None);
    store.put("a", 1, None, now);
    store.put("b", 2, None, now);
    assert_eq!(store.get("a", now), Some(&1));
    assert_eq!(store.put("c", 3, None, now), None);
    assert_eq!(store.peek("b", now), None);
    assert_eq!(store.peek("a", now), Some(&1));
    assert_eq!(store.peek("c", now), Some(&3));
    assert_eq!(store.len(), 2);
    assert_eq!(store.counters().evictions, 1);
}

#[test]
fn a_peek_neither_makes_recent_nor_counts() {
    let now = Instant::now();
    let mut store = store(2, None);
    store.put("a", 1, None, now);
    store.put("b", 2, None, now);
    assert_eq!(store.peek("a", now), Some(&1));
    assert_eq!(store.peek("zz", now), None);
    store.put("c", 3, None, now);
    assert_eq!(store.peek("a", now), None, "a stayed least recently used");
    assert_eq!(
        store.counters(),
        CacheCounters {
            evictions: 1,
            ..Default::default()
        }
    );
}

#[test]
fn a_put_returns_the_live_value_it_replaces_and_makes_the_key_recent() {
    let now = Instant::now();
    let mut store = store(2, None);
    assert_eq!(store.put("a", 1, None, now), None);
    store.put("b", 2, None, now);
    assert_eq!(store.put("a", 10, None, now), Some(1));
    store.put("c", 3, None, now);
    assert_eq!(store.peek("a", now), Some(&10));
    assert_eq!(store.peek("b", now), None);
}

#[test]
fn an_entry_expires_at_exactly_its_deadline() {
    let start = Instant::now();
    let mut store = store(4, None);
    store.put("a", 1, Some(secs(10)), start);
    assert_eq!(
        store.get("a", start + secs(10) - Duration::from_nanos(1)),
        Some(&1)
    );
    assert_eq!(store.peek("a", start + secs(10)), None);
    assert_eq!(store.len(), 1, "peek does not remove");
    assert_eq!(store.get("a", start + secs(10)), None);
    assert_eq!(store.len(), 0, "get removes what it finds expired");
    let counters = store.counters();
    assert_eq!(
        (counters.hits, counters.misses, counters.expirations),
        (1, 1, 1)
    );
}

#[test]
fn put_without_a_ttl_uses_the_default_and_an_explicit_ttl_overrides_it() {
    let start = Instant::now();
    let mut store = store(4, Some(secs(5)));
    store.put("default", 1, None, start);
    store.put("longer", 2, Some(secs(60)), start);
    let later = start + secs(30);
    assert_eq!(store.get("default", later), None);
    assert_eq!(store.get("longer", later), Some(&2));
}

#[test]
fn without_any_ttl_entries_never_expire() {
    let start = Instant::now();
    let mut store = store(4, None);
    store.put("a", 1, None, start);
    // A ttl past what an Instant can hold is as good as never.
    store.put("b", 2, Some(Duration::MAX), start);
    let much_later = start + secs(100 * 365 * 24 * 3600);
    assert_eq!(store.get("a", much_later), Some(&1));
    assert_eq!(store.get("b", much_later), Some(&2));
}

#[test]
fn replacing_or_popping_an_expired_entry_gives_nothing_back_and_counts_an_expiration() {
    let start = Instant::now();
    let later = start + secs(2);
    let mut store = store(4, None);
    store.put("a", 1, Some(secs(1)), start);
    store.put("b", 2, Some(secs(1)), start);
    assert_eq!(store.put("a", 10, None, later), None);
    assert_eq!(store.pop("b", later), None);
    assert_eq!(store.pop("a", later), Some(10));
    assert_eq!(store.pop("a", later), None);
    assert_eq!(store.counters().expirations, 2);
    assert!(store.is_empty());
}

#[test]
fn pushing_out_an_expired_entry_counts_an_expiration_not_an_eviction() {
    let start = Instant::now();
    let mut store = store(1, None);
    store.put("a", 1, Some(secs(1)), start);
    store.put("b", 2, None, start + secs(2));
    store.put("c", 3, None, start + secs(2));
    let counters = store.counters();
    assert_eq!((counters.expirations, counters.evictions), (1, 1));
}

#[test]
fn remove_expired_sweeps_only_what_has_expired() {
    let start = Instant::now();
    let mut store = store(4, None);
    store.put("short", 1, Some(secs(1)), start);
    store.put("long", 2, Some(secs(100)), start);
    store.put("forever", 3, None, start);
    assert_eq!(store.remove_expired(start + secs(50)), 1);
    assert_eq!(store.len(), 2);
    assert_eq!(store.counters().expirations, 1);
}

#[test]
fn clear_drops_entries_and_keeps_the_counters() {
    let now = Instant::now();
    let mut store = store(2, None);
    store.put("a", 1, None, now);
    store.get("a", now);
    store.clear();
    assert!(store.is_empty());
    assert_eq!(store.capacity().get(), 2);
    assert_eq!(store.counters().hits, 1);
    assert_eq!(store.get("a", now), None);
}

#[test]
fn stats_report_counters_len_and_capacity_and_serialize_by_name() {
    let now = Instant::now();
    let mut store = store(3, None);
    store.put("a", 1, None, now);
    store.get("a", now);
    store.get("b", now);
    let stats = store.stats();
    assert_eq!((stats.len, stats.capacity), (1, 3));
    assert!((stats.counters.hit_ratio() - 0.5).abs() < f64::EPSILON);
    let json = serde_json::to_value(stats).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "counters": {"hits": 1, "misses": 1, "evictions": 0, "expirations": 0},
            "len": 1,
            "capacity": 3,
        })
    );
}

// ---- against a model ----

/// One call on the store; times are milliseconds since the start.
#[derive(Debug, Clone)]
enum Op {
    Get(u8),
    Peek(u8),
    Put(u8, u32, Option<u64>),
    Pop(u8),
    RemoveExpired,
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0u8..8;
    let ttl = proptest::option::of(1u64..50);
    prop_oneof![
        3 => key.clone().prop_map(Op::Get),
        1 => key.clone().prop_map(Op::Peek),
        3 => (key.clone(), any::<u32>(), ttl).prop_map(|(k, v, t)| Op::Put(k, v, t)),
        1 => key.prop_map(Op::Pop),
        1 => Just(Op::RemoveExpired),
        2 => (0u64..20).prop_map(Op::Advance),
    ]
}

/// The obvious LRU: a Vec from least to most recently used, scanned on every call.
struct Model {
    capacity: usize,
    default_ttl: Option<u64>,
    /// (key, value, expires at in ms)
    entries: Vec<(u8, u32, Option<u64>)>,
    counters: CacheCounters,
}

impl Model {
    fn expired(entry: &(u8, u32, Option<u64>), now: u64) -> bool {
        entry.2.is_some_and(|at| now >= at)
    }

    fn position(&self, key: u8) -> Option<usize> {
        self.entries.iter().position(|e| e.0 == key)
    }

    fn take_live(&mut self, at: usize, now: u64) -> Option<u32> {
        let entry = self.entries.remove(at);
        if Self::expired(&entry, now) {
            self.counters.expirations += 1;
            None
        } else {
            Some(entry.1)
        }
    }

    fn get(&mut self, key: u8, now: u64) -> Option<u32> {
        let Some(at) = self.position(key) else {
            self.counters.misses += 1;
            return None;
        };
        let entry = self.entries.remove(at);
        if Self::expired(&entry, now) {
            self.counters.misses += 1;
            self.counters.expirations += 1;
            return None;
        }
        self.counters.hits += 1;
        self.entries.push(entry);
        Some(entry.1)
    }

    fn peek(&self, key: u8, now: u64) -> Option<u32> {
        let entry = self.entries[self.position(key)?];
        (!Self::expired(&entry, now)).then_some(entry.1)
    }

    fn put(&mut self, key: u8, value: u32, ttl: Option<u64>, now: u64) -> Option<u32> {
        let expires_at = ttl.or(self.default_ttl).map(|ttl| now + ttl);
        let old = match self.position(key) {
            Some(at) => self.take_live(at, now),
            None => {
                if self.entries.len() == self.capacity {
                    let pushed_out = self.entries.remove(0);
                    if Self::expired(&pushed_out, now) {
                        self.counters.expirations += 1;
                    } else {
                        self.counters.evictions += 1;
                    }
                }
                None
            }
        };
        self.entries.push((key, value, expires_at));
        old
    }

    fn pop(&mut self, key: u8, now: u64) -> Option<u32> {
        let at = self.position(key)?;
        self.take_live(at, now)
    }

    fn remove_expired(&mut self, now: u64) -> usize {
        let before = self.entries.len();
        self.entries.retain(|e| !Self::expired(e, now));
        let removed = before - self.entries.len();
        self.counters.expirations += removed as u64;
        removed
    }
}

proptest! {
    #[test]
    fn the_store_behaves_like_the_model(
        capacity in 1usize..=5,
        default_ttl in proptest::option::of(1u64..50),
        ops in proptest::collection::vec(op(), 0..200),
    ) {
        let start = Instant::now();
        let ms = Duration::from_millis;
        let capacity_nz = NonZeroUsize::new(capacity).unwrap();
        let mut store = LruStore::new(capacity_nz, default_ttl.map(ms));
        let mut model = Model {
            capacity,
            default_ttl,
            entries: Vec::new(),
            counters: CacheCounters::default(),
        };
        let mut now = 0u64;
        for op in ops {
            let at = start + ms(now);
            match op {
                Op::Get(k) => {
                    prop_assert_eq!(store.get(&k, at).copied(), model.get(k, now), "{:?}", op)
                }
                Op::Peek(k) => {
                    prop_assert_eq!(store.peek(&k, at).copied(), model.peek(k, now), "{:?}", op)
                }
                Op::Put(k, v, t) => {
                    let expected = model.put(k, v, t, now);
                    prop_assert_eq!(store.put(k, v, t.map(ms), at), expected, "{:?}", op)
                }
                Op::Pop(k) => prop_assert_eq!(store.pop(&k, at), model.pop(k, now), "{:?}", op),
                Op::RemoveExpired => {
                    prop_assert_eq!(store.remove_expired(at), model.remove_expired(now))
                }
                Op::Advance(d) => now += d,
            }
            prop_assert_eq!(store.len(), model.entries.len());
            prop_assert_eq!(store.counters(), model.counters);
        }
    }
}
