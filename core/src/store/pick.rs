//! Choosing ready items from a queue's pending items, given only what each needs to decide
//! (its id, next attempt time and group), so a store can pick before it decodes anything.

use std::collections::HashSet;

use super::item::ItemId;

/// The plain pick: items whose time has come and that no worker holds, oldest first.
pub(crate) struct Pick<'a> {
    now_ms: u64,
    exclude: &'a HashSet<ItemId>,
    limit: usize,
    /// With groups: the groups an older item (ready or not, held or not) or an errored item
    /// holds back.
    groups: Option<HashSet<String>>,
    pub(crate) chosen: Vec<ItemId>,
}

impl<'a> Pick<'a> {
    /// Up to `limit` items ready at `now_ms` and not in `exclude`.
    pub(crate) fn new(now_ms: u64, exclude: &'a HashSet<ItemId>, limit: usize) -> Self {
        Pick {
            now_ms,
            exclude,
            limit,
            groups: None,
            chosen: Vec::new(),
        }
    }

    /// The sequenced pick: besides, only the oldest item of each group, and none of a group
    /// in `blocked`.
    pub(crate) fn in_groups(mut self, blocked: HashSet<String>) -> Self {
        self.groups = Some(blocked);
        self
    }

    /// Considers the next oldest pending item; answers whether to go on.
    pub(crate) fn offer(&mut self, id: ItemId, not_before_ms: u64, group: Option<&str>) -> bool {
        if self.chosen.len() >= self.limit {
            return false;
        }
        if let (Some(held), Some(group)) = (&mut self.groups, group) {
            // Whatever becomes of this item, the rest of its group waits behind it.
            if !held.insert(group.to_owned()) {
                return true;
            }
        }
        if !self.exclude.contains(&id) && not_before_ms <= self.now_ms {
            self.chosen.push(id);
        }
        self.chosen.len() < self.limit
    }
}
