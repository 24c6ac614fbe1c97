//! [`LocalInterest`]: this hub's own clients' interest, counted, and the deltas that announce
//! it.

use std::collections::{BTreeMap, BTreeSet};

use super::interest::full_parts;
use super::{HubId, Interest, InterestUpdate};
use crate::pubsub::Pattern;

/// The interest of this hub's own clients (never what bridges brought in), with a count per
/// distinct [`Interest`] so that two clients on one pattern announce it once and the last one
/// leaving withdraws it.
///
/// Changes are not sent one by one: [`take_update`](Self::take_update) returns what changed
/// since the last call, coalesced (a subscribe and its unsubscribe in between cancel out) and
/// bounded in size. The actor calls it on a timer, which is the rate limit: churn within one
/// tick costs nothing on the links.
///
/// More than `max_announced` distinct interests are announced as a summary instead: `**` for
/// each queue group in use (and for plain subscriptions, if any), so the other hubs send this
/// one everything and its own table filters. The other hubs bound what they keep per origin by
/// the same number (see [`InterestDb`](super::InterestDb)).
///
/// ```
/// use hubwire_core::bridge::{HubId, LocalInterest};
/// use hubwire_core::pubsub::Pattern;
///
/// let mut local = LocalInterest::new(HubId(1), 1000);
/// let p = Pattern::parse("x/*").unwrap();
/// local.subscribe(&p, None);
/// local.subscribe(&p, None); // a second client: counted, not announced again
/// let update = local.take_update(100).unwrap();
/// assert_eq!((update.from_seq, update.to_seq, update.add.len()), (0, 1, 1));
/// assert!(local.unsubscribe(&p, None));
/// assert!(local.take_update(100).is_none()); // one client is left
/// ```
#[derive(Debug)]
pub struct LocalInterest {
    me: HubId,
    counts: BTreeMap<Interest, usize>,
    /// Distinct interests per queue group (`None`: plain), the stuff a summary is made of.
    groups: BTreeMap<Option<String>, usize>,
    /// What the other hubs have been told, at version `seq`.
    announced: BTreeSet<Interest>,
    /// Every interest that may be wanted but not announced, or announced but not wanted; an
    /// interest outside it is announced exactly when it is wanted.
    dirty: BTreeSet<Interest>,
    seq: u64,
    max_announced: usize,
}

impl LocalInterest {
    /// No interest, at version 0; more than `max_announced` distinct interests are summarized.
    pub fn new(me: HubId, max_announced: usize) -> Self {
        LocalInterest {
            me,
            counts: BTreeMap::new(),
            groups: BTreeMap::new(),
            announced: BTreeSet::new(),
            dirty: BTreeSet::new(),
            seq: 0,
            max_announced,
        }
    }

    /// Counts one more local subscription to `pattern` in `group`.
    pub fn subscribe(&mut self, pattern: &Pattern, group: Option<&str>) {
        let interest = Interest {
            pattern: pattern.clone(),
            group: group.map(str::to_owned),
        };
        let summarized = self.is_summarized();
        let count = self.counts.entry(interest.clone()).or_insert(0);
        *count += 1;
        if *count == 1 {
            let uses = self.groups.entry(interest.group.clone()).or_insert(0);
            *uses += 1;
            if *uses == 1 {
                self.dirty
                    .insert(Interest::everything(interest.group.clone()));
            }
            self.dirty.insert(interest);
            self.after_change(summarized);
        }
    }

    /// Counts one local subscription fewer; returns whether there was one.
    pub fn unsubscribe(&mut self, pattern: &Pattern, group: Option<&str>) -> bool {
        let interest = Interest {
            pattern: pattern.clone(),
            group: group.map(str::to_owned),
        };
        let summarized = self.is_summarized();
        let Some(count) = self.counts.get_mut(&interest) else {
            return false;
        };
        *count -= 1;
        if *count == 0 {
            self.counts.remove(&interest);
            let uses = self
                .groups
                .get_mut(&interest.group)
                .expect("every counted interest counts in its group");
            *uses -= 1;
            if *uses == 0 {
                self.groups.remove(&interest.group);
                self.dirty
                    .insert(Interest::everything(interest.group.clone()));
            }
            self.dirty.insert(interest);
            self.after_change(summarized);
        }
        true
    }

    /// Crossing the summary threshold changes what is wanted everywhere: mark it all.
    fn after_change(&mut self, was_summarized: bool) {
        if self.is_summarized() != was_summarized {
            self.dirty.extend(self.announced.iter().cloned());
            self.dirty.extend(self.counts.keys().cloned());
            self.dirty
                .extend(self.groups.keys().cloned().map(Interest::everything));
        }
    }

    fn wants(&self, interest: &Interest) -> bool {
        if self.is_summarized() {
            interest == &Interest::everything(interest.group.clone())
                && self.groups.contains_key(&interest.group)
        } else {
            self.counts.contains_key(interest)
        }
    }

    /// The changes since the last update, at most `max_items` of them (at least one), as the
    /// next version; `None` when there is nothing to announce. Call again for the rest.
    ///
    /// Removals go first, so the announced set never grows past the larger of where it was and
    /// where it is going: a receiver bounding each origin by the same number never sees an
    /// origin overflow in the middle of a change.
    pub fn take_update(&mut self, max_items: usize) -> Option<InterestUpdate> {
        let max_items = max_items.max(1);
        let remove: Vec<Interest> = self
            .dirty
            .iter()
            .filter(|&i| self.announced.contains(i) && !self.wants(i))
            .take(max_items)
            .cloned()
            .collect();
        for interest in &remove {
            self.dirty.remove(interest);
            self.announced.remove(interest);
        }
        let mut add = Vec::new();
        while add.len() + remove.len() < max_items {
            let Some(interest) = self.dirty.pop_first() else {
                break;
            };
            // Anything still marked that is announced is wanted: only additions are left.
            if self.wants(&interest) && !self.announced.contains(&interest) {
                self.announced.insert(interest.clone());
                add.push(interest);
            }
        }
        if add.is_empty() && remove.is_empty() {
            return None;
        }
        self.seq += 1;
        Some(InterestUpdate {
            origin: self.me,
            from_seq: self.seq - 1,
            to_seq: self.seq,
            add,
            remove,
            full: None,
        })
    }

    /// Everything announced so far (at [`seq`](Self::seq)) as parts of at most `max_items`:
    /// what to send on a new link, or to a link that reports a gap. Changes not yet taken are
    /// not in it; they follow as deltas.
    pub fn full(&self, max_items: usize) -> Vec<InterestUpdate> {
        full_parts(self.me, self.seq, &self.announced, max_items)
    }

    /// The version of the last update taken.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// What the other hubs have been told.
    pub fn announced(&self) -> &BTreeSet<Interest> {
        &self.announced
    }

    /// Whether changes wait for [`take_update`](Self::take_update) (some may cancel out).
    pub fn has_pending(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// Whether there are more distinct interests than can be announced one by one.
    pub fn is_summarized(&self) -> bool {
        self.counts.len() > self.max_announced
    }

    /// How many distinct interests the local clients have.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Whether no local client has an interest.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}
