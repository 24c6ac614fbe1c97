//! The trie, its snapshots and the cache give the documented matches, list each subscriber
//! once, leave no node behind and keep snapshots immutable.

use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use super::*;

fn pattern(text: &str) -> Pattern {
    Pattern::parse(text).unwrap()
}

fn channel(text: &str) -> Channel {
    Channel::parse(text).unwrap()
}

/// Whether `pattern` matches `channel`, asked every way there is; panics if they disagree.
fn matches_every_way(pattern_text: &str, channel_text: &str) -> bool {
    let p = pattern(pattern_text);
    let c = channel(channel_text);
    let mut trie = SubscriptionTrie::new();
    trie.subscribe(&p, 1_u32);
    let by_pattern = p.matches(&c);
    let by_trie = !trie.matches(&c).is_empty();
    let by_snapshot = !trie.snapshot().matches(&c).is_empty();
    let mut cache = MatchCache::default();
    let snapshot = trie.snapshot();
    let by_cache_miss = !cache.matches(&snapshot, &c).is_empty();
    let by_cache_hit = !cache.matches(&snapshot, &c).is_empty();
    assert_eq!(cache.counters().hits, 1);
    let answers = [by_trie, by_snapshot, by_cache_miss, by_cache_hit];
    assert!(
        answers.iter().all(|&a| a == by_pattern),
        "{pattern_text:?} on {channel_text:?}: pattern says {by_pattern}, trie/snapshot/cache say {answers:?}"
    );
    by_pattern
}

#[test]
fn issue_table() {
    for (p, c, expected) in [
        ("**", "", true),
        ("**", "/", true),
        ("*/**", "", false),
        ("foo/*/**/bar", "foo/bar", false),
        ("**/bar", "foo/bar/qux", false),
        ("/foo/*/buzz", "/foo/bar/buzz", true),
        ("/**/buzz", "/foo/bar/buzz", true),
        ("/**", "/foo/bar/buzz", true),
    ] {
        assert_eq!(matches_every_way(p, c), expected, "{p:?} on {c:?}");
    }
}

#[test]
fn more_cases() {
    for (p, c, expected) in [
        ("", "", true),
        ("", "a", false),
        ("*", "", false),
        ("*", "a", true),
        ("*", "a/b", false),
        ("*/**", "a", true),
        ("*/**", "a/b/c", true),
        ("**/*", "a", true),
        ("**/*", "", false),
        ("foo/*/**/bar", "foo/x/bar", true),
        ("foo/*/**/bar", "foo/x/y/z/bar", true),
        ("foo/**/bar", "foo/bar", true),
        ("foo/**", "foo", true),
        ("foo/**", "foob", false),
        ("**/bar", "bar", true),
        ("**/bar", "foo/bar", true),
        ("**/bar/**", "a/bar/b/bar/c", true),
        ("**/a/**/a/**", "a/b/a", true),
        ("**/a/**/a/**", "a/b/b", false),
        ("*abc", "xabc", false),
        ("*abc", "*abc", true),
        ("a/***", "a/b", false),
        ("a/***", "a/***", true),
        ("a/*/c", "a/b/c", true),
        ("a/*/c", "a/c", false),
    ] {
        assert_eq!(matches_every_way(p, c), expected, "{p:?} on {c:?}");
    }
}

#[test]
fn a_subscriber_matched_twice_is_listed_once() {
    let mut trie = SubscriptionTrie::new();
    for text in ["**", "a/**", "*/b", "a/b", "**/b"] {
        trie.subscribe(&pattern(text), 5_u64);
    }
    trie.subscribe(&pattern("a/b"), 3);
    trie.subscribe(&pattern("a/*"), 9);
    assert_eq!(&*trie.matches(&channel("a/b")), [3, 5, 9]);
    let mut out = vec![42];
    trie.snapshot().matches_into(&channel("a/b"), &mut out);
    assert_eq!(out, [3, 5, 9]);
    assert_eq!(&*trie.matches(&channel("x")), [5]);
}

#[test]
fn counts_follow_subscriptions() {
    let mut trie = SubscriptionTrie::new();
    assert!(trie.subscribe(&pattern("a/*"), 1_u8));
    assert!(trie.subscribe(&pattern("a/*"), 2));
    assert!(!trie.subscribe(&pattern("/a/*/"), 2));
    assert!(trie.subscribe(&pattern("b"), 2));
    assert_eq!(
        (trie.len(), trie.pattern_count(), trie.subscriber_count()),
        (3, 2, 2)
    );
    assert!(trie.is_subscribed(&pattern("a/*"), 1));
    let mut mine: Vec<String> = trie.subscriptions_of(2).map(|p| p.to_string()).collect();
    mine.sort();
    assert_eq!(mine, ["a/*", "b"]);

    assert!(!trie.unsubscribe(&pattern("a/*"), 3));
    assert!(!trie.unsubscribe(&pattern("b"), 1));
    assert!(trie.unsubscribe(&pattern("a/*"), 1));
    assert_eq!((trie.len(), trie.pattern_count()), (2, 2));
    assert_eq!(trie.remove_subscriber(2), 2);
    assert_eq!(trie.remove_subscriber(2), 0);
    assert!(trie.is_empty());
    assert_eq!(
        (trie.len(), trie.pattern_count(), trie.subscriber_count()),
        (0, 0, 0)
    );
}

#[test]
fn removing_everything_leaves_only_the_root() {
    let mut trie = SubscriptionTrie::new();
    assert_eq!(trie.node_count(), 1);
    let patterns = ["a/b/c", "a/b", "a/*/c", "a/**", "**/c", "*/*/*", "", "**"];
    for (i, text) in patterns.iter().enumerate() {
        trie.subscribe(&pattern(text), i as u32 % 3);
    }
    assert!(trie.node_count() > 1);
    let held = trie.snapshot();
    for text in &patterns[..4] {
        for s in 0..3 {
            trie.unsubscribe(&pattern(text), s);
        }
    }
    for s in 0..3 {
        trie.remove_subscriber(s);
    }
    assert_eq!(trie.node_count(), 1);
    assert!(trie.is_empty() && trie.snapshot().is_empty());
    // The snapshot taken before still has all of it.
    assert_eq!(held.len(), patterns.len());
    assert_eq!(&*held.matches(&channel("a/b/c")), [0, 1, 2]);
}

#[test]
fn snapshots_do_not_see_later_changes() {
    let mut trie = SubscriptionTrie::new();
    trie.subscribe(&pattern("a/*"), 1_u32);
    let first = trie.snapshot();
    trie.subscribe(&pattern("a/b"), 2);
    trie.unsubscribe(&pattern("a/*"), 1);
    let second = trie.snapshot();
    trie.remove_subscriber(2);

    let c = channel("a/b");
    assert_eq!(&*first.matches(&c), [1]);
    assert_eq!(&*second.matches(&c), [2]);
    assert!(trie.matches(&c).is_empty());
    assert_eq!(
        (first.generation(), second.generation(), trie.generation()),
        (1, 3, 4)
    );
    assert!(!first.same_version(&second));
    assert!(trie.snapshot().same_version(&trie.snapshot()));
}

#[test]
fn no_op_changes_keep_the_generation() {
    let mut trie = SubscriptionTrie::new();
    trie.subscribe(&pattern("a"), 1_u32);
    let generation = trie.generation();
    assert!(!trie.subscribe(&pattern("a"), 1));
    assert!(!trie.unsubscribe(&pattern("b"), 1));
    assert_eq!(trie.remove_subscriber(7), 0);
    assert_eq!(trie.generation(), generation);
}

#[test]
fn snapshots_cross_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<TrieSnapshot<u64>>();
    assert_send_sync::<SubscriptionTrie<u64>>();

    let mut trie = SubscriptionTrie::new();
    trie.subscribe(&pattern("x/**"), 1_u64);
    let snapshot = trie.snapshot();
    let reader = std::thread::spawn(move || snapshot.matches(&channel("x/y")).to_vec());
    trie.remove_subscriber(1);
    assert_eq!(reader.join().unwrap(), [1]);
}

#[test]
fn many_double_stars_stay_fast() {
    // Backtracking would try about C(64, 32) ways to place these `**`s.
    let mut trie = SubscriptionTrie::new();
    let text = vec!["**/a"; 31].join("/") + "/**/b";
    trie.subscribe(&pattern(&text), 1_u32);
    let long = channel(&vec!["a"; MAX_TOKENS].join("/"));
    let start = Instant::now();
    assert!(trie.matches(&long).is_empty());
    assert!(!pattern(&text).matches(&long));
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn many_literal_patterns_share_the_trie() {
    let mut trie = SubscriptionTrie::new();
    for i in 0..1000_u32 {
        trie.subscribe(&pattern(&format!("room/{i}/msg")), i);
    }
    trie.subscribe(&pattern("room/*/msg"), 5000);
    assert_eq!(&*trie.matches(&channel("room/17/msg")), [17, 5000]);
    // root, "room", 1000 ids and "*", 1001 "msg" nodes.
    assert_eq!(trie.node_count(), 1 + 1 + 1001 + 1001);
}

#[test]
fn cache_with_capacity_one_still_answers_right() {
    let mut trie = SubscriptionTrie::new();
    trie.subscribe(&pattern("*"), 1_u32);
    let mut cache = MatchCache::new(NonZeroUsize::new(1).unwrap());
    let snapshot = trie.snapshot();
    for text in ["a", "b", "a", "a/b", "b"] {
        assert_eq!(
            cache.matches(&snapshot, &channel(text)),
            trie.matches(&channel(text))
        );
    }
    assert_eq!(cache.len(), 1);
    assert!(cache.counters().evictions >= 3);
}
