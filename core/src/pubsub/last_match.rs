//! [`LastMatch`]: the matches of the channel matched last, for one version of the trie.

use super::{Channel, TrieSnapshot};

/// The last lookup's answer, kept for the next one: a publisher sends runs of messages to one
/// channel, and each after the first is then a comparison and a copy instead of a trie walk.
///
/// Unlike [`MatchCache`](super::MatchCache) it holds one channel and costs nothing on a miss
/// but a copy of the answer, so a reader whose channels never repeat (call inboxes) loses
/// nothing by it. Like it, it is valid for one snapshot version, checked by identity, and
/// keeps that snapshot so no other version can pass for it.
///
/// ```
/// use hubwire_core::pubsub::{Channel, LastMatch, Pattern, SubscriptionTrie};
///
/// let mut trie = SubscriptionTrie::new();
/// trie.subscribe(&Pattern::parse("chat/*").unwrap(), 1_u64);
/// let (mut last, mut out) = (LastMatch::default(), Vec::new());
/// let room = Channel::parse("chat/lobby").unwrap();
/// last.matches_into(&trie.snapshot(), &room, &mut out); // walked
/// last.matches_into(&trie.snapshot(), &room, &mut out); // copied
/// assert_eq!(out, [1]);
/// trie.subscribe(&Pattern::parse("chat/lobby").unwrap(), 2);
/// last.matches_into(&trie.snapshot(), &room, &mut out); // a new version: walked again
/// assert_eq!(out, [1, 2]);
/// ```
#[derive(Debug)]
pub struct LastMatch<S> {
    version: Option<TrieSnapshot<S>>,
    channel: Option<Channel>,
    matches: Vec<S>,
}

impl<S> Default for LastMatch<S> {
    fn default() -> Self {
        LastMatch {
            version: None,
            channel: None,
            matches: Vec::new(),
        }
    }
}

impl<S: Copy + Ord> LastMatch<S> {
    /// What [`TrieSnapshot::matches_into`] answers, into `out` (its contents replaced).
    pub fn matches_into(
        &mut self,
        snapshot: &TrieSnapshot<S>,
        channel: &Channel,
        out: &mut Vec<S>,
    ) {
        let same_version = self
            .version
            .as_ref()
            .is_some_and(|v| v.same_version(snapshot));
        if same_version && self.channel.as_ref() == Some(channel) {
            out.clear();
            out.extend_from_slice(&self.matches);
            return;
        }
        snapshot.matches_into(channel, out);
        if !same_version {
            self.version = Some(snapshot.clone());
        }
        self.channel = Some(channel.clone());
        self.matches.clear();
        self.matches.extend_from_slice(out);
    }

    /// Lets go of the version, the channel and the answer (and their memory).
    pub fn clear(&mut self) {
        *self = LastMatch::default();
    }
}
