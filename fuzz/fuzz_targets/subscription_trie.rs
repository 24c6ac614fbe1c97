//! The subscription trie against a plain model: subscribe, unsubscribe and remove a
//! subscriber in any order, and every lookup must find what checking each pattern finds, on
//! the trie, on a snapshot, through a match cache and the last match, and on an older snapshot
//! afterwards.
//!
//! Input: UTF-8 lines. `+Sp` subscribes subscriber `S` (a byte, taken mod 8) to pattern `p`,
//! `-Sp` unsubscribes, `!S` removes the subscriber, `?c` looks up channel `c`.
#![no_main]

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroUsize;
use std::sync::Arc;

use hubwire_core::pubsub::{
    Channel, LastMatch, MatchCache, Pattern, SubscriptionTrie, TrieSnapshot,
};
use libfuzzer_sys::fuzz_target;

/// Lookups checked against the model, at most: the model checks every pattern, so checking
/// every lookup would make the target quadratic in its input.
const MODEL_CHECKS: usize = 32;

type Model = BTreeMap<u8, BTreeSet<Pattern>>;

/// A snapshot, a channel and what the snapshot matched for it.
type Kept = Option<(TrieSnapshot<u8>, Channel, Arc<[u8]>)>;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut trie = SubscriptionTrie::new();
    let mut model = Model::new();
    let mut cache = MatchCache::new(NonZeroUsize::new(4).unwrap());
    // Lives through every change, as the hub's per-thread one does.
    let (mut last, mut out) = (LastMatch::default(), Vec::new());
    let mut checks = 0;
    // An earlier snapshot and what it answered: later changes must not show in it.
    let mut kept: Kept = None;
    for line in text.lines() {
        let mut chars = line.chars();
        let (op, who) = (
            chars.next(),
            chars.next().map_or(0, |c| (c as u32 % 8) as u8),
        );
        let rest = chars.as_str();
        match op {
            Some('+') => subscribe(&mut trie, &mut model, who, rest),
            Some('-') => unsubscribe(&mut trie, &mut model, who, rest),
            Some('!') => {
                let had = model.remove(&who).map_or(0, |p| p.len());
                assert_eq!(
                    trie.remove_subscriber(who),
                    had,
                    "remove_subscriber miscounted"
                );
            }
            Some('?') => {
                let Ok(channel) = Channel::parse(&line[1..]) else {
                    continue;
                };
                let found = trie.matches(&channel);
                assert!(
                    found.windows(2).all(|w| w[0] < w[1]),
                    "not sorted or repeated"
                );
                if checks < MODEL_CHECKS {
                    checks += 1;
                    assert_eq!(
                        &*found,
                        model_matches(&model, &channel),
                        "the trie disagrees"
                    );
                }
                let snapshot = trie.snapshot();
                assert_eq!(snapshot.matches(&channel), found, "the snapshot disagrees");
                assert_eq!(
                    cache.matches(&snapshot, &channel),
                    found,
                    "the cache disagrees"
                );
                last.matches_into(&snapshot, &channel, &mut out);
                assert_eq!(&out[..], &*found, "the last match disagrees");
                check_kept(&kept);
                kept = Some((snapshot, channel, found));
            }
            _ => continue,
        }
    }
    check_totals(&trie, &model);
    for who in model.keys() {
        trie.remove_subscriber(*who);
    }
    assert!(trie.is_empty() && trie.pattern_count() == 0 && trie.subscriber_count() == 0);
    assert_eq!(trie.node_count(), 1, "an emptied trie kept nodes");
    check_kept(&kept);
});

fn subscribe(trie: &mut SubscriptionTrie<u8>, model: &mut Model, who: u8, text: &str) {
    let Ok(pattern) = Pattern::parse(text) else {
        return;
    };
    let new = model.entry(who).or_default().insert(pattern.clone());
    assert_eq!(trie.subscribe(&pattern, who), new, "subscribe disagrees");
    assert!(trie.is_subscribed(&pattern, who));
}

fn unsubscribe(trie: &mut SubscriptionTrie<u8>, model: &mut Model, who: u8, text: &str) {
    let Ok(pattern) = Pattern::parse(text) else {
        return;
    };
    let mut had = false;
    if let Some(patterns) = model.get_mut(&who) {
        had = patterns.remove(&pattern);
        if patterns.is_empty() {
            model.remove(&who);
        }
    }
    assert_eq!(
        trie.unsubscribe(&pattern, who),
        had,
        "unsubscribe disagrees"
    );
    assert!(!trie.is_subscribed(&pattern, who));
}

/// The subscribers with a pattern that matches, one pattern at a time.
fn model_matches(model: &Model, channel: &Channel) -> Vec<u8> {
    model
        .iter()
        .filter(|(_, patterns)| patterns.iter().any(|p| p.matches(channel)))
        .map(|(who, _)| *who)
        .collect()
}

fn check_kept(kept: &Kept) {
    if let Some((snapshot, channel, found)) = kept {
        assert_eq!(
            &snapshot.matches(channel),
            found,
            "a later change showed in a snapshot"
        );
    }
}

fn check_totals(trie: &SubscriptionTrie<u8>, model: &Model) {
    let len: usize = model.values().map(BTreeSet::len).sum();
    let distinct: BTreeSet<&Pattern> = model.values().flatten().collect();
    assert_eq!(trie.len(), len);
    assert_eq!(trie.pattern_count(), distinct.len());
    assert_eq!(trie.subscriber_count(), model.len());
    for (who, patterns) in model {
        let held: BTreeSet<&Pattern> = trie.subscriptions_of(*who).collect();
        assert_eq!(
            held,
            patterns.iter().collect(),
            "subscriptions_of disagrees"
        );
    }
}
