//! Property tests: the trie, its snapshots and the cache agree with a model (a set of
//! subscriptions checked one by one with the reference matcher) over random interleavings of
//! subscribes, unsubscribes, subscriber removals, snapshots and lookups.

use std::collections::BTreeSet;
use std::num::NonZeroUsize;

use proptest::prelude::*;

use super::*;

type Model = BTreeSet<(Pattern, u8)>;

/// Patterns over a small alphabet, written with stray slashes now and then, so that matches,
/// shared prefixes and equal canonical forms all happen often.
fn small_pattern() -> impl Strategy<Value = Pattern> {
    let token = prop::sample::select(vec!["a", "b", "*", "**", "", "*a"]);
    prop::collection::vec(token, 0..6).prop_map(|tokens| Pattern::parse(&tokens.join("/")).unwrap())
}

fn small_channel() -> impl Strategy<Value = Channel> {
    let token = prop::sample::select(vec!["a", "b", "c", "*a"]);
    prop::collection::vec(token, 0..7).prop_map(|tokens| Channel::parse(&tokens.join("/")).unwrap())
}

fn subscriber() -> impl Strategy<Value = u8> {
    0..4_u8
}

#[derive(Debug, Clone)]
enum Op {
    Subscribe(Pattern, u8),
    Unsubscribe(Pattern, u8),
    RemoveSubscriber(u8),
    /// Keep a snapshot (and the model as it is) to check later that it never changes.
    Snapshot,
    Match(Channel),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (small_pattern(), subscriber()).prop_map(|(p, s)| Op::Subscribe(p, s)),
        2 => (small_pattern(), subscriber()).prop_map(|(p, s)| Op::Unsubscribe(p, s)),
        1 => subscriber().prop_map(Op::RemoveSubscriber),
        1 => Just(Op::Snapshot),
        4 => small_channel().prop_map(Op::Match),
    ]
}

/// What the model says `channel` matches: every subscription checked on its own.
fn model_matches(model: &Model, channel: &Channel) -> Vec<u8> {
    let found: BTreeSet<u8> = model
        .iter()
        .filter(|(pattern, _)| pattern.matches(channel))
        .map(|&(_, s)| s)
        .collect();
    found.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn trie_agrees_with_matching_each_pattern(
        subscriptions in prop::collection::vec((small_pattern(), subscriber()), 0..24),
        channels in prop::collection::vec(small_channel(), 1..16),
    ) {
        let mut trie = SubscriptionTrie::new();
        let mut model = Model::new();
        for (pattern, s) in subscriptions {
            prop_assert_eq!(trie.subscribe(&pattern, s), model.insert((pattern, s)));
        }
        let snapshot = trie.snapshot();
        let mut cache = MatchCache::new(NonZeroUsize::new(4).unwrap());
        let (mut last, mut out) = (LastMatch::default(), Vec::new());
        // Twice over, so that the second round meets cached entries; each channel twice in a
        // row, so that the last match is met too.
        for channel in channels.iter().chain(&channels).flat_map(|c| [c, c]) {
            let expected = model_matches(&model, channel);
            prop_assert_eq!(&*trie.matches(channel), &expected[..], "{:?}", channel);
            prop_assert_eq!(&*snapshot.matches(channel), &expected[..]);
            prop_assert_eq!(&*cache.matches(&snapshot, channel), &expected[..]);
            last.matches_into(&snapshot, channel, &mut out);
            prop_assert_eq!(&out[..], &expected[..]);
        }
    }

    #[test]
    fn interleaved_changes_agree_with_the_model(ops in prop::collection::vec(op(), 0..80)) {
        let mut trie = SubscriptionTrie::new();
        let mut model = Model::new();
        let mut kept: Vec<(TrieSnapshot<u8>, Model)> = Vec::new();
        // A cache that lives through every change, so stale entries would show.
        let mut cache = MatchCache::new(NonZeroUsize::new(8).unwrap());
        let mut buffer = Vec::new();
        // Likewise the last match, looked up twice per Match and again after every change.
        let mut last = LastMatch::default();
        let mut last_channel: Option<Channel> = None;
        for op in ops {
            let generation = trie.generation();
            let changed = match op {
                Op::Subscribe(pattern, s) => {
                    let new = model.insert((pattern.clone(), s));
                    prop_assert_eq!(trie.subscribe(&pattern, s), new);
                    new
                }
                Op::Unsubscribe(pattern, s) => {
                    let was = model.remove(&(pattern.clone(), s));
                    prop_assert_eq!(trie.unsubscribe(&pattern, s), was);
                    was
                }
                Op::RemoveSubscriber(s) => {
                    let before = model.len();
                    model.retain(|&(_, owner)| owner != s);
                    let removed = before - model.len();
                    prop_assert_eq!(trie.remove_subscriber(s), removed);
                    removed > 0
                }
                Op::Snapshot => {
                    kept.push((trie.snapshot(), model.clone()));
                    false
                }
                Op::Match(channel) => {
                    let expected = model_matches(&model, &channel);
                    prop_assert_eq!(&*trie.matches(&channel), &expected[..]);
                    prop_assert_eq!(&*cache.matches(&trie.snapshot(), &channel), &expected[..]);
                    trie.snapshot().matches_into(&channel, &mut buffer);
                    prop_assert_eq!(&buffer[..], &expected[..]);
                    for _ in 0..2 {
                        last.matches_into(&trie.snapshot(), &channel, &mut buffer);
                        prop_assert_eq!(&buffer[..], &expected[..]);
                    }
                    last_channel = Some(channel);
                    false
                }
            };
            if let Some(channel) = &last_channel {
                last.matches_into(&trie.snapshot(), channel, &mut buffer);
                prop_assert_eq!(&buffer[..], &model_matches(&model, channel)[..]);
            }
            prop_assert_eq!(trie.generation(), generation + u64::from(changed));
            prop_assert_eq!(trie.len(), model.len());
            let patterns: BTreeSet<&Pattern> = model.iter().map(|(p, _)| p).collect();
            prop_assert_eq!(trie.pattern_count(), patterns.len());
            let subscribers: BTreeSet<u8> = model.iter().map(|&(_, s)| s).collect();
            prop_assert_eq!(trie.subscriber_count(), subscribers.len());
        }

        // Every kept snapshot still answers as the model did when it was taken.
        let probes: Vec<Channel> = ["", "a", "b", "a/b", "a/a/b", "*a/c", "c/b/a/a"]
            .iter()
            .map(|t| Channel::parse(t).unwrap())
            .collect();
        for (snapshot, then) in &kept {
            prop_assert_eq!(snapshot.len(), then.len());
            for channel in &probes {
                prop_assert_eq!(&*snapshot.matches(channel), &model_matches(then, channel)[..]);
                prop_assert_eq!(&*cache.matches(snapshot, channel), &model_matches(then, channel)[..]);
            }
        }

        // Taking everything out leaves the bare root.
        for s in 0..4 {
            trie.remove_subscriber(s);
        }
        prop_assert!(trie.is_empty());
        prop_assert_eq!(trie.pattern_count(), 0);
        prop_assert_eq!(trie.node_count(), 1);
    }

    #[test]
    fn unsubscribing_in_any_order_leaves_the_bare_root(
        subscriptions in prop::collection::vec((small_pattern(), subscriber()), 0..24),
        order in any::<prop::sample::Index>(),
    ) {
        let mut trie = SubscriptionTrie::new();
        for (pattern, s) in &subscriptions {
            trie.subscribe(pattern, *s);
        }
        let mut remaining: Vec<_> = subscriptions.iter().collect::<BTreeSet<_>>().into_iter().collect();
        // Rotate by a random amount so that removals do not always follow insertion order.
        if !remaining.is_empty() {
            let at = order.index(remaining.len());
            remaining.rotate_left(at);
        }
        for (pattern, s) in remaining {
            prop_assert!(trie.unsubscribe(pattern, *s));
        }
        prop_assert!(trie.is_empty());
        prop_assert_eq!(trie.node_count(), 1);
    }
}
