//! The match cache counts hits and misses and never serves a result computed on another
//! version of the trie, or on another trie.

use super::*;

fn pattern(text: &str) -> Pattern {
    Pattern::parse(text).unwrap()
}

fn channel(text: &str) -> Channel {
    Channel::parse(text).unwrap()
}

#[test]
fn hits_and_misses_are_counted() {
    let mut trie = SubscriptionTrie::new();
    trie.subscribe(&pattern("a/*"), 1_u32);
    let snapshot = trie.snapshot();
    let mut cache = MatchCache::default();
    for text in ["a/b", "a/b", "a/c", "/a//b", "x"] {
        cache.matches(&snapshot, &channel(text));
    }
    let counters = cache.counters();
    assert_eq!((counters.hits, counters.misses), (2, 3));
    assert_eq!(cache.len(), 3);
    assert_eq!(cache.generation(), Some(1));
    assert_eq!(cache.stats().capacity, DEFAULT_MATCH_CACHE_ENTRIES);
}

#[test]
fn a_change_drops_the_entries() {
    let mut trie = SubscriptionTrie::new();
    trie.subscribe(&pattern("a/*"), 1_u32);
    let mut cache = MatchCache::default();
    let c = channel("a/b");
    assert_eq!(&*cache.matches(&trie.snapshot(), &c), [1]);
    trie.unsubscribe(&pattern("a/*"), 1);
    assert!(cache.matches(&trie.snapshot(), &c).is_empty());
    trie.subscribe(&pattern("**"), 2);
    assert_eq!(&*cache.matches(&trie.snapshot(), &c), [2]);
    assert_eq!(cache.invalidations(), 2);
    assert_eq!(cache.counters().hits, 0);
}

#[test]
fn a_no_op_keeps_the_entries() {
    let mut trie = SubscriptionTrie::new();
    trie.subscribe(&pattern("a/*"), 1_u32);
    let mut cache = MatchCache::default();
    let c = channel("a/b");
    cache.matches(&trie.snapshot(), &c);
    trie.subscribe(&pattern("a/*"), 1);
    trie.unsubscribe(&pattern("zzz"), 1);
    cache.matches(&trie.snapshot(), &c);
    assert_eq!((cache.counters().hits, cache.invalidations()), (1, 0));
}

#[test]
fn another_trie_at_the_same_generation_is_another_version() {
    let mut first = SubscriptionTrie::new();
    first.subscribe(&pattern("a"), 1_u32);
    let mut second = SubscriptionTrie::new();
    second.subscribe(&pattern("a"), 2_u32);
    assert_eq!(first.generation(), second.generation());
    let mut cache = MatchCache::default();
    let c = channel("a");
    assert_eq!(&*cache.matches(&first.snapshot(), &c), [1]);
    assert_eq!(&*cache.matches(&second.snapshot(), &c), [2]);
}

#[test]
fn an_older_snapshot_is_served_its_own_results() {
    let mut trie = SubscriptionTrie::new();
    trie.subscribe(&pattern("a"), 1_u32);
    let old = trie.snapshot();
    trie.subscribe(&pattern("a"), 2);
    let new = trie.snapshot();
    let mut cache = MatchCache::default();
    let c = channel("a");
    assert_eq!(&*cache.matches(&new, &c), [1, 2]);
    assert_eq!(&*cache.matches(&old, &c), [1]);
    assert_eq!(&*cache.matches(&new, &c), [1, 2]);
    cache.clear();
    assert!(cache.is_empty() && cache.generation().is_none());
}
