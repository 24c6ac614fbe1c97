//! [`InterestIndex`]: every hub's effective interest in one trie, looked up by channel.

use std::collections::{BTreeSet, HashMap};

use super::{HubId, Interest};
use crate::pubsub::{Channel, SubscriptionTrie};

/// Hubs with a member of one queue group whose pattern matches a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMembers {
    /// The queue group.
    pub group: String,
    /// The hubs with a matching member, sorted.
    pub hubs: Vec<HubId>,
}

/// The group number of plain interest (no queue group).
const PLAIN: u32 = 0;

/// All hubs' effective interest: one trie whose subscribers are (group number, hub), so a
/// publish walks the channel's tokens once, whatever the number of patterns, and finds plain
/// and grouped interest together (sorted by group number, plain first). Hubs whose interest is
/// unknown for now count as interested in everything, kept apart in `everything`.
#[derive(Debug, Clone, Default)]
pub(crate) struct InterestIndex {
    trie: SubscriptionTrie<(u32, HubId)>,
    groups: GroupNumbers,
    everything: BTreeSet<HubId>,
}

impl InterestIndex {
    pub(crate) fn insert(&mut self, hub: HubId, interest: &Interest) {
        let group = self.groups.acquire(interest.group.as_deref());
        if !self.trie.subscribe(&interest.pattern, (group, hub)) {
            self.groups.release(group);
        }
    }

    pub(crate) fn remove(&mut self, hub: HubId, interest: &Interest) {
        let group = self.groups.number(interest.group.as_deref());
        if let Some(group) = group {
            if self.trie.unsubscribe(&interest.pattern, (group, hub)) {
                self.groups.release(group);
            }
        }
    }

    /// Whether `hub` counts as interested in everything (its plain interest, not groups).
    pub(crate) fn set_everything(&mut self, hub: HubId, on: bool) {
        if on {
            self.everything.insert(hub);
        } else {
            self.everything.remove(&hub);
        }
    }

    /// The hubs with plain interest in `channel`, sorted.
    pub(crate) fn interested_hubs(&self, channel: &Channel) -> Vec<HubId> {
        let matches = self.trie.matches(channel);
        let plain = matches.iter().take_while(|(group, _)| *group == PLAIN);
        let mut hubs: Vec<HubId> = plain.map(|&(_, hub)| hub).collect();
        hubs.extend(&self.everything);
        hubs.sort_unstable();
        hubs.dedup();
        hubs
    }

    /// Whether any hub has an interest in a queue group.
    pub(crate) fn has_groups(&self) -> bool {
        self.groups.by_name.values().next().is_some()
    }

    /// For each queue group with a member matching `channel`, the hubs that have one.
    pub(crate) fn group_members(&self, channel: &Channel) -> Vec<GroupMembers> {
        if !self.has_groups() {
            return Vec::new();
        }
        let mut out: Vec<GroupMembers> = Vec::new();
        let mut current = PLAIN;
        for &(group, hub) in self.trie.matches(channel).iter() {
            if group == PLAIN {
                continue;
            }
            if group != current {
                current = group;
                out.push(GroupMembers {
                    group: self.groups.name(group).to_owned(),
                    hubs: Vec::new(),
                });
            }
            out.last_mut().expect("pushed above").hubs.push(hub);
        }
        out.sort_by(|a, b| a.group.cmp(&b.group));
        out
    }
}

/// Numbers for queue-group names, so trie subscribers are `Copy`; a number is recycled when
/// no interest uses its name any more.
#[derive(Debug, Clone, Default)]
struct GroupNumbers {
    by_name: HashMap<String, u32>,
    /// Name and use count by number - 1 (number 0 is plain interest).
    slots: Vec<(String, usize)>,
    free: Vec<u32>,
}

impl GroupNumbers {
    fn number(&self, name: Option<&str>) -> Option<u32> {
        match name {
            None => Some(PLAIN),
            Some(name) => self.by_name.get(name).copied(),
        }
    }

    fn acquire(&mut self, name: Option<&str>) -> u32 {
        let Some(name) = name else { return PLAIN };
        let number = match self.by_name.get(name) {
            Some(&number) => number,
            None => {
                let number = match self.free.pop() {
                    Some(number) => {
                        self.slots[number as usize - 1] = (name.to_owned(), 0);
                        number
                    }
                    None => {
                        self.slots.push((name.to_owned(), 0));
                        u32::try_from(self.slots.len()).expect("fewer than 2^32 groups")
                    }
                };
                self.by_name.insert(name.to_owned(), number);
                number
            }
        };
        self.slots[number as usize - 1].1 += 1;
        number
    }

    fn release(&mut self, number: u32) {
        if number == PLAIN {
            return;
        }
        let slot = &mut self.slots[number as usize - 1];
        slot.1 -= 1;
        if slot.1 == 0 {
            self.by_name.remove(&slot.0);
            self.free.push(number);
        }
    }

    fn name(&self, number: u32) -> &str {
        &self.slots[number as usize - 1].0
    }
}
