//! [`RetainedMessages`]: the last message of each channel published with "retain", replayed
//! to new matching subscribers; bounded in count and bytes, oldest evicted first and counted.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;

use super::retained_index::ChannelTree;
use super::{Channel, Pattern};
use crate::protocol::Headers;

/// The retained messages of a hub.
///
/// "Oldest" is by the time a channel's message was last set: retaining again on a channel
/// replaces its message and makes it the newest. A message larger than the byte bound on its
/// own is not kept (and counted as evicted).
///
/// ```
/// use bytes::Bytes;
/// use hubwire_core::pubsub::{Channel, Pattern, RetainedMessages};
///
/// let mut retained = RetainedMessages::new(2, 1024);
/// let ch = |s: &str| Channel::parse(s).unwrap();
/// retained.retain(ch("rooms/a/temp"), Bytes::from_static(b"21"));
/// retained.retain(ch("rooms/b/temp"), Bytes::from_static(b"19"));
/// retained.retain(ch("rooms/c/temp"), Bytes::from_static(b"23")); // evicts rooms/a
/// assert_eq!(retained.evicted(), 1);
/// let all = retained.matching(&Pattern::parse("rooms/*/temp").unwrap());
/// assert_eq!(all.len(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct RetainedMessages {
    max_count: usize,
    max_bytes: usize,
    by_channel: HashMap<Channel, Entry>,
    /// Channels by the sequence number of their last set: the first is the oldest.
    age: BTreeMap<u64, Channel>,
    /// The same channels as a tree of tokens, for [`matching`](Self::matching).
    tree: ChannelTree,
    next_seq: u64,
    bytes: usize,
    evicted: u64,
}

#[derive(Debug, Clone)]
struct Entry {
    seq: u64,
    /// The publisher's headers, kept and replayed with the message.
    headers: Headers,
    message: Bytes,
}

impl RetainedMessages {
    /// At most `max_count` messages and `max_bytes` bytes of them (channels included).
    pub fn new(max_count: usize, max_bytes: usize) -> Self {
        RetainedMessages {
            max_count,
            max_bytes,
            by_channel: HashMap::new(),
            age: BTreeMap::new(),
            tree: ChannelTree::default(),
            next_seq: 0,
            bytes: 0,
            evicted: 0,
        }
    }

    fn cost(channel: &Channel, headers: &Headers, message: &Bytes) -> usize {
        let headers: usize = headers.iter().map(|(k, v)| k.len() + v.len()).sum();
        channel.as_str().len() + headers + message.len()
    }

    /// Keeps `message` as `channel`'s retained message (replacing one it had); an empty
    /// message clears the channel instead. Answers how many messages were evicted for room.
    pub fn retain(&mut self, channel: Channel, message: Bytes) -> u64 {
        self.retain_with(channel, Headers::new(), message)
    }

    /// [`retain`](Self::retain), keeping the publisher's `headers` with the message (their keys
    /// and values count against the byte bound).
    pub fn retain_with(&mut self, channel: Channel, headers: Headers, message: Bytes) -> u64 {
        self.clear(&channel);
        if message.is_empty() {
            return 0;
        }
        let cost = Self::cost(&channel, &headers, &message);
        if cost > self.max_bytes || self.max_count == 0 {
            self.evicted += 1;
            return 1;
        }
        let mut evicted = 0;
        while self.by_channel.len() >= self.max_count || self.bytes + cost > self.max_bytes {
            let Some((_, oldest)) = self.age.pop_first() else {
                break;
            };
            if let Some(entry) = self.by_channel.remove(&oldest) {
                self.bytes -= Self::cost(&oldest, &entry.headers, &entry.message);
                self.tree.remove(&oldest);
                evicted += 1;
            }
        }
        self.evicted += evicted;
        let seq = self.next_seq;
        self.next_seq += 1;
        self.bytes += cost;
        self.age.insert(seq, channel.clone());
        self.tree.insert(&channel, seq);
        let entry = Entry {
            seq,
            headers,
            message,
        };
        self.by_channel.insert(channel, entry);
        evicted
    }

    /// Forgets `channel`'s retained message; answers whether it had one.
    pub fn clear(&mut self, channel: &Channel) -> bool {
        let Some(entry) = self.by_channel.remove(channel) else {
            return false;
        };
        self.age.remove(&entry.seq);
        self.tree.remove(channel);
        self.bytes -= Self::cost(channel, &entry.headers, &entry.message);
        true
    }

    /// `channel`'s retained message.
    pub fn get(&self, channel: &Channel) -> Option<&Bytes> {
        self.by_channel.get(channel).map(|e| &e.message)
    }

    /// Every retained message whose channel `pattern` matches, oldest first (for a new
    /// subscription). Walks the channels along the pattern: what it costs depends on what the
    /// pattern reaches, not on how many messages are retained.
    pub fn matching(&self, pattern: &Pattern) -> Vec<(&Channel, &Bytes)> {
        self.matching_entries(pattern)
            .map(|(channel, entry)| (channel, &entry.message))
            .collect()
    }

    /// [`matching`](Self::matching), with each message's headers.
    pub fn matching_with_headers(&self, pattern: &Pattern) -> Vec<(&Channel, &Headers, &Bytes)> {
        self.matching_entries(pattern)
            .map(|(channel, entry)| (channel, &entry.headers, &entry.message))
            .collect()
    }

    fn matching_entries(&self, pattern: &Pattern) -> impl Iterator<Item = (&Channel, &Entry)> {
        let mut seqs = self.tree.matching(pattern);
        // Oldest first (the walk finds each channel once).
        seqs.sort_unstable();
        seqs.into_iter().filter_map(|seq| {
            let channel = self.age.get(&seq)?;
            Some((channel, self.by_channel.get(channel)?))
        })
    }

    /// Messages held.
    pub fn len(&self) -> usize {
        self.by_channel.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.by_channel.is_empty()
    }

    /// Bytes held (channels and messages).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Messages evicted (or refused as too large) since creation.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ch(s: &str) -> Channel {
        Channel::parse(s).unwrap()
    }

    #[test]
    fn retaining_again_replaces_and_makes_newest() {
        let mut r = RetainedMessages::new(2, 1000);
        r.retain(ch("a"), Bytes::from_static(b"1"));
        r.retain(ch("b"), Bytes::from_static(b"2"));
        r.retain(ch("a"), Bytes::from_static(b"3"));
        r.retain(ch("c"), Bytes::from_static(b"4")); // evicts b, the oldest now
        assert_eq!(r.get(&ch("a")).unwrap(), &Bytes::from_static(b"3"));
        assert!(r.get(&ch("b")).is_none());
        assert_eq!((r.len(), r.evicted()), (2, 1));
    }

    #[test]
    fn an_empty_message_clears_and_bytes_are_bounded() {
        let mut r = RetainedMessages::new(10, 10);
        r.retain(ch("a"), Bytes::from_static(b"1234")); // 5 bytes
        r.retain(ch("b"), Bytes::from_static(b"1234")); // 10
        assert_eq!(r.bytes(), 10);
        r.retain(ch("c"), Bytes::from_static(b"1")); // 2 more: evicts a
        assert_eq!((r.len(), r.bytes(), r.evicted()), (2, 7, 1));
        r.retain(ch("b"), Bytes::new());
        assert_eq!((r.len(), r.bytes()), (1, 2));
        assert_eq!(
            r.retain(ch("big"), Bytes::from(vec![0; 20])),
            1,
            "too large: refused"
        );
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn a_channel_reached_along_two_paths_of_a_pattern_is_replayed_once() {
        let mut r = RetainedMessages::new(10, 1000);
        r.retain(ch("a/a"), Bytes::from_static(b"1"));
        r.retain(ch("a"), Bytes::from_static(b"2"));
        // `**/a/**` reaches a/a with either `a` as its literal.
        let found: Vec<&str> = r
            .matching(&Pattern::parse("**/a/**").unwrap())
            .into_iter()
            .map(|(c, _)| c.as_str())
            .collect();
        assert_eq!(found, ["a/a", "a"], "each once, oldest first");
    }

    proptest! {
        /// Whatever the sequence, the bounds hold and the byte count is exact.
        #[test]
        fn bounds_always_hold(ops in prop::collection::vec((0u8..6, 0usize..12), 0..200),
                              max_count in 0usize..5, max_bytes in 0usize..40) {
            let mut r = RetainedMessages::new(max_count, max_bytes);
            for (c, len) in ops {
                let channel = ch(&format!("c{c}"));
                r.retain(channel, Bytes::from(vec![1; len]));
                prop_assert!(r.len() <= max_count);
                prop_assert!(r.bytes() <= max_bytes);
                let exact: usize = r.by_channel.iter().map(|(k, e)| k.as_str().len() + e.message.len()).sum();
                prop_assert_eq!(exact, r.bytes());
                prop_assert_eq!(r.age.len(), r.by_channel.len());
            }
        }

        /// The tree finds exactly what testing every retained channel finds, oldest first,
        /// whatever was retained, replaced, cleared and evicted, for any pattern.
        #[test]
        fn matching_walks_to_what_every_channel_tested_finds(
            ops in prop::collection::vec((channel_text(), 0usize..3), 0..60),
            patterns in prop::collection::vec(pattern_text(), 1..20),
        ) {
            let mut r = RetainedMessages::new(16, 4096);
            for (text, len) in ops {
                r.retain(ch(&text), Bytes::from(vec![1; len]));
            }
            for text in patterns {
                let pattern = Pattern::parse(&text).unwrap();
                let walked: Vec<&Channel> = r.matching(&pattern).into_iter().map(|(c, _)| c).collect();
                let tested: Vec<&Channel> = r.age.values().filter(|c| pattern.matches(c)).collect();
                prop_assert_eq!(walked, tested, "pattern {}", text);
            }
            for channel in r.by_channel.keys().cloned().collect::<Vec<_>>() {
                r.clear(&channel);
            }
            prop_assert!(r.tree.is_empty(), "emptied branches are pruned");
        }
    }

    fn channel_text() -> impl Strategy<Value = String> {
        prop::collection::vec(prop_oneof![Just("a"), Just("b"), Just("")], 0..4)
            .prop_map(|tokens| tokens.join("/"))
    }

    fn pattern_text() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![Just("a"), Just("b"), Just(""), Just("*"), Just("**")],
            0..5,
        )
        .prop_map(|tokens| tokens.join("/"))
    }
}
