//! [`InterestDb`]: every other hub's interest, kept in step with their updates.

use std::collections::{BTreeMap, BTreeSet};

use super::interest::full_parts;
use super::interest_index::{GroupMembers, InterestIndex};
use super::{Applied, FullPart, HubId, Interest, InterestUpdate};
use crate::pubsub::Channel;

/// The interest of every other hub, from the [`InterestUpdate`]s flooded to this one.
///
/// Each origin's state is a version and one of:
/// - **synced**: its set at that version is known;
/// - **filling**: parts of its full set at that version are coming in;
/// - **unsynced**: an update was missed ([`Applied::Gap`]); waiting for a full set;
/// - **overflowed**: it has more than `max_per_origin` interests; only versions are followed.
///
/// Anything but synced counts as plain interest in everything (`**`) and as no queue-group
/// member: over-delivery costs bandwidth that the receiving hub's own table filters, where
/// under-delivery would lose messages. A well-behaved origin never overflows, since
/// [`LocalInterest`](super::LocalInterest) summarizes past the same bound.
///
/// Every [`Applied::New`] moves an origin strictly forward (a higher version, or further into
/// a full set, or from filling to synced), so an update flooded around a ring is taken once
/// per hub and then dropped as [`Applied::Stale`]: flooding ends.
#[derive(Debug, Clone)]
pub struct InterestDb {
    me: HubId,
    origins: BTreeMap<HubId, OriginInterest>,
    index: InterestIndex,
    max_per_origin: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Sync {
    Synced,
    /// `cursor`: the greatest interest of the full set received so far.
    Filling {
        cursor: Interest,
    },
    Unsynced,
    Overflowed,
}

#[derive(Debug, Clone)]
struct OriginInterest {
    seq: u64,
    sync: Sync,
    /// The set (synced), or its parts so far (filling); empty otherwise.
    set: BTreeSet<Interest>,
}

impl InterestDb {
    /// Knows no origin; keeps at most `max_per_origin` interests of each.
    pub fn new(me: HubId, max_per_origin: usize) -> Self {
        InterestDb {
            me,
            origins: BTreeMap::new(),
            index: InterestIndex::default(),
            max_per_origin,
        }
    }

    /// Takes `update` if it moves its origin forward; see [`Applied`] for what to do next.
    /// An origin never heard of is synced at version 0 with no interest. Updates of this hub
    /// itself are [`Applied::Stale`]: its own interest lives in its own table.
    pub fn apply(&mut self, update: &InterestUpdate) -> Applied {
        if let Err(invalid) = update.validate() {
            return Applied::Invalid(invalid);
        }
        if update.origin == self.me {
            return Applied::Stale;
        }
        let origin = update.origin;
        let state = self.origins.entry(origin).or_insert(OriginInterest {
            seq: 0,
            sync: Sync::Synced,
            set: BTreeSet::new(),
        });
        // A synced delta changes the index item by item; anything else re-indexes the origin.
        if update.full.is_none() && state.sync == Sync::Synced && update.from_seq == state.seq {
            for interest in &update.remove {
                if state.set.remove(interest) {
                    self.index.remove(origin, interest);
                }
            }
            for interest in &update.add {
                if state.set.insert(interest.clone()) {
                    self.index.insert(origin, interest);
                }
            }
            state.seq = update.to_seq;
            if state.set.len() > self.max_per_origin {
                unindex(&mut self.index, origin, state);
                state.set.clear();
                state.sync = Sync::Overflowed;
                reindex(&mut self.index, origin, state);
            }
            return Applied::New;
        }
        unindex(&mut self.index, origin, state);
        let applied = match &update.full {
            None => step_delta(state, update),
            Some(part) => step_part(state, update, part),
        };
        if state.set.len() > self.max_per_origin {
            state.set.clear();
            state.sync = Sync::Overflowed;
        }
        reindex(&mut self.index, origin, state);
        applied
    }

    /// `origin`'s full set as parts of at most `max_items`, to answer a gap or fill a new
    /// link; empty unless the set is known (synced). This hub's own set comes from
    /// [`LocalInterest::full`](super::LocalInterest::full).
    pub fn full(&self, origin: HubId, max_items: usize) -> Vec<InterestUpdate> {
        match self.origins.get(&origin) {
            Some(state) if state.sync == Sync::Synced => {
                full_parts(origin, state.seq, &state.set, max_items)
            }
            _ => Vec::new(),
        }
    }

    /// Every synced origin's full set, for a new link.
    pub fn full_all(&self, max_items: usize) -> Vec<InterestUpdate> {
        self.origins
            .keys()
            .flat_map(|&origin| self.full(origin, max_items))
            .collect()
    }

    /// The hubs with plain interest in `channel` (those counted as interested in everything
    /// included), sorted.
    pub fn interested_hubs(&self, channel: &Channel) -> Vec<HubId> {
        self.index.interested_hubs(channel)
    }

    /// For each queue group with a member matching `channel` on another hub, those hubs.
    pub fn group_members(&self, channel: &Channel) -> Vec<GroupMembers> {
        self.index.group_members(channel)
    }

    /// `origin`'s set, when it is known (synced).
    pub fn interests_of(&self, origin: HubId) -> Option<&BTreeSet<Interest>> {
        self.origins
            .get(&origin)
            .filter(|s| s.sync == Sync::Synced)
            .map(|s| &s.set)
    }

    /// `origin`'s version, if heard of.
    pub fn seq_of(&self, origin: HubId) -> Option<u64> {
        self.origins.get(&origin).map(|s| s.seq)
    }

    /// Whether `origin` counts as interested in everything for now (its set is unknown).
    pub fn is_unknown(&self, origin: HubId) -> bool {
        self.origins
            .get(&origin)
            .is_some_and(|s| s.sync != Sync::Synced)
    }

    /// The origins heard of, sorted.
    pub fn origins(&self) -> Vec<HubId> {
        self.origins.keys().copied().collect()
    }

    /// Forgets the origins for which `keep` says no (hubs whose adverts were pruned).
    pub fn retain(&mut self, mut keep: impl FnMut(HubId) -> bool) {
        let gone: Vec<HubId> = self.origins.keys().copied().filter(|&o| !keep(o)).collect();
        for origin in gone {
            let state = self.origins.remove(&origin).expect("listed above");
            unindex(&mut self.index, origin, &state);
        }
    }
}

fn unindex(index: &mut InterestIndex, origin: HubId, state: &OriginInterest) {
    if state.sync == Sync::Synced {
        for interest in &state.set {
            index.remove(origin, interest);
        }
    }
    index.set_everything(origin, false);
}

fn reindex(index: &mut InterestIndex, origin: HubId, state: &OriginInterest) {
    if state.sync == Sync::Synced {
        for interest in &state.set {
            index.insert(origin, interest);
        }
    } else {
        index.set_everything(origin, true);
    }
}

/// A delta that is not the next one for a synced origin.
fn step_delta(state: &mut OriginInterest, update: &InterestUpdate) -> Applied {
    if update.to_seq <= state.seq {
        return Applied::Stale;
    }
    if state.sync == Sync::Overflowed {
        state.seq = update.to_seq;
        return Applied::New;
    }
    become_unsynced(state);
    Applied::Gap
}

/// A part of a full set.
fn step_part(state: &mut OriginInterest, update: &InterestUpdate, part: &FullPart) -> Applied {
    let seq = update.to_seq;
    let Some(after) = &part.after else {
        // A first part restarts the set, once per version (or after a gap at that version).
        if seq < state.seq || (seq == state.seq && state.sync != Sync::Unsynced) {
            return Applied::Stale;
        }
        state.seq = seq;
        state.set = update.add.iter().cloned().collect();
        state.sync = match (part.last, update.add.last()) {
            (false, Some(end)) => Sync::Filling {
                cursor: end.clone(),
            },
            _ => Sync::Synced,
        };
        return Applied::New;
    };
    if seq == state.seq {
        if let Sync::Filling { cursor } = &state.sync {
            if after > cursor {
                become_unsynced(state);
                return Applied::Gap;
            }
            let end = update.add.last().expect("a later part is never empty");
            if end <= cursor {
                return Applied::Stale;
            }
            state.set.extend(update.add.iter().cloned());
            state.sync = if part.last {
                Sync::Synced
            } else {
                Sync::Filling {
                    cursor: end.clone(),
                }
            };
            return Applied::New;
        }
    }
    if seq < state.seq || (seq == state.seq && state.sync != Sync::Unsynced) {
        return Applied::Stale;
    }
    become_unsynced(state);
    Applied::Gap
}

fn become_unsynced(state: &mut OriginInterest) {
    state.sync = Sync::Unsynced;
    state.set.clear();
}
