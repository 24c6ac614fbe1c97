//! [`DispatchPolicy`]: which worker gets an item (Net Queue's `choose_dispatch`), and the
//! built-in policies.

use std::fmt;

use super::{WorkerId, WorkerStatus};

/// The item being placed.
#[derive(Debug, Clone, Copy)]
pub struct ItemView<'a> {
    /// Its queue.
    pub queue: &'a str,
    /// Its id.
    pub id: u64,
    /// Times it was delivered before.
    pub deliveries: u32,
}

/// A worker that could take the item: it takes the queue, has credit left and is not lost.
#[derive(Debug, Clone, Copy)]
pub struct WorkerView<'a> {
    /// The worker.
    pub id: WorkerId,
    /// Leases it holds now.
    pub in_flight: u32,
    /// Leases it may hold at once.
    pub credit: u32,
    /// What it last reported about itself.
    pub status: &'a WorkerStatus,
    /// Milliseconds since it was last heard from (its health: lower is fresher).
    pub silent_ms: u64,
}

/// Chooses the worker for each item. `choose` gets the candidates (never empty) and returns the
/// index of the one to lease the item to, or `None` to hold the item back for now (it is
/// offered again at the next dispatch pass). A panic, or an index out of range, is counted and
/// treated as [`LeastInFlight`]'s choice.
pub trait DispatchPolicy: Send + fmt::Debug {
    /// The index in `candidates` of the worker to lease `item` to, or `None` to hold it.
    fn choose(&mut self, item: ItemView<'_>, candidates: &[WorkerView<'_>]) -> Option<usize>;
}

/// The worker with the fewest leases for its credit (ties: the lower worker id). The default.
#[derive(Debug, Clone, Copy, Default)]
pub struct LeastInFlight;

impl DispatchPolicy for LeastInFlight {
    fn choose(&mut self, _: ItemView<'_>, candidates: &[WorkerView<'_>]) -> Option<usize> {
        least_loaded(candidates)
    }
}

/// The index of the candidate with the smallest share of its credit in use.
pub(super) fn least_loaded(candidates: &[WorkerView<'_>]) -> Option<usize> {
    (0..candidates.len()).min_by(|&a, &b| {
        let (a, b) = (&candidates[a], &candidates[b]);
        // in_flight/credit compared without division.
        let left = u64::from(a.in_flight) * u64::from(b.credit.max(1));
        let right = u64::from(b.in_flight) * u64::from(a.credit.max(1));
        left.cmp(&right).then(a.id.cmp(&b.id))
    })
}

/// Each worker in turn, by worker id, skipping those without credit.
#[derive(Debug, Clone, Copy, Default)]
pub struct RoundRobin {
    last: Option<WorkerId>,
}

impl DispatchPolicy for RoundRobin {
    fn choose(&mut self, _: ItemView<'_>, candidates: &[WorkerView<'_>]) -> Option<usize> {
        let after = |w: &WorkerView<'_>| self.last.is_none_or(|last| w.id > last);
        let next = (0..candidates.len())
            .filter(|&i| after(&candidates[i]))
            .min_by_key(|&i| candidates[i].id)
            .or_else(|| (0..candidates.len()).min_by_key(|&i| candidates[i].id))?;
        self.last = Some(candidates[next].id);
        Some(next)
    }
}

/// Steered by what workers report: a worker whose STATUS says `busy: true`, or `weight: 0`, gets
/// nothing; the others get items in proportion to their `weight` (1 when absent): the one with
/// the fewest leases per unit of weight goes first.
#[derive(Debug, Clone, Copy, Default)]
pub struct WeightedByStatus;

impl DispatchPolicy for WeightedByStatus {
    fn choose(&mut self, _: ItemView<'_>, candidates: &[WorkerView<'_>]) -> Option<usize> {
        let weight = |w: &WorkerView<'_>| match (w.status.busy, w.status.weight) {
            (true, _) => 0,
            (false, weight) => u64::from(weight.unwrap_or(1)),
        };
        (0..candidates.len())
            .filter(|&i| weight(&candidates[i]) > 0)
            .min_by(|&a, &b| {
                let (a, b) = (&candidates[a], &candidates[b]);
                let left = u64::from(a.in_flight) * weight(b);
                let right = u64::from(b.in_flight) * weight(a);
                left.cmp(&right).then(a.id.cmp(&b.id))
            })
    }
}

/// A built-in policy by its name in the configuration and the command line:
/// `least-in-flight`, `round-robin` or `weighted-by-status`.
pub fn policy_by_name(name: &str) -> Option<Box<dyn DispatchPolicy>> {
    match name {
        "least-in-flight" => Some(Box::new(LeastInFlight)),
        "round-robin" => Some(Box::new(RoundRobin::default())),
        "weighted-by-status" => Some(Box::new(WeightedByStatus)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(id: u64, in_flight: u32, credit: u32, status: &WorkerStatus) -> WorkerView<'_> {
        WorkerView {
            id: WorkerId(id),
            in_flight,
            credit,
            status,
            silent_ms: 0,
        }
    }

    const ITEM: ItemView<'static> = ItemView {
        queue: "q",
        id: 1,
        deliveries: 0,
    };

    #[test]
    fn least_in_flight_takes_the_smallest_share_of_credit() {
        let s = WorkerStatus::default();
        let workers = [view(1, 2, 4, &s), view(2, 1, 1, &s), view(3, 1, 4, &s)];
        assert_eq!(LeastInFlight.choose(ITEM, &workers), Some(2));
    }

    #[test]
    fn round_robin_goes_round_by_worker_id() {
        let s = WorkerStatus::default();
        let workers = [view(3, 0, 1, &s), view(1, 0, 1, &s), view(2, 0, 1, &s)];
        let mut rr = RoundRobin::default();
        let picks: Vec<u64> = (0..4)
            .map(|_| workers[rr.choose(ITEM, &workers).unwrap()].id.0)
            .collect();
        assert_eq!(picks, [1, 2, 3, 1]);
    }

    #[test]
    fn weighted_by_status_skips_busy_workers_and_follows_weights() {
        let busy = WorkerStatus {
            busy: true,
            ..WorkerStatus::default()
        };
        let heavy = WorkerStatus {
            weight: Some(3),
            ..WorkerStatus::default()
        };
        let plain = WorkerStatus::default();
        let only_busy = [view(1, 0, 10, &busy)];
        assert_eq!(WeightedByStatus.choose(ITEM, &only_busy), None);
        // Worker 2 (weight 3) with 2 leases is at 2/3 per unit; worker 3 (weight 1) with 1 at 1.
        let workers = [
            view(1, 0, 10, &busy),
            view(2, 2, 10, &heavy),
            view(3, 1, 10, &plain),
        ];
        assert_eq!(WeightedByStatus.choose(ITEM, &workers), Some(1));
    }

    #[test]
    fn built_ins_are_found_by_name() {
        for name in ["least-in-flight", "round-robin", "weighted-by-status"] {
            assert!(policy_by_name(name).is_some(), "{name}");
        }
        assert!(policy_by_name("random").is_none());
    }
}
