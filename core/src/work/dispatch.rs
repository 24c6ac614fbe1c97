//! [`Dispatch`]: queues, workers and leases, and every change to them.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};

use bytes::Bytes;

use super::deadlines::LeaseDeadlines;
use super::policy::least_loaded;
use super::queue::WaitingItems;
use super::{
    Delivery, DispatchLimits, DispatchPolicy, ItemView, LeaseError, LeaseId, QueueConfig,
    QueueFigures, Settled, WorkError, WorkItem, WorkerFigures, WorkerId, WorkerStatus, WorkerView,
};
use crate::store::AttemptError;

/// A connected worker.
#[derive(Debug)]
struct WorkerState {
    name: String,
    queues: Vec<String>,
    credit: u32,
    in_flight: u32,
    status: WorkerStatus,
    last_heard_ms: u64,
    /// Broadcast copies waiting for credit: `(queue, id, body)`.
    backlog: VecDeque<(String, u64, Bytes)>,
    delivered: u64,
    acked: u64,
}

impl WorkerState {
    fn has_credit(&self) -> bool {
        self.in_flight < self.credit
    }

    fn takes(&self, queue: &str) -> bool {
        self.queues.iter().any(|q| q == queue)
    }
}

/// An item leased to a worker.
#[derive(Debug)]
struct Lease {
    worker: WorkerId,
    queue: String,
    item: WorkItem,
    taken_ms: u64,
    deadline_ms: u64,
    broadcast: bool,
}

/// What the passing of time did ([`Dispatch::tick`]).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tick {
    /// Leases that lapsed, and what became of their items.
    pub lapsed: Vec<Settled>,
    /// Workers not heard from within the heartbeat timeout: taken for lost, their leases given
    /// back (the driver closes their connections).
    pub lost: Vec<(WorkerId, Vec<Settled>)>,
}

/// The dispatch bookkeeping of one dispatcher: see the [module docs](super).
#[derive(Debug)]
pub struct Dispatch {
    limits: DispatchLimits,
    policy: Box<dyn DispatchPolicy>,
    queues: BTreeMap<String, WaitingItems>,
    workers: BTreeMap<WorkerId, WorkerState>,
    leases: HashMap<LeaseId, Lease>,
    /// The lease of each leased shared item, by `(queue, id)`.
    leased_items: HashMap<(String, u64), LeaseId>,
    deadlines: LeaseDeadlines,
    last_lease: u64,
    policy_faults: u64,
    broadcast_dropped: u64,
}

impl Dispatch {
    /// An empty dispatcher choosing workers with `policy`.
    pub fn new(policy: Box<dyn DispatchPolicy>, limits: DispatchLimits) -> Self {
        Dispatch {
            limits,
            policy,
            queues: BTreeMap::new(),
            workers: BTreeMap::new(),
            leases: HashMap::new(),
            leased_items: HashMap::new(),
            deadlines: LeaseDeadlines::default(),
            last_lease: 0,
            policy_faults: 0,
            broadcast_dropped: 0,
        }
    }

    /// Serves queue `name` (or changes its settings). At least one delivery is always allowed.
    pub fn declare_queue(&mut self, name: &str, mut config: QueueConfig) {
        config.max_deliveries = config.max_deliveries.max(1);
        match self.queues.get_mut(name) {
            Some(queue) => queue.config = config,
            None => {
                self.queues
                    .insert(name.to_owned(), WaitingItems::new(config));
            }
        }
    }

    /// Whether queue `name` is served.
    pub fn has_queue(&self, name: &str) -> bool {
        self.queues.contains_key(name)
    }

    /// The names of the queues served, in order.
    pub fn queue_names(&self) -> Vec<String> {
        self.queues.keys().cloned().collect()
    }

    /// Adds an item (a new one, or one loaded from the store) to its queue.
    pub fn add_item(&mut self, queue: &str, item: WorkItem, now_ms: u64) -> Result<(), WorkError> {
        let leased = self.leased_items.contains_key(&(queue.to_owned(), item.id));
        let waiting = self
            .queues
            .get_mut(queue)
            .ok_or_else(|| WorkError::UnknownQueue(queue.to_owned()))?;
        if leased || waiting.contains(item.id) {
            return Err(WorkError::DuplicateItem {
                queue: queue.to_owned(),
                id: item.id,
            });
        }
        waiting.put(item, now_ms);
        Ok(())
    }

    /// `send_all`: a copy of the item for every worker that takes `queue` now, each leased on
    /// its own within that worker's credit. Copies are not shared items: one that is nacked,
    /// lapses or whose worker is lost is dropped, not given to another worker. Returns how many
    /// copies were made.
    pub fn send_all(&mut self, queue: &str, id: u64, body: Bytes) -> Result<usize, WorkError> {
        let waiting = self
            .queues
            .get_mut(queue)
            .ok_or_else(|| WorkError::UnknownQueue(queue.to_owned()))?;
        let mut copies = 0;
        for worker in self.workers.values_mut().filter(|w| w.takes(queue)) {
            if worker.backlog.len() >= self.limits.max_broadcast_backlog {
                worker.backlog.pop_front();
                self.broadcast_dropped += 1;
            }
            worker
                .backlog
                .push_back((queue.to_owned(), id, body.clone()));
            copies += 1;
        }
        waiting.figures.broadcast += copies as u64;
        Ok(copies)
    }

    /// A worker connected (it takes nothing until [`take`](Self::take)).
    pub fn join(&mut self, worker: WorkerId, name: String, now_ms: u64) {
        self.workers.insert(
            worker,
            WorkerState {
                name,
                queues: Vec::new(),
                credit: 0,
                in_flight: 0,
                status: WorkerStatus::default(),
                last_heard_ms: now_ms,
                backlog: VecDeque::new(),
                delivered: 0,
                acked: 0,
            },
        );
    }

    /// The worker takes `queues` (replacing what it took) with `credit` leases at most (lowered
    /// to the limit). Credit 0 drains it: it keeps its leases and gets nothing new. Refused as a
    /// whole when a queue is not served.
    pub fn take(
        &mut self,
        worker: WorkerId,
        queues: Vec<String>,
        credit: u32,
        now_ms: u64,
    ) -> Result<u32, WorkError> {
        if let Some(unknown) = queues.iter().find(|q| !self.queues.contains_key(*q)) {
            return Err(WorkError::UnknownQueue(unknown.clone()));
        }
        let max_credit = self.limits.max_credit;
        let state = self.worker_mut(worker)?;
        state.queues = queues;
        state.credit = credit.min(max_credit);
        state.last_heard_ms = now_ms;
        Ok(state.credit)
    }

    /// The worker's STATUS.
    pub fn set_status(
        &mut self,
        worker: WorkerId,
        status: WorkerStatus,
        now_ms: u64,
    ) -> Result<(), WorkError> {
        let state = self.worker_mut(worker)?;
        state.status = status;
        state.last_heard_ms = now_ms;
        Ok(())
    }

    /// The worker was heard from (any frame, a PONG included).
    pub fn heard(&mut self, worker: WorkerId, now_ms: u64) {
        if let Some(state) = self.workers.get_mut(&worker) {
            state.last_heard_ms = state.last_heard_ms.max(now_ms);
        }
    }

    /// Whether the worker is connected.
    pub fn has_worker(&self, worker: WorkerId) -> bool {
        self.workers.contains_key(&worker)
    }

    /// The worker left (disconnected, or was taken for lost): its shared items go back to their
    /// queues at once, not counted against them; its broadcast copies are dropped.
    pub fn leave(&mut self, worker: WorkerId, now_ms: u64) -> Vec<Settled> {
        let Some(state) = self.workers.remove(&worker) else {
            return Vec::new();
        };
        self.broadcast_dropped += state.backlog.len() as u64;
        let mut held: Vec<LeaseId> = self
            .leases
            .iter()
            .filter(|(_, lease)| lease.worker == worker)
            .map(|(id, _)| *id)
            .collect();
        held.sort();
        held.into_iter()
            .map(|id| {
                let lease = self.end_lease(id).expect("listed above");
                let (queue, item_id) = (lease.queue.clone(), lease.item.id);
                if !lease.broadcast {
                    let waiting = self.queues.get_mut(&lease.queue).expect("leased from it");
                    waiting.figures.released += 1;
                    let mut item = lease.item;
                    item.not_before_ms = now_ms;
                    waiting.put(item, now_ms);
                } else {
                    self.broadcast_dropped += 1;
                }
                Settled::Released { queue, id: item_id }
            })
            .collect()
    }

    /// The worker is done with the item.
    pub fn ack(&mut self, worker: WorkerId, lease: LeaseId) -> Result<Settled, LeaseError> {
        let lease = self.settle(worker, lease)?;
        if let Some(state) = self.workers.get_mut(&worker) {
            state.acked += 1;
        }
        if lease.broadcast {
            return Ok(Settled::Released {
                queue: lease.queue,
                id: lease.item.id,
            });
        }
        self.queue_figures_mut(&lease.queue).acked += 1;
        Ok(Settled::Acked {
            queue: lease.queue,
            id: lease.item.id,
        })
    }

    /// The worker failed the item; it may be delivered again after `delay_ms` (a counted
    /// failure).
    pub fn nack(
        &mut self,
        worker: WorkerId,
        lease: LeaseId,
        delay_ms: u64,
        reason: &str,
        now_ms: u64,
    ) -> Result<Settled, LeaseError> {
        let lease = self.settle(worker, lease)?;
        self.queue_figures_mut(&lease.queue).nacked += 1;
        Ok(self.failed(lease, reason, delay_ms, now_ms))
    }

    /// The worker refuses the item for good: it goes to the error queue at once.
    pub fn reject(
        &mut self,
        worker: WorkerId,
        lease: LeaseId,
        reason: &str,
    ) -> Result<Settled, LeaseError> {
        let lease = self.settle(worker, lease)?;
        if lease.broadcast {
            return Ok(Settled::Released {
                queue: lease.queue,
                id: lease.item.id,
            });
        }
        self.queue_figures_mut(&lease.queue).dead_lettered += 1;
        Ok(Settled::Dead {
            queue: lease.queue,
            id: lease.item.id,
            reason: format!("rejected: {reason}"),
            item: Box::new(lease.item),
        })
    }

    /// Progress: the lease now ends `extend_ms` from `now_ms` (the queue's visibility time when
    /// 0), never earlier than it did, and never later than `max_lease_ms` after it was taken.
    /// Returns the new deadline.
    pub fn extend(
        &mut self,
        worker: WorkerId,
        lease: LeaseId,
        extend_ms: u64,
        now_ms: u64,
    ) -> Result<u64, LeaseError> {
        self.check_holder(worker, lease)?;
        let held = self.leases.get_mut(&lease).expect("checked");
        let config = self.queues[&held.queue].config;
        let extend_ms = if extend_ms == 0 {
            config.visibility_ms
        } else {
            extend_ms
        };
        let cap = held.taken_ms.saturating_add(config.max_lease_ms);
        let wanted = now_ms.saturating_add(extend_ms).min(cap);
        let before = held.deadline_ms;
        held.deadline_ms = held.deadline_ms.max(wanted);
        let after = held.deadline_ms;
        self.deadlines.moved(lease, before, after);
        Ok(after)
    }

    /// Pauses or resumes dispatching from a queue (items are still taken in).
    pub fn set_paused(&mut self, queue: &str, paused: bool) -> Result<(), WorkError> {
        let waiting = self
            .queues
            .get_mut(queue)
            .ok_or_else(|| WorkError::UnknownQueue(queue.to_owned()))?;
        waiting.paused = paused;
        waiting.figures.paused = paused;
        Ok(())
    }

    /// The passing of time: leases past their deadline lapse (a counted failure), and workers
    /// silent for the heartbeat timeout are taken for lost (not counted against their items).
    pub fn tick(&mut self, now_ms: u64) -> Tick {
        let timeout = self.limits.heartbeat_timeout_ms;
        let lost: Vec<WorkerId> = self
            .workers
            .iter()
            .filter(|(_, w)| now_ms.saturating_sub(w.last_heard_ms) >= timeout)
            .map(|(id, _)| *id)
            .collect();
        // The lost first: a lease of a worker that is gone is the worker's failure.
        let lost = lost
            .into_iter()
            .map(|w| (w, self.leave(w, now_ms)))
            .collect();
        let due = self.deadlines.due(now_ms);
        let lapsed = due
            .into_iter()
            .map(|id| {
                let lease = self.end_lease(id).expect("listed above");
                self.queue_figures_mut(&lease.queue).lapsed += 1;
                let reason = format!(
                    "the lease lapsed: {} held it past its deadline without progress",
                    lease.worker
                );
                self.failed(lease, &reason, 0, now_ms)
            })
            .collect();
        Tick { lapsed, lost }
    }

    /// Leases ready items (and broadcast copies) to workers with credit, as the policy chooses.
    pub fn poll_deliveries(&mut self, now_ms: u64) -> Vec<Delivery> {
        let mut out = Vec::new();
        self.deliver_broadcasts(now_ms, &mut out);
        let names: Vec<String> = self.queues.keys().cloned().collect();
        for queue in names {
            self.deliver_from(&queue, now_ms, &mut out);
        }
        out
    }

    /// Items waiting (ready or delayed) in `queue`.
    pub fn pending(&self, queue: &str) -> usize {
        self.queues.get(queue).map_or(0, WaitingItems::len)
    }

    /// Items waiting in `queue` that failed at least once (counted in `pending` too).
    pub fn retrying(&self, queue: &str) -> usize {
        self.queues.get(queue).map_or(0, WaitingItems::retrying)
    }

    /// Items of `queue` leased now (broadcast copies not counted).
    pub fn in_flight(&self, queue: &str) -> usize {
        self.queues.get(queue).map_or(0, |q| q.leased)
    }

    /// Figures of every queue, by name.
    pub fn queue_figures(&self) -> Vec<(String, QueueFigures)> {
        self.queues
            .iter()
            .map(|(name, waiting)| {
                let mut figures = waiting.figures.clone();
                figures.pending = waiting.len() as u64;
                figures.in_flight = waiting.leased as u64;
                (name.clone(), figures)
            })
            .collect()
    }

    /// Figures of every connected worker, by id.
    pub fn worker_figures(&self) -> Vec<WorkerFigures> {
        self.workers
            .iter()
            .map(|(id, w)| WorkerFigures {
                worker: id.0,
                name: w.name.clone(),
                queues: w.queues.clone(),
                credit: w.credit,
                in_flight: w.in_flight,
                delivered: w.delivered,
                acked: w.acked,
                broadcast_backlog: w.backlog.len() as u64,
                status: w.status.raw.to_vec(),
                last_heard_ms: w.last_heard_ms,
            })
            .collect()
    }

    /// Policy calls that panicked or answered an index out of range (LeastInFlight chose).
    pub fn policy_faults(&self) -> u64 {
        self.policy_faults
    }

    /// Broadcast copies dropped: over a worker's backlog bound, or their worker was lost.
    pub fn broadcast_dropped(&self) -> u64 {
        self.broadcast_dropped
    }

    /// Leases held now.
    pub fn leases_held(&self) -> usize {
        debug_assert_eq!(self.deadlines.len(), self.leases.len());
        self.leases.len()
    }

    /// `(queue, id)` of every item waiting or leased (for checks).
    pub fn item_keys(&self) -> Vec<(String, u64)> {
        let mut keys: Vec<(String, u64)> = self
            .queues
            .iter()
            .flat_map(|(name, w)| w.ids().map(move |id| (name.clone(), id)))
            .chain(self.leased_items.keys().cloned())
            .collect();
        keys.sort();
        keys
    }

    /// Ids of the items of `queue` waiting or leased.
    pub fn item_keys_of(&self, queue: &str) -> Vec<u64> {
        let waiting = self.queues.get(queue).into_iter().flat_map(|w| w.ids());
        let leased = self
            .leased_items
            .keys()
            .filter(|(q, _)| q == queue)
            .map(|(_, id)| *id);
        waiting.chain(leased).collect()
    }

    fn worker_mut(&mut self, worker: WorkerId) -> Result<&mut WorkerState, WorkError> {
        self.workers
            .get_mut(&worker)
            .ok_or(WorkError::UnknownWorker(worker))
    }

    fn queue_figures_mut(&mut self, queue: &str) -> &mut QueueFigures {
        &mut self.queues.get_mut(queue).expect("leased from it").figures
    }

    fn check_holder(&self, worker: WorkerId, lease: LeaseId) -> Result<(), LeaseError> {
        match self.leases.get(&lease) {
            None => Err(LeaseError::Unknown(lease)),
            Some(held) if held.worker != worker => Err(LeaseError::NotYours { lease, worker }),
            Some(_) => Ok(()),
        }
    }

    fn settle(&mut self, worker: WorkerId, lease: LeaseId) -> Result<Lease, LeaseError> {
        self.check_holder(worker, lease)?;
        Ok(self.end_lease(lease).expect("checked"))
    }

    fn end_lease(&mut self, id: LeaseId) -> Option<Lease> {
        let lease = self.leases.remove(&id)?;
        self.deadlines.remove(lease.deadline_ms, id);
        if !lease.broadcast {
            self.leased_items
                .remove(&(lease.queue.clone(), lease.item.id));
            if let Some(waiting) = self.queues.get_mut(&lease.queue) {
                waiting.leased -= 1;
            }
        }
        if let Some(worker) = self.workers.get_mut(&lease.worker) {
            worker.in_flight -= 1;
        }
        Some(lease)
    }

    /// A counted failure: back to the queue after `delay_ms`, or to the error queue at the limit.
    fn failed(&mut self, lease: Lease, reason: &str, delay_ms: u64, now_ms: u64) -> Settled {
        let Lease {
            queue,
            mut item,
            broadcast,
            ..
        } = lease;
        if broadcast {
            self.broadcast_dropped += 1;
            return Settled::Released { queue, id: item.id };
        }
        item.failures += 1;
        let waiting = self.queues.get_mut(&queue).expect("leased from it");
        let id = item.id;
        if item.failures >= waiting.config.max_deliveries {
            waiting.figures.dead_lettered += 1;
            let reason = format!(
                "{reason} (failure {} of at most {})",
                item.failures, waiting.config.max_deliveries
            );
            let item = Box::new(item);
            return Settled::Dead {
                queue,
                id,
                reason,
                item,
            };
        }
        item.errors.push(AttemptError {
            at_ms: now_ms,
            message: reason.to_owned(),
        });
        item.not_before_ms = now_ms.saturating_add(delay_ms);
        let not_before_ms = item.not_before_ms;
        waiting.put(item, now_ms);
        Settled::Retry {
            queue,
            id,
            reason: reason.to_owned(),
            not_before_ms,
        }
    }

    fn new_lease(&mut self) -> LeaseId {
        self.last_lease += 1;
        LeaseId(self.last_lease)
    }

    fn lease(
        &mut self,
        worker: WorkerId,
        queue: &str,
        mut item: WorkItem,
        broadcast: bool,
        now_ms: u64,
    ) -> Delivery {
        let lease = self.new_lease();
        let waiting = self.queues.get_mut(queue).expect("dispatching from it");
        let visibility_ms = waiting.config.visibility_ms;
        item.deliveries += 1;
        if !broadcast {
            waiting.figures.delivered += 1;
            if item.deliveries > 1 {
                waiting.figures.redelivered += 1;
            }
            self.leased_items.insert((queue.to_owned(), item.id), lease);
            waiting.leased += 1;
        }
        let state = self.workers.get_mut(&worker).expect("a candidate");
        state.in_flight += 1;
        state.delivered += 1;
        let deadline_ms = now_ms.saturating_add(visibility_ms);
        self.deadlines.insert(deadline_ms, lease);
        let delivery = Delivery {
            worker,
            lease,
            queue: queue.to_owned(),
            id: item.id,
            delivery: item.deliveries,
            deadline_ms,
            visibility_ms,
            broadcast,
            body: item.body.clone(),
        };
        self.leases.insert(
            lease,
            Lease {
                worker,
                queue: queue.to_owned(),
                item,
                taken_ms: now_ms,
                deadline_ms,
                broadcast,
            },
        );
        delivery
    }

    fn deliver_broadcasts(&mut self, now_ms: u64, out: &mut Vec<Delivery>) {
        let ids: Vec<WorkerId> = self.workers.keys().copied().collect();
        for worker in ids {
            loop {
                let state = self.workers.get_mut(&worker).expect("listed");
                if !state.has_credit() {
                    break;
                }
                let Some((queue, id, body)) = state.backlog.pop_front() else {
                    break;
                };
                if self.queues.get(&queue).is_some_and(|q| q.paused) {
                    self.workers
                        .get_mut(&worker)
                        .expect("listed")
                        .backlog
                        .push_front((queue, id, body));
                    break;
                }
                out.push(self.lease(worker, &queue, WorkItem::new(id, body), true, now_ms));
            }
        }
    }

    fn deliver_from(&mut self, queue: &str, now_ms: u64, out: &mut Vec<Delivery>) {
        let waiting = self.queues.get_mut(queue).expect("listed");
        if waiting.paused {
            return;
        }
        waiting.promote(now_ms);
        loop {
            let waiting = &self.queues[queue];
            let Some(item) = waiting.peek_ready() else {
                return;
            };
            let candidates: Vec<WorkerView<'_>> = self
                .workers
                .iter()
                .filter(|(_, w)| w.has_credit() && w.takes(queue))
                .map(|(id, w)| WorkerView {
                    id: *id,
                    in_flight: w.in_flight,
                    credit: w.credit,
                    status: &w.status,
                    silent_ms: now_ms.saturating_sub(w.last_heard_ms),
                })
                .collect();
            if candidates.is_empty() {
                return;
            }
            let view = ItemView {
                queue,
                id: item.id,
                deliveries: item.deliveries,
            };
            let policy = &mut self.policy;
            let chosen = catch_unwind(AssertUnwindSafe(|| policy.choose(view, &candidates)));
            let index = match chosen {
                Ok(None) => return,
                Ok(Some(i)) if i < candidates.len() => i,
                Ok(Some(_)) | Err(_) => {
                    self.policy_faults += 1;
                    least_loaded(&candidates).expect("not empty")
                }
            };
            let worker = candidates[index].id;
            let item = self
                .queues
                .get_mut(queue)
                .expect("listed")
                .take_ready()
                .expect("peeked");
            out.push(self.lease(worker, queue, item, false, now_ms));
        }
    }
}
