//! [`LeaseDeadlines`]: the leases ordered by when they end, so the passing of time looks only
//! at the leases that are due, not at every lease held (a dispatcher ticks every 20 ms and may
//! hold thousands).

use std::collections::BTreeSet;

use super::LeaseId;

/// `(deadline_ms, lease)` of every lease held.
#[derive(Debug, Default)]
pub(super) struct LeaseDeadlines(BTreeSet<(u64, LeaseId)>);

impl LeaseDeadlines {
    pub(super) fn insert(&mut self, deadline_ms: u64, lease: LeaseId) {
        self.0.insert((deadline_ms, lease));
    }

    pub(super) fn remove(&mut self, deadline_ms: u64, lease: LeaseId) {
        self.0.remove(&(deadline_ms, lease));
    }

    /// The lease's deadline moved.
    pub(super) fn moved(&mut self, lease: LeaseId, from_ms: u64, to_ms: u64) {
        if from_ms != to_ms {
            self.remove(from_ms, lease);
            self.insert(to_ms, lease);
        }
    }

    /// The leases whose deadline is `now_ms` or earlier, in lease order.
    pub(super) fn due(&self, now_ms: u64) -> Vec<LeaseId> {
        let mut due: Vec<LeaseId> = self
            .0
            .iter()
            .take_while(|(deadline, _)| *deadline <= now_ms)
            .map(|(_, lease)| *lease)
            .collect();
        due.sort();
        due
    }

    pub(super) fn len(&self) -> usize {
        self.0.len()
    }
}
