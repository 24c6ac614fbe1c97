//! [`SidBook`]: one NATS connection's subscriptions as deliveries see them. The hub knows a
//! subscription by a number; the client by its own sid text, and may have asked it to end
//! after so many messages (`UNSUB sid max`). The hub's router consults the book as it writes
//! each MSG, so a subscription past its maximum, or unsubscribed, gets nothing more at once,
//! even before the hub's table has applied the change.

use std::collections::HashMap;

/// One subscription's delivery state.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    /// The client's sid.
    text: Box<str>,
    /// Messages delivered so far.
    delivered: u64,
    /// Messages after which it ends, if the client set it.
    max: Option<u64>,
}

/// What became of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivered {
    /// The subscription is gone (or never was): nothing written.
    Gone,
    /// Written.
    Written,
    /// Written, and it was the subscription's last: it has ended (unsubscribe it at the hub).
    Last,
}

/// The subscriptions of one NATS connection, by hub sid (the hub's own numbers, not a peer's
/// choice: a fast hash serves, and it is looked up for every message delivered).
#[derive(Debug, Clone, Default)]
pub struct SidBook {
    entries: HashMap<u64, Entry, foldhash::fast::RandomState>,
}

impl SidBook {
    /// Subscription `sid` under the client's `text`.
    pub fn add(&mut self, sid: u64, text: &str) {
        let entry = Entry {
            text: text.into(),
            delivered: 0,
            max: None,
        };
        self.entries.insert(sid, entry);
    }

    /// Subscription `sid` ends now.
    pub fn remove(&mut self, sid: u64) {
        self.entries.remove(&sid);
    }

    /// Subscription `sid` ends once it has had `max` messages in all; answers true if it has
    /// had them already (it is removed: unsubscribe it at the hub).
    pub fn limit(&mut self, sid: u64, max: u64) -> bool {
        let Some(entry) = self.entries.get_mut(&sid) else {
            return false;
        };
        if entry.delivered >= max {
            self.entries.remove(&sid);
            return true;
        }
        entry.max = Some(max);
        false
    }

    /// Delivers one message to `sid`: `write` gets the client's sid text, unless the
    /// subscription is gone.
    pub fn deliver(&mut self, sid: u64, write: impl FnOnce(&str)) -> Delivered {
        let Some(entry) = self.entries.get_mut(&sid) else {
            return Delivered::Gone;
        };
        write(&entry.text);
        entry.delivered += 1;
        if entry.max.is_some_and(|max| entry.delivered >= max) {
            self.entries.remove(&sid);
            return Delivered::Last;
        }
        Delivered::Written
    }

    /// Subscriptions held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
