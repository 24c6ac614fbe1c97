//! A spoke's subscriptions: the source of truth, sent in full to the hub on every connect.

use std::collections::BTreeMap;

use crate::protocol::{Subscribe, SubscriptionFlags, Subscriptions};
use crate::pubsub::Pattern;

/// One subscription and where its messages go (`T`: a channel to a receiver, a provider).
#[derive(Debug)]
pub struct Entry<T> {
    /// As sent to the hub.
    pub subscribe: Subscribe,
    /// Where its messages go.
    pub target: T,
}

/// The subscriptions of one spoke, by sid. Sids count up from 1 and are never reused, across
/// reconnects too, so a late MESSAGE for an ended subscription can never reach a new one.
#[derive(Debug)]
pub struct SubscriptionBook<T> {
    next_sid: u64,
    entries: BTreeMap<u64, Entry<T>>,
}

impl<T> Default for SubscriptionBook<T> {
    fn default() -> Self {
        SubscriptionBook {
            next_sid: 0,
            entries: BTreeMap::new(),
        }
    }
}

impl<T> SubscriptionBook<T> {
    /// Adds a subscription; returns its sid and the SUBSCRIBE to send.
    pub fn add(
        &mut self,
        pattern: Pattern,
        group: Option<String>,
        flags: SubscriptionFlags,
        target: T,
    ) -> &Subscribe {
        self.next_sid += 1;
        let sid = self.next_sid;
        let subscribe = Subscribe {
            sid,
            pattern,
            group,
            flags,
        };
        &self
            .entries
            .entry(sid)
            .or_insert(Entry { subscribe, target })
            .subscribe
    }

    /// Removes subscription `sid`.
    pub fn remove(&mut self, sid: u64) -> Option<Entry<T>> {
        self.entries.remove(&sid)
    }

    /// Subscription `sid`.
    pub fn get(&self, sid: u64) -> Option<&Entry<T>> {
        self.entries.get(&sid)
    }

    /// The whole list, as the SUBSCRIPTIONS frame sent after every handshake.
    pub fn list(&self) -> Subscriptions {
        Subscriptions {
            subscriptions: self.entries.values().map(|e| e.subscribe.clone()).collect(),
        }
    }

    /// Removes the subscriptions whose target `keep` says no to (a receiver dropped, say);
    /// returns their sids.
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) -> Vec<u64> {
        let gone: Vec<u64> = self
            .entries
            .iter()
            .filter(|(_, e)| !keep(&e.target))
            .map(|(sid, _)| *sid)
            .collect();
        for sid in &gone {
            self.entries.remove(sid);
        }
        gone
    }

    /// Subscriptions held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sids_count_up_and_are_never_reused() {
        let mut book = SubscriptionBook::default();
        let p = |s| Pattern::parse(s).unwrap();
        assert_eq!(book.add(p("a"), None, SubscriptionFlags::NONE, ()).sid, 1);
        assert_eq!(book.add(p("b/*"), None, SubscriptionFlags::NONE, ()).sid, 2);
        book.remove(2);
        assert_eq!(book.add(p("c"), None, SubscriptionFlags::NONE, ()).sid, 3);
        let sids: Vec<u64> = book.list().subscriptions.iter().map(|s| s.sid).collect();
        assert_eq!(sids, [1, 3]);
    }
}
