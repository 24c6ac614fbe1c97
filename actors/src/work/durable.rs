//! [`Durable`]: a dispatcher's durable queues in the process's store. Enqueues are stored (one
//! group commit shared with every other queue) before they are answered; acks, retries and
//! dead letters are recorded after the fact; the store's pause states are followed; items an
//! operator requeues are found again.
//!
//! Leases are not stored: after a restart every item not acked (or dead-lettered) is waiting
//! again, its counted failures kept (the store's attempts).

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use hubwire_core::store::{ItemId, Op, OpOutcome, PauseState, PendingItem};
use hubwire_core::work::{Settled, WorkItem};

use super::options::WorkQueue;
use crate::queue::{PauseMirror, QueueError, StoreHandle};

/// The store side of a dispatcher.
pub(crate) struct Durable {
    store: StoreHandle,
    mirrors: HashMap<String, Arc<PauseMirror>>,
    /// Items of each queue submitted and not yet committed.
    storing: HashMap<String, usize>,
    /// Items acked or dead-lettered whose record is not committed yet: the store still holds
    /// them as pending, and a scan must not take them for requeued ones.
    settling: HashMap<String, HashSet<u64>>,
    /// Per queue, the store's requeue count at the last scan.
    requeues_seen: HashMap<String, u64>,
}

/// A stored item as the dispatch holds it.
pub(crate) fn work_item(item: PendingItem) -> WorkItem {
    WorkItem {
        id: item.id.0,
        body: item.body,
        deliveries: item.attempts,
        failures: item.attempts,
        not_before_ms: item.not_before_ms,
        enqueued_at_ms: item.enqueued_at_ms,
        errors: item.errors,
        requeue_count: item.requeue_count,
    }
}

impl Durable {
    /// Registers the durable queues with the store (refusing a name something else in this
    /// process uses) and follows their pause states.
    pub(crate) fn open(store: &StoreHandle, queues: &[WorkQueue]) -> Result<Durable, QueueError> {
        let mut mirrors = HashMap::new();
        for queue in queues.iter().filter(|q| q.durable) {
            let mirror = store.watch_exclusive_blocking(&queue.name)?;
            mirrors.insert(queue.name.clone(), mirror);
        }
        Ok(Durable {
            store: store.clone(),
            mirrors,
            storing: HashMap::new(),
            settling: HashMap::new(),
            requeues_seen: HashMap::new(),
        })
    }

    /// Every pending item of `queue`: what a restart resumes with.
    pub(crate) fn load(
        &self,
        queue: &str,
    ) -> impl Future<Output = Result<Vec<WorkItem>, QueueError>> + 'static {
        let queue = queue.to_owned();
        let read = self
            .store
            .read(move |view| view.store().all_pending(&queue));
        async move { Ok(read.await?.into_iter().map(work_item).collect()) }
    }

    pub(crate) fn pause(&self, queue: &str) -> Option<PauseState> {
        self.mirrors.get(queue).map(|m| m.get())
    }

    pub(crate) fn pauses(&self) -> Vec<(String, PauseState)> {
        self.mirrors
            .iter()
            .map(|(q, m)| (q.clone(), m.get()))
            .collect()
    }

    pub(crate) fn storing(&mut self, queue: &str, n: usize) {
        *self.storing.entry(queue.to_owned()).or_default() += n;
    }

    pub(crate) fn stored(&mut self, queue: &str, n: usize) {
        if let Some(count) = self.storing.get_mut(queue) {
            *count = count.saturating_sub(n);
        }
    }

    pub(crate) fn storing_count(&self, queue: &str) -> usize {
        self.storing.get(queue).copied().unwrap_or(0)
    }

    /// Stores the bodies of every `(queue, bodies)` of a read pass in one submission (one
    /// group commit); their outcomes once committed, in order.
    pub(crate) fn enqueue<'a>(
        &self,
        batch: impl Iterator<Item = (&'a str, &'a [Bytes])>,
    ) -> impl Future<Output = Result<Vec<OpOutcome>, QueueError>> + 'static {
        let now_ms = super::dispatcher::now_ms();
        let ops = batch
            .flat_map(|(queue, bodies)| {
                bodies.iter().map(move |body| Op::Enqueue {
                    queue: queue.to_owned(),
                    route: queue.to_owned(),
                    body: body.clone(),
                    headers: Vec::new(),
                    idempotency_key: None,
                    now_ms,
                    // The dispatcher checks the bound before it submits.
                    max_pending: usize::MAX,
                    group: None,
                })
            })
            .collect();
        self.store.submit(ops)
    }

    /// The store change for what became of an item; acked and dead ones are settling until
    /// committed.
    pub(crate) fn op_for(&mut self, settled: &Settled, now_ms: u64) -> Option<Op> {
        let (queue, id) = (settled.item().0.to_owned(), ItemId(settled.item().1));
        match settled {
            Settled::Acked { .. } => {
                self.settling.entry(queue.clone()).or_default().insert(id.0);
                Some(Op::Complete { queue, id })
            }
            Settled::Dead { reason, .. } => {
                self.settling.entry(queue.clone()).or_default().insert(id.0);
                Some(Op::Fail {
                    queue,
                    id,
                    error: reason.clone(),
                    now_ms,
                })
            }
            Settled::Retry {
                reason,
                not_before_ms,
                ..
            } => Some(Op::Retry {
                queue,
                id,
                error: reason.clone(),
                now_ms,
                not_before_ms: *not_before_ms,
            }),
            Settled::Released { .. } => None,
        }
    }

    /// Submits settled items' records; the keys no longer settling once committed.
    pub(crate) fn submit_settled(
        &self,
        ops: Vec<Op>,
    ) -> impl Future<Output = Vec<(String, u64)>> + 'static {
        let keys: Vec<(String, u64)> = ops
            .iter()
            .filter_map(|op| match op {
                Op::Complete { queue, id } | Op::Fail { queue, id, .. } => {
                    Some((queue.clone(), id.0))
                }
                _ => None,
            })
            .collect();
        let commit = self.store.submit(ops);
        async move {
            if let Err(e) = commit.await {
                tracing::error!(error = %e, "work queue: recording acks and failures in the store failed; those items will be delivered again after a restart");
            }
            keys
        }
    }

    pub(crate) fn committed(&mut self, keys: Vec<(String, u64)>) {
        for (queue, id) in keys {
            if let Some(set) = self.settling.get_mut(&queue) {
                set.remove(&id);
            }
        }
    }

    pub(crate) fn settling_of(&self, queue: &str) -> Vec<u64> {
        self.settling
            .get(queue)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Pending items of `queue` the dispatch does not know (requeued by an operator). The
    /// store is read only when a requeue was committed since the last look: under load the
    /// store always holds items the dispatch has not added yet (committed, answer on its way),
    /// and reading every pending item then would stall the group commit for nothing.
    pub(crate) fn scan(
        &mut self,
        queue: &str,
        known: HashSet<u64>,
    ) -> impl Future<Output = (u64, Vec<WorkItem>)> + 'static {
        let queue = queue.to_owned();
        let seen = self.requeues_seen.get(&queue).copied().unwrap_or(0);
        let read = self.store.read_committed(move |view| {
            let requeued = view.totals(&queue).requeued;
            if requeued == seen {
                return Ok((requeued, Vec::new()));
            }
            let store = view.store();
            let items = store
                .all_pending(&queue)?
                .into_iter()
                .filter(|item| !known.contains(&item.id.0))
                .map(work_item)
                .collect();
            Ok((requeued, items))
        });
        async move { read.await.unwrap_or((seen, Vec::new())) }
    }

    /// The requeues of `queue` a scan has looked at.
    pub(crate) fn scanned(&mut self, queue: &str, requeued: u64) {
        self.requeues_seen.insert(queue.to_owned(), requeued);
    }
}
