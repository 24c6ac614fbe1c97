//! [`TrieSnapshot`]: an immutable version of a subscription trie that any thread can read.

use std::fmt;
use std::sync::Arc;

use super::node::Node;
use super::Channel;

/// An immutable version of a [`SubscriptionTrie`](super::SubscriptionTrie), taken with
/// [`snapshot`](super::SubscriptionTrie::snapshot).
///
/// It shares the trie's nodes, so taking and cloning one costs an `Arc` clone, and later changes
/// to the trie never show through (they copy the nodes they touch instead). It is `Send + Sync`
/// when `S` is: the hub's trie actor hands snapshots out, and connections match on them
/// directly, without queueing behind the actor's mailbox.
///
/// ```
/// use hubwire_core::pubsub::{Channel, Pattern, SubscriptionTrie};
///
/// let mut trie = SubscriptionTrie::new();
/// trie.subscribe(&Pattern::parse("sensors/*/temp").unwrap(), 1_u64);
/// let before = trie.snapshot();
/// trie.subscribe(&Pattern::parse("sensors/**").unwrap(), 2);
///
/// let channel = Channel::parse("sensors/kitchen/temp").unwrap();
/// assert_eq!(&*before.matches(&channel), [1]);
/// assert_eq!(&*trie.snapshot().matches(&channel), [1, 2]);
/// assert!(trie.generation() > before.generation());
/// ```
pub struct TrieSnapshot<S> {
    pub(crate) root: Arc<Node<S>>,
    generation: u64,
    len: usize,
    pattern_count: usize,
}

impl<S: Copy + Ord> TrieSnapshot<S> {
    pub(crate) fn new(
        root: Arc<Node<S>>,
        generation: u64,
        len: usize,
        pattern_count: usize,
    ) -> Self {
        TrieSnapshot {
            root,
            generation,
            len,
            pattern_count,
        }
    }

    /// The subscribers of every pattern that matches `channel`, sorted and each once.
    pub fn matches(&self, channel: &Channel) -> Arc<[S]> {
        let mut out = Vec::new();
        self.matches_into(channel, &mut out);
        out.into()
    }

    /// Like [`matches`](Self::matches), into a vector the caller keeps (its contents are
    /// replaced), so that a hot loop reuses one buffer.
    pub fn matches_into(&self, channel: &Channel, out: &mut Vec<S>) {
        Node::collect_matches(&self.root, channel, out);
    }
}

impl<S> TrieSnapshot<S> {
    /// The trie's generation when the snapshot was taken: it grows by one with every change
    /// to the trie, so a higher number is a newer version of the same trie.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// How many subscriptions (pattern and subscriber pairs) the snapshot holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the snapshot holds no subscription (so no channel matches anything).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many distinct patterns have at least one subscriber.
    pub fn pattern_count(&self) -> usize {
        self.pattern_count
    }

    /// Whether both are the same version of the same trie (they share their root), so every
    /// channel has the same matches in both. Unlike equal generations, this cannot be fooled by
    /// two different tries.
    pub fn same_version(&self, other: &TrieSnapshot<S>) -> bool {
        Arc::ptr_eq(&self.root, &other.root)
    }
}

// By hand: deriving would ask for `S: Clone`.
impl<S> Clone for TrieSnapshot<S> {
    fn clone(&self) -> Self {
        TrieSnapshot {
            root: Arc::clone(&self.root),
            generation: self.generation,
            len: self.len,
            pattern_count: self.pattern_count,
        }
    }
}

impl<S> fmt::Debug for TrieSnapshot<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrieSnapshot")
            .field("generation", &self.generation)
            .field("len", &self.len)
            .field("pattern_count", &self.pattern_count)
            .finish()
    }
}
