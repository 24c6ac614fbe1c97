//! [`SubscriptionTrie`]: who subscribed to which pattern, found by channel without a scan.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::Hash;
use std::sync::Arc;

use super::node::Node;
use super::{Channel, Pattern, TrieSnapshot};

/// Subscriptions (a [`Pattern`] and a subscriber id `S`, a connection id say) arranged as a
/// trie of pattern tokens, so that finding the subscribers a channel reaches walks the
/// channel's tokens rather than every pattern.
///
/// The trie is the mutable side, owned by one actor; [`snapshot`](Self::snapshot) hands out an
/// immutable version that other threads match on. A reverse index from subscriber to patterns
/// makes [`remove_subscriber`](Self::remove_subscriber) cost only that subscriber's
/// subscriptions. Removing the last subscriber of a pattern drops the nodes only it used, so a
/// trie whose subscriptions are all gone is back to its single root node.
///
/// ```
/// use hubwire_core::pubsub::{Channel, Pattern, SubscriptionTrie};
///
/// let p = |text: &str| Pattern::parse(text).unwrap();
/// let mut trie = SubscriptionTrie::new();
/// assert!(trie.subscribe(&p("sensors/*/temp"), 7_u32));
/// assert!(trie.subscribe(&p("sensors/**"), 7));
/// assert!(trie.subscribe(&p("sensors/kitchen/*"), 9));
/// assert!(!trie.subscribe(&p("sensors/**/"), 7)); // already there
///
/// let kitchen = Channel::parse("sensors/kitchen/temp").unwrap();
/// assert_eq!(&*trie.matches(&kitchen), [7, 9]); // 7 matched twice, listed once
///
/// assert_eq!(trie.remove_subscriber(7), 2);
/// assert!(trie.unsubscribe(&p("sensors/kitchen/*"), 9));
/// assert!(trie.is_empty());
/// assert_eq!(trie.node_count(), 1);
/// ```
#[derive(Clone)]
pub struct SubscriptionTrie<S> {
    root: Arc<Node<S>>,
    /// Each subscriber's patterns: answers "already subscribed?" without touching the nodes
    /// (so a no-op never copies nodes a snapshot shares) and lets a subscriber be removed in
    /// time proportional to its own subscriptions.
    by_subscriber: HashMap<S, HashSet<Pattern>>,
    len: usize,
    pattern_count: usize,
    generation: u64,
}

impl<S: Copy + Eq + Hash + Ord> SubscriptionTrie<S> {
    /// An empty trie, at generation 0.
    pub fn new() -> Self {
        SubscriptionTrie {
            root: Arc::default(),
            by_subscriber: HashMap::new(),
            len: 0,
            pattern_count: 0,
            generation: 0,
        }
    }

    /// Subscribes `subscriber` to `pattern`. Returns whether the subscription is new (a
    /// repeated one changes nothing).
    pub fn subscribe(&mut self, pattern: &Pattern, subscriber: S) -> bool {
        let patterns = self.by_subscriber.entry(subscriber).or_default();
        if patterns.contains(pattern) {
            return false;
        }
        patterns.insert(pattern.clone());
        let subscribers = Node::insert(&mut self.root, pattern.tokens(), subscriber)
            .expect("the reverse index said the subscription is new");
        if subscribers == 1 {
            self.pattern_count += 1;
        }
        self.len += 1;
        self.generation += 1;
        true
    }

    /// Unsubscribes `subscriber` from `pattern`. Returns whether it was subscribed.
    pub fn unsubscribe(&mut self, pattern: &Pattern, subscriber: S) -> bool {
        let Some(patterns) = self.by_subscriber.get_mut(&subscriber) else {
            return false;
        };
        if !patterns.remove(pattern) {
            return false;
        }
        if patterns.is_empty() {
            self.by_subscriber.remove(&subscriber);
        }
        self.remove_from_nodes(pattern, subscriber);
        self.generation += 1;
        true
    }

    /// Drops every subscription of `subscriber` (a connection that closed, say) and returns how
    /// many there were. Costs that subscriber's subscriptions, not the whole trie.
    pub fn remove_subscriber(&mut self, subscriber: S) -> usize {
        let Some(patterns) = self.by_subscriber.remove(&subscriber) else {
            return 0;
        };
        for pattern in &patterns {
            self.remove_from_nodes(pattern, subscriber);
        }
        self.generation += 1;
        patterns.len()
    }

    fn remove_from_nodes(&mut self, pattern: &Pattern, subscriber: S) {
        let left = Node::remove(&mut self.root, pattern.tokens(), subscriber)
            .expect("the reverse index said the subscription exists");
        if left == 0 {
            self.pattern_count -= 1;
        }
        self.len -= 1;
    }

    /// The subscribers of every pattern that matches `channel`, sorted and each once.
    pub fn matches(&self, channel: &Channel) -> Arc<[S]> {
        let mut out = Vec::new();
        self.matches_into(channel, &mut out);
        out.into()
    }

    /// Like [`matches`](Self::matches), into a vector the caller keeps (its contents are
    /// replaced).
    pub fn matches_into(&self, channel: &Channel, out: &mut Vec<S>) {
        Node::collect_matches(&self.root, channel, out);
    }

    /// An immutable version of the trie as it is now, cheap to take (an `Arc` clone) and to
    /// share with other threads. The trie's later changes copy the nodes they touch, so they
    /// never show in the snapshot.
    pub fn snapshot(&self) -> TrieSnapshot<S> {
        TrieSnapshot::new(
            Arc::clone(&self.root),
            self.generation,
            self.len,
            self.pattern_count,
        )
    }

    /// The patterns `subscriber` is subscribed to, in no particular order (to replay them on a
    /// new connection, say).
    pub fn subscriptions_of(&self, subscriber: S) -> impl Iterator<Item = &Pattern> {
        self.by_subscriber.get(&subscriber).into_iter().flatten()
    }

    /// Whether `subscriber` is subscribed to `pattern`.
    pub fn is_subscribed(&self, pattern: &Pattern, subscriber: S) -> bool {
        self.by_subscriber
            .get(&subscriber)
            .is_some_and(|patterns| patterns.contains(pattern))
    }

    /// How many subscriptions (pattern and subscriber pairs) the trie holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the trie holds no subscription.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many distinct patterns have at least one subscriber.
    pub fn pattern_count(&self) -> usize {
        self.pattern_count
    }

    /// How many distinct subscribers have at least one subscription.
    pub fn subscriber_count(&self) -> usize {
        self.by_subscriber.len()
    }

    /// Grows by one with every change (a subscription added or removed; a
    /// `remove_subscriber` that removes anything counts once), never with a no-op.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// How many nodes the trie has, the root included: 1 when it is empty. This walks the
    /// whole trie; it is for tests and diagnostics (checking that removals leave nothing
    /// behind), not for hot paths.
    pub fn node_count(&self) -> usize {
        self.root.count_nodes()
    }
}

impl<S: Copy + Eq + Hash + Ord> Default for SubscriptionTrie<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> fmt::Debug for SubscriptionTrie<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubscriptionTrie")
            .field("len", &self.len)
            .field("pattern_count", &self.pattern_count)
            .field("subscribers", &self.by_subscriber.len())
            .field("generation", &self.generation)
            .finish()
    }
}
