//! The dispatcher's store side: durable enqueues held to the end of a read pass and stored
//! together, what became of items recorded after the fact, the load at start and the scan
//! for items an operator requeued.

use std::collections::HashSet;

use actix::{ActorFutureExt, AsyncContext, Context, WrapFuture};
use bytes::Bytes;
use hubwire_core::protocol::{Enqueue, Enqueued, ErrorCode, SEND_ALL};
use hubwire_core::store::{ItemId, Op, OpOutcome};
use hubwire_core::work::{Settled, WorkItem};

use super::{now_ms, Dispatcher, BROADCAST_IDS_FROM};

/// A durable ENQUEUE held until the end of its read pass, to be stored with the others of the
/// pass in one submission (and one group commit).
pub(super) struct Unstored {
    conn: u64,
    reference: u64,
    queue: String,
    bodies: Vec<Bytes>,
}

impl Dispatcher {
    pub(super) fn on_enqueue(&mut self, conn: u64, enqueue: Enqueue) {
        let reference = Some(enqueue.reference);
        let Some(queue) = self.queues.get(&enqueue.queue).cloned() else {
            let message = format!("no work queue named {:?} is served here", enqueue.queue);
            return self.error(conn, reference, ErrorCode::NotFound, message);
        };
        if enqueue.items.is_empty() {
            let message = "an ENQUEUE needs at least one item".to_owned();
            return self.error(conn, reference, ErrorCode::InvalidBody, message);
        }
        if self.receiving_paused(&queue.name) {
            let message = format!("work queue {:?} is not receiving (paused)", queue.name);
            return self.error(conn, reference, ErrorCode::Paused, message);
        }
        if enqueue.flags & SEND_ALL != 0 {
            let mut ids = Vec::with_capacity(enqueue.items.len());
            for body in enqueue.items {
                let id = self.next_broadcast_id;
                self.next_broadcast_id += 1;
                let _ = self.dispatch.send_all(&queue.name, id, body);
                ids.push(id);
            }
            self.send(
                conn,
                &Enqueued {
                    reference: enqueue.reference,
                    ids,
                },
            );
            return self.pump();
        }
        let held = self.held(&queue.name);
        if held + enqueue.items.len() > queue.max_pending {
            let message = format!(
                "work queue {:?} holds {held} items, and takes at most {}; try again later",
                queue.name, queue.max_pending
            );
            return self.error(conn, reference, ErrorCode::Busy, message);
        }
        if !queue.durable {
            let now = now_ms();
            let mut ids = Vec::with_capacity(enqueue.items.len());
            for body in enqueue.items {
                let id = self.next_memory_id;
                self.next_memory_id += 1;
                let _ = self.dispatch.add_item(
                    &queue.name,
                    WorkItem::new(id, body).enqueued_at(now),
                    now,
                );
                ids.push(id);
            }
            self.send(
                conn,
                &Enqueued {
                    reference: enqueue.reference,
                    ids,
                },
            );
            return self.pump();
        }
        let Some(durable) = &mut self.durable else {
            return;
        };
        durable.storing(&queue.name, enqueue.items.len());
        self.unstored.push(Unstored {
            conn,
            reference: enqueue.reference,
            queue: queue.name,
            bodies: enqueue.items,
        });
    }

    /// The end of a pass: its durable enqueues go to the store in one submission, and what
    /// became of its items in another (the store thread commits both in its next group
    /// commit), rather than one submission, one future and one reply per frame.
    pub(super) fn flush_store(&mut self, ctx: &mut Context<Self>) {
        let unrecorded = std::mem::take(&mut self.unrecorded);
        self.persist(unrecorded, ctx);
        if self.unstored.is_empty() {
            return;
        }
        let Some(durable) = &self.durable else {
            return;
        };
        let batch = std::mem::take(&mut self.unstored);
        let commit = durable.enqueue(
            batch
                .iter()
                .map(|u| (u.queue.as_str(), u.bodies.as_slice())),
        );
        ctx.spawn(
            commit
                .into_actor(self)
                .map(move |outcome, this, _| this.enqueues_stored(batch, outcome)),
        );
    }

    /// A pass's durable enqueues are committed (or failed): each ENQUEUE is answered with its
    /// own ids, and its items dispatched.
    pub(super) fn enqueues_stored(
        &mut self,
        batch: Vec<Unstored>,
        outcome: Result<Vec<OpOutcome>, crate::queue::QueueError>,
    ) {
        if let Some(d) = &mut self.durable {
            for u in &batch {
                d.stored(&u.queue, u.bodies.len());
            }
        }
        let outcomes = match outcome {
            Ok(outcomes) => outcomes,
            Err(e) => {
                let message = format!("the store failed; nothing of it was stored: {e}");
                for u in batch {
                    self.error(
                        u.conn,
                        Some(u.reference),
                        ErrorCode::Unhandled,
                        message.clone(),
                    );
                }
                return;
            }
        };
        let now = now_ms();
        let mut outcomes = outcomes.into_iter();
        for u in batch {
            let mut ids = Vec::with_capacity(u.bodies.len());
            let n = u.bodies.len();
            for (outcome, body) in outcomes.by_ref().take(n).zip(u.bodies) {
                if let OpOutcome::Enqueued(ItemId(id)) = outcome {
                    // A store scan may have added it already: that is the same item.
                    let _ = self
                        .dispatch
                        .add_item(&u.queue, WorkItem::new(id, body), now);
                    ids.push(id);
                }
            }
            let answer = Enqueued {
                reference: u.reference,
                ids,
            };
            self.send(u.conn, &answer);
        }
        self.pump();
    }

    /// Items of `queue` held now (waiting and leased), and those being stored.
    pub(super) fn held(&self, queue: &str) -> usize {
        let in_flight = self.dispatch.in_flight(queue);
        let storing = self.durable.as_ref().map_or(0, |d| d.storing_count(queue));
        self.dispatch.pending(queue) + in_flight + storing
    }

    pub(super) fn receiving_paused(&self, queue: &str) -> bool {
        self.memory.receiving_paused(queue)
            || self
                .durable
                .as_ref()
                .and_then(|d| d.pause(queue))
                .is_some_and(|p| p.receiving_paused)
    }

    /// Records in the store what became of durable items.
    pub(super) fn persist(&mut self, settled: Vec<Settled>, ctx: &mut Context<Self>) {
        let Some(durable) = &mut self.durable else {
            return;
        };
        let now = now_ms();
        let ops: Vec<Op> = settled
            .iter()
            .filter(|s| self.queues.get(s.item().0).is_some_and(|q| q.durable))
            .filter(|s| s.item().1 < BROADCAST_IDS_FROM)
            .filter_map(|s| durable.op_for(s, now))
            .collect();
        if ops.is_empty() {
            return;
        }
        let done = durable.submit_settled(ops);
        ctx.spawn(done.into_actor(self).map(|settled_keys, this, _| {
            if let Some(d) = &mut this.durable {
                d.committed(settled_keys);
            }
        }));
    }

    /// Loads the durable queues' pending items (what a restart resumes with).
    pub(super) fn load(&mut self, ctx: &mut Context<Self>) {
        let Some(durable) = &self.durable else {
            return;
        };
        for queue in self.queues.values().filter(|q| q.durable) {
            let name = queue.name.clone();
            let load = durable.load(&name);
            ctx.spawn(load.into_actor(self).map(move |items, this, _| match items {
                Ok(items) => {
                    let now = now_ms();
                    for item in items {
                        let _ = this.dispatch.add_item(&name, item, now);
                    }
                    this.pump();
                }
                Err(e) => tracing::error!(queue = %name, error = %e, "cannot load a durable work queue"),
            }));
        }
    }

    /// Items an operator requeued in the store come back into the dispatch.
    pub(super) fn scan_store(&mut self, ctx: &mut Context<Self>) {
        let Some(durable) = &self.durable else {
            return;
        };
        let queues: Vec<(String, HashSet<u64>)> = self
            .queues
            .values()
            .filter(|q| q.durable)
            .map(|q| {
                let known: HashSet<u64> = self
                    .dispatch
                    .item_keys_of(&q.name)
                    .into_iter()
                    .chain(durable.settling_of(&q.name))
                    .collect();
                (q.name.clone(), known)
            })
            .collect();
        for (queue, known) in queues {
            let Some(durable) = &mut self.durable else {
                return;
            };
            let found = durable.scan(&queue, known);
            ctx.spawn(
                found
                    .into_actor(self)
                    .map(move |(requeued, items), this, _| {
                        if let Some(d) = &mut this.durable {
                            d.scanned(&queue, requeued);
                        }
                        let now = now_ms();
                        let mut added = false;
                        for item in items {
                            added |= this.dispatch.add_item(&queue, item, now).is_ok();
                        }
                        if added {
                            this.pump();
                        }
                    }),
            );
        }
    }
}
