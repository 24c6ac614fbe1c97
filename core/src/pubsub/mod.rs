//! Publish/subscribe matching: channels, subscription patterns and the subscription trie.
//!
//! # Channels and patterns
//! A [`Channel`] is what a message is published to: slash-separated tokens
//! (`sensors/kitchen/temp`). Leading, trailing and repeated slashes are ignored, so
//! `/sensors//kitchen/temp/` is the same channel; `""` and `"/"` are the empty channel.
//!
//! A [`Pattern`] is what a subscription matches. Its tokens match a channel's tokens one for
//! one, except two wildcards, which count only when they are a whole token (`*abc` and `***`
//! are literals):
//! - `*` matches exactly one token;
//! - `**` matches zero or more tokens.
//!
//! | pattern         | matches                               | does not match          |
//! |-----------------|---------------------------------------|-------------------------|
//! | `foo/*/buzz`    | `foo/bar/buzz`                        | `foo/buzz`, `foo/a/b/buzz` |
//! | `**/buzz`       | `buzz`, `foo/bar/buzz`                | `foo/buzz/qux`          |
//! | `**`            | every channel, the empty one too      |                         |
//! | `*/**`          | every channel with at least one token | the empty channel       |
//! | `foo/*/**/bar`  | `foo/x/bar`, `foo/x/y/bar`            | `foo/bar`               |
//!
//! ```
//! use hubwire_core::pubsub::{Channel, Pattern};
//!
//! let matches = |pattern: &str, channel: &str| {
//!     Pattern::parse(pattern).unwrap().matches(&Channel::parse(channel).unwrap())
//! };
//! assert!(matches("**", ""));
//! assert!(!matches("*/**", ""));
//! assert!(!matches("foo/*/**/bar", "foo/bar"));
//! assert!(!matches("**/bar", "foo/bar/qux"));
//! for pattern in ["/foo/*/buzz", "/**/buzz", "/**"] {
//!     assert!(matches(pattern, "/foo/bar/buzz"));
//! }
//! ```
//!
//! Patterns are kept in canonical form: in each run of consecutive wildcards, the `*`s come
//! first, then at most one `**` (`**/*` and `*/**` are the same pattern, `**/**` is `**`).
//! `Display` writes the canonical text, and parsing it gives the same pattern back.
//!
//! # Limits
//! Channel and pattern text is at most [`MAX_TEXT_BYTES`] bytes and at most [`MAX_TOKENS`]
//! tokens (counted after normalization, and for a pattern in canonical form); control
//! characters are refused; a channel may not have a wildcard token, since a message goes to one
//! concrete channel. The bounds keep one lookup's work and one subscription's memory small
//! whatever a peer sends. [`ChannelError`] and [`PatternError`] say which rule was broken.
//!
//! # The trie, its snapshots and the cache
//! [`SubscriptionTrie`] stores, for each pattern, the set of subscribers (any
//! `S: Copy + Eq + Hash + Ord`, a connection id say) in a trie of pattern tokens. Matching a
//! channel walks the trie once, token by token, following at each node the literal child for
//! the token, the `*` child and the `**` child, with a set of active nodes rather than
//! backtracking; its cost depends on the channel and on the patterns that share its prefixes,
//! not on how many patterns there are. A subscriber reached by several patterns is listed once.
//!
//! Snapshots ([`TrieSnapshot`]) share structure with the trie: nodes are `Arc`s, and a change
//! copies only the nodes on its pattern's path that a snapshot still holds (`Arc::make_mut`;
//! with no snapshot outstanding, nothing is copied). This was chosen over copying the whole
//! trie on write because the hub publishes a snapshot after changes while connections keep
//! reading older ones: a change then costs its path, not the trie. A path node is copied
//! shallowly (its child table, one pointer per child), so a root with a very wide child table
//! makes each change after a snapshot cost that width; the hub should apply a batch of changes
//! before it publishes one snapshot. Generations number the versions.
//!
//! [`MatchCache`] remembers recent results per channel for one snapshot version. Each reader
//! keeps its own cache, so a lookup takes no lock; a lookup on a different version drops the
//! entries first. Dropping everything on a change is simple and evidently correct; the cost is
//! a cold cache after every change, which again argues for batching changes per snapshot.
//!
//! ```
//! use hubwire_core::pubsub::{Channel, MatchCache, Pattern, SubscriptionTrie};
//!
//! let mut trie = SubscriptionTrie::new();
//! trie.subscribe(&Pattern::parse("sensors/**").unwrap(), 1_u64);
//! trie.subscribe(&Pattern::parse("sensors/*/temp").unwrap(), 2);
//! trie.subscribe(&Pattern::parse("sensors/*/temp").unwrap(), 1);
//!
//! let snapshot = trie.snapshot(); // hand this to the readers
//! let mut cache = MatchCache::default();
//! let channel = Channel::parse("sensors/kitchen/temp").unwrap();
//! assert_eq!(&*cache.matches(&snapshot, &channel), [1, 2]);
//! ```

mod cache;
mod channel;
mod hub_table;
mod last_match;
mod naive;
mod node;
mod pattern;
mod retained;
mod retained_index;
mod snapshot;
mod text;
mod trie;

#[cfg(test)]
mod cache_tests;
#[cfg(test)]
mod channel_tests;
#[cfg(test)]
mod hub_table_tests;
#[cfg(test)]
mod naive_tests;
#[cfg(test)]
mod pattern_tests;
#[cfg(test)]
mod trie_props;
#[cfg(test)]
mod trie_tests;

pub use cache::{MatchCache, DEFAULT_MATCH_CACHE_ENTRIES};
pub use channel::{Channel, ChannelError};
pub use hub_table::{
    Applied, Change, ConnId, Declined, GroupId, HubSnapshot, HubTable, InterestChanges, Replayed,
    Sid, Subscriber, TableFigures, Wanted, NO_GROUP,
};
pub use last_match::LastMatch;
pub use pattern::{Pattern, PatternError, PatternToken};
pub use retained::RetainedMessages;
pub use snapshot::TrieSnapshot;
pub use trie::SubscriptionTrie;

/// The longest channel or pattern text accepted, in bytes (as given, before normalization).
pub const MAX_TEXT_BYTES: usize = 1024;

/// The most tokens a channel or a pattern (in canonical form) may have.
pub const MAX_TOKENS: usize = 64;
