//! [`Interest`] and the [`InterestUpdate`] messages that carry a hub's interest to the others.

use std::collections::BTreeSet;

use super::HubId;
use crate::protocol::MAX_GROUP_BYTES;
use crate::pubsub::Pattern;

/// One subscription pattern of a hub's own clients, with its queue group if it has one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Interest {
    /// What the subscriptions match.
    pub pattern: Pattern,
    /// The queue group: its messages go to one member, so the origin picks one hub for it.
    pub group: Option<String>,
}

impl Interest {
    /// An interest with no queue group.
    pub fn plain(pattern: Pattern) -> Interest {
        Interest {
            pattern,
            group: None,
        }
    }

    /// `**` in `group`: what a hub with too many interests announces instead of them.
    pub fn everything(group: Option<String>) -> Interest {
        Interest {
            pattern: Pattern::parse("**").expect("`**` is a pattern"),
            group,
        }
    }
}

/// A change to one hub's interest, or a part of all of it, flooded to every hub.
///
/// Versions count from 0 (no interest) and grow by one with every delta the origin takes. Two
/// kinds share the type:
/// - a **delta** (`full` is `None`) turns version `from_seq` into `to_seq = from_seq + 1` by
///   removing `remove` and adding `add` (disjoint);
/// - a **part of a full set** (`full` is `Some`) carries, at version `to_seq`, the interests of
///   the set that sort after [`FullPart::after`], in ascending order; `from_seq` is 0 ("from
///   nothing") and `remove` is empty. The first part (`after: None`) replaces what the receiver
///   had. Because a part says where it starts, parts cut by hubs with different sizes can be
///   mixed: a receiver takes any part that starts at or before what it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterestUpdate {
    /// The hub whose interest this is.
    pub origin: HubId,
    /// The version a delta applies to; 0 for a part of a full set.
    pub from_seq: u64,
    /// The version after this update.
    pub to_seq: u64,
    /// Interests added (for a part: the part's interests, ascending).
    pub add: Vec<Interest>,
    /// Interests removed (empty for a part).
    pub remove: Vec<Interest>,
    /// `Some` for a part of a full set.
    pub full: Option<FullPart>,
}

/// Where a part of a full set sits in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullPart {
    /// The last interest of the part before (`None` for the first part).
    pub after: Option<Interest>,
    /// Whether this part ends the set.
    pub last: bool,
}

/// What [`InterestDb::apply`](super::InterestDb::apply) made of an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Taken: flood it on to the other links.
    New,
    /// Already had it (or something newer): drop it.
    Stale,
    /// Something before it is missing: drop it and ask the link it came from for the origin's
    /// full set. Until that arrives the origin counts as interested in everything.
    Gap,
    /// Malformed: drop it (and log the link).
    Invalid(InvalidUpdate),
}

/// Why an [`InterestUpdate`] is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidUpdate {
    /// A delta must go up by exactly one version.
    #[error("delta goes from version {from} to {to}; a delta adds exactly one")]
    VersionJump {
        /// `from_seq`.
        from: u64,
        /// `to_seq`.
        to: u64,
    },
    /// A delta adds and removes the same interest.
    #[error("delta both adds and removes {0:?}")]
    AddAndRemove(Interest),
    /// A part of a full set has a `from_seq` or removals.
    #[error("part of a full set with from_seq {from} and {removals} removals; want 0 and none")]
    PartShape {
        /// `from_seq`.
        from: u64,
        /// How many removals it carries.
        removals: usize,
    },
    /// A part's interests are not ascending after its start, or a part other than a sole
    /// first one is empty.
    #[error("part of a full set is not ascending after its start, or is empty")]
    PartOrder,
    /// A queue-group name is empty or longer than [`MAX_GROUP_BYTES`].
    #[error("queue group of {len} bytes; want 1 to {MAX_GROUP_BYTES}")]
    Group {
        /// The name's length in bytes.
        len: usize,
    },
}

impl InterestUpdate {
    /// Checks the shape rules in the type's documentation.
    pub fn validate(&self) -> Result<(), InvalidUpdate> {
        for interest in self.add.iter().chain(&self.remove) {
            if let Some(group) = &interest.group {
                if group.is_empty() || group.len() > MAX_GROUP_BYTES {
                    return Err(InvalidUpdate::Group { len: group.len() });
                }
            }
        }
        let Some(part) = &self.full else {
            if self.from_seq.checked_add(1) != Some(self.to_seq) {
                return Err(InvalidUpdate::VersionJump {
                    from: self.from_seq,
                    to: self.to_seq,
                });
            }
            let added: BTreeSet<&Interest> = self.add.iter().collect();
            if let Some(both) = self.remove.iter().find(|i| added.contains(i)) {
                return Err(InvalidUpdate::AddAndRemove(both.clone()));
            }
            return Ok(());
        };
        if self.from_seq != 0 || !self.remove.is_empty() {
            return Err(InvalidUpdate::PartShape {
                from: self.from_seq,
                removals: self.remove.len(),
            });
        }
        let mut previous = part.after.as_ref();
        let mut ascending = true;
        for next in &self.add {
            ascending &= previous.is_none_or(|before| before < next);
            previous = Some(next);
        }
        // Only the first part may be empty (the whole set is empty); an empty later part
        // would not say where it ends.
        let sized = !self.add.is_empty() || (part.after.is_none() && part.last);
        if !(ascending && sized) {
            return Err(InvalidUpdate::PartOrder);
        }
        Ok(())
    }
}

/// `set` at version `seq` as parts of at most `max_items` interests (at least one part).
pub(crate) fn full_parts(
    origin: HubId,
    seq: u64,
    set: &BTreeSet<Interest>,
    max_items: usize,
) -> Vec<InterestUpdate> {
    let items: Vec<&Interest> = set.iter().collect();
    let mut chunks: Vec<&[&Interest]> = items.chunks(max_items.max(1)).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    let count = chunks.len();
    let mut after = None;
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let add: Vec<Interest> = chunk.iter().map(|&i| i.clone()).collect();
            let part = FullPart {
                after: after.clone(),
                last: i + 1 == count,
            };
            after = add.last().cloned();
            InterestUpdate {
                origin,
                from_seq: 0,
                to_seq: seq,
                add,
                remove: Vec::new(),
                full: Some(part),
            }
        })
        .collect()
}
