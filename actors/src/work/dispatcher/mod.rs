//! [`Dispatcher`]: the actor that owns a [`Dispatch`] and its connections, turns their frames
//! into calls on it, sends the deliveries it decides, and keeps durable queues in the store
//! (`store.rs`: enqueues and records stored a read pass at a time, the load and the scan), and
//! gives its in-memory queues an error queue and a pause state an operator reaches by name
//! (`memory.rs`).

mod memory;
mod store;

use memory::MemoryQueues;
pub use memory::{MemoryAnswer, MemoryOp, MemoryQueueOp};
use store::Unstored;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix::{Actor, AsyncContext, Context, Handler, Message};
use bytes::Bytes;
use hubwire_core::protocol::{
    kind, peek_request_id, Ack, Deliver, Enqueue, Envelope, ErrorCode, ErrorFrame, Frame, Nack,
    Ping, Pong, Progress, Reject, Take, Taken, WorkStatus, BROADCAST,
};
use hubwire_core::work::{
    Delivery, Dispatch, LeaseId, QueueFigures, Settled, WorkItem, WorkerFigures, WorkerId,
    WorkerStatus,
};
use tokio::sync::oneshot;

use super::durable::Durable;
use super::options::{WorkQueue, STORE_SCAN_EVERY, TICK_EVERY};
use super::outbox::Outbox;

/// Ids of `send_all` copies start here, apart from stored ids (which count up from 1).
pub const BROADCAST_IDS_FROM: u64 = 1 << 63;

/// Milliseconds since the Unix epoch: the clock of leases and of the store.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A connection accepted and past its handshake.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Joined {
    pub(crate) conn: u64,
    pub(crate) name: String,
    pub(crate) outbox: Outbox,
}

/// The frames of one read of a connection.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Frames {
    pub(crate) conn: u64,
    pub(crate) frames: Vec<Frame>,
}

/// A connection ended.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Left {
    pub(crate) conn: u64,
}

/// The figures of every queue and every worker.
#[derive(Message)]
#[rtype(result = "WorkFigures")]
#[derive(Debug)]
pub struct GetFigures;

/// Figures of a dispatcher, as `hubwire.stats` shows them.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct WorkFigures {
    /// Per queue, by name.
    pub queues: BTreeMap<String, QueueFigures>,
    /// Per connected worker.
    pub workers: Vec<WorkerFigures>,
    /// Policy calls that panicked or chose out of range.
    pub policy_faults: u64,
    /// `send_all` copies dropped (backlog bound, or their worker was lost).
    pub broadcast_dropped: u64,
}

/// Pause or resume dispatching from a memory queue (durable ones follow the store's state).
#[derive(Message, Debug)]
#[rtype(result = "bool")]
pub struct SetPaused {
    /// The queue.
    pub queue: String,
    /// Pause (true) or resume (false).
    pub paused: bool,
}

struct Conn {
    name: String,
    outbox: Outbox,
    /// Sent a TAKE: joined to the dispatch as a worker.
    worker: bool,
    /// A STATUS sent before the first TAKE, applied when it joins.
    early_status: Option<Bytes>,
}

/// The dispatcher actor.
pub struct Dispatcher {
    name: String,
    dispatch: Dispatch,
    queues: HashMap<String, WorkQueue>,
    conns: HashMap<u64, Conn>,
    durable: Option<Durable>,
    /// The in-memory queues' error queues and pause states.
    memory: MemoryQueues,
    /// Ids of memory queues' items.
    next_memory_id: u64,
    next_broadcast_id: u64,
    ping_every: Duration,
    next_nonce: u64,
    /// Relayed items whose end someone waits for (a relay's worker, to answer its parent).
    watchers: HashMap<(String, u64), oneshot::Sender<Settled>>,
    /// Durable enqueues of this pass, stored together at its end ([`Self::flush_store`]).
    unstored: Vec<Unstored>,
    /// What became of items in this pass, recorded together at its end.
    unrecorded: Vec<Settled>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("name", &self.name)
            .field("connections", &self.conns.len())
            .finish_non_exhaustive()
    }
}

impl Dispatcher {
    pub(crate) fn new(
        name: String,
        dispatch: Dispatch,
        queues: Vec<WorkQueue>,
        durable: Option<Durable>,
        ping_every: Duration,
    ) -> Self {
        Dispatcher {
            name,
            dispatch,
            memory: MemoryQueues::new(&queues),
            queues: queues.into_iter().map(|q| (q.name.clone(), q)).collect(),
            conns: HashMap::new(),
            durable,
            next_memory_id: 1,
            next_broadcast_id: BROADCAST_IDS_FROM,
            ping_every,
            next_nonce: 1,
            watchers: HashMap::new(),
            unstored: Vec::new(),
            unrecorded: Vec::new(),
        }
    }

    fn send(&mut self, conn: u64, envelope: &impl Envelope) {
        let over = match self.conns.get(&conn) {
            Some(c) => !c.outbox.push(envelope),
            None => return,
        };
        if over {
            tracing::warn!(conn, "work connection over its outbound bound; cut off");
            self.close(conn);
        }
    }

    fn error(&mut self, conn: u64, id: Option<u64>, code: ErrorCode, message: String) {
        self.send(conn, &ErrorFrame { id, code, message });
    }

    /// Closes a connection and gives its leases back.
    fn close(&mut self, conn: u64) {
        if let Some(c) = self.conns.remove(&conn) {
            c.outbox.close();
            if c.worker {
                self.dispatch.leave(WorkerId(conn), now_ms());
            }
        }
    }

    /// Sends every delivery the dispatch decides now.
    fn pump(&mut self) {
        let deliveries = self.dispatch.poll_deliveries(now_ms());
        for d in deliveries {
            self.deliver(d);
        }
    }

    fn deliver(&mut self, d: Delivery) {
        let frame = Deliver {
            lease: d.lease.0,
            queue: d.queue,
            id: d.id,
            delivery: d.delivery,
            visibility_ms: d.visibility_ms,
            flags: if d.broadcast { BROADCAST } else { 0 },
            body: d.body,
        };
        self.send(d.worker.0, &frame);
    }

    fn on_frame(&mut self, conn: u64, frame: Frame) {
        let now = now_ms();
        let worker = WorkerId(conn);
        if self.conns.get(&conn).is_some_and(|c| c.worker) {
            self.dispatch.heard(worker, now);
        }
        let skipped = |this: &mut Self, e: hubwire_core::protocol::ProtocolError| {
            this.error(conn, None, e.code(), e.to_string());
        };
        match frame.kind {
            kind::PING => match Ping::from_frame(&frame) {
                Ok(Ping { nonce }) => self.send(conn, &Pong { nonce }),
                Err(e) => skipped(self, e),
            },
            kind::PONG | kind::ERROR => {}
            kind::STATUS => match WorkStatus::from_frame(&frame) {
                Ok(status) => match self.conns.get_mut(&conn) {
                    Some(c) if !c.worker => c.early_status = Some(status.body),
                    _ => {
                        let status = WorkerStatus::new(status.body);
                        let _ = self.dispatch.set_status(worker, status, now);
                    }
                },
                Err(e) => skipped(self, e),
            },
            kind::ENQUEUE => match Enqueue::from_frame(&frame) {
                Ok(enqueue) => self.on_enqueue(conn, enqueue),
                Err(e) => {
                    let id = peek_request_id(&frame.payload);
                    self.error(conn, id, e.code(), e.to_string());
                }
            },
            kind::WORK_TAKE => match Take::from_frame(&frame) {
                Ok(take) => self.on_take(conn, take, now),
                Err(e) => skipped(self, e),
            },
            kind::WORK_ACK | kind::WORK_NACK | kind::WORK_REJECT | kind::WORK_PROGRESS => {
                self.on_answer(conn, &frame, now)
            }
            kind::DISCONN => self.close(conn),
            kind::CONN => self.error(
                conn,
                None,
                ErrorCode::Protocol,
                "CONN after the handshake".into(),
            ),
            other => {
                let e = hubwire_core::session::unknown_kind(other);
                self.send(conn, &e);
            }
        }
    }

    fn on_take(&mut self, conn: u64, take: Take, now: u64) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let worker = WorkerId(conn);
        if !c.worker {
            if let Some(unknown) = take.queues.iter().find(|q| !self.dispatch.has_queue(q)) {
                let message = format!("no work queue named {unknown:?} is served here");
                return self.error(conn, None, ErrorCode::NotFound, message);
            }
            c.worker = true;
            let (name, early) = (c.name.clone(), c.early_status.take());
            self.dispatch.join(worker, name, now);
            if let Some(status) = early {
                let _ = self
                    .dispatch
                    .set_status(worker, WorkerStatus::new(status), now);
            }
        }
        match self.dispatch.take(worker, take.queues, take.credit, now) {
            Ok(credit) => {
                self.send(conn, &Taken { credit });
                let status = self.own_status();
                self.send(conn, &WorkStatus { body: status });
            }
            Err(e) => self.error(conn, None, ErrorCode::NotFound, e.to_string()),
        }
    }

    /// `{"dispatcher": name, "queues": {name: pending}}`.
    fn own_status(&self) -> Bytes {
        #[derive(serde::Serialize)]
        struct Own<'a> {
            dispatcher: &'a str,
            queues: BTreeMap<String, u64>,
        }
        let queues = self
            .dispatch
            .queue_names()
            .into_iter()
            .map(|q| {
                let n = self.dispatch.pending(&q) as u64;
                (q, n)
            })
            .collect();
        let own = Own {
            dispatcher: &self.name,
            queues,
        };
        rmp_serde::to_vec_named(&own).unwrap_or_default().into()
    }

    fn on_answer(&mut self, conn: u64, frame: &Frame, now: u64) {
        let worker = WorkerId(conn);
        if !self.conns.get(&conn).is_some_and(|c| c.worker) {
            let message = "ACK, NACK, REJECT and PROGRESS need a TAKE first".to_owned();
            return self.error(conn, None, ErrorCode::Protocol, message);
        }
        let settled = match frame.kind {
            kind::WORK_ACK => {
                Ack::from_frame(frame).map(|a| self.dispatch.ack(worker, LeaseId(a.lease)))
            }
            kind::WORK_NACK => Nack::from_frame(frame).map(|n| {
                self.dispatch
                    .nack(worker, LeaseId(n.lease), n.delay_ms, &n.reason, now)
            }),
            kind::WORK_REJECT => Reject::from_frame(frame)
                .map(|r| self.dispatch.reject(worker, LeaseId(r.lease), &r.reason)),
            _ => match Progress::from_frame(frame) {
                Ok(p) => {
                    if let Err(e) = self
                        .dispatch
                        .extend(worker, LeaseId(p.lease), p.extend_ms, now)
                    {
                        self.error(conn, None, ErrorCode::NotFound, e.to_string());
                    }
                    return;
                }
                Err(e) => Err(e),
            },
        };
        match settled {
            Ok(Ok(settled)) => self.settled(vec![settled]),
            Ok(Err(e)) => self.error(conn, None, ErrorCode::NotFound, e.to_string()),
            Err(e) => self.error(conn, None, e.code(), e.to_string()),
        }
    }

    /// What became of items: those a relay waits for are told (when acked or dead: the
    /// relay's parent keeps the record, so its dead items are not kept here too), dead items
    /// of in-memory queues go to their error queues, and durable ones are recorded.
    fn settled(&mut self, settled: Vec<Settled>) {
        let now = now_ms();
        for s in settled {
            if matches!(s, Settled::Acked { .. } | Settled::Dead { .. }) {
                let key = (s.item().0.to_owned(), s.item().1);
                if let Some(watcher) = self.watchers.remove(&key) {
                    let _ = watcher.send(s);
                    continue;
                }
            }
            if self.queues.get(s.item().0).is_some_and(|q| q.durable) {
                self.unrecorded.push(s);
            } else if let Settled::Dead {
                queue,
                reason,
                item,
                ..
            } = s
            {
                self.memory.dead(&queue, &reason, *item, now);
            }
        }
    }

    fn tick(&mut self, ctx: &mut Context<Self>) {
        let now = now_ms();
        if let Some(durable) = &self.durable {
            for (queue, pause) in durable.pauses() {
                let _ = self.dispatch.set_paused(&queue, pause.processing_paused);
            }
        }
        let tick = self.dispatch.tick(now);
        for (worker, _) in &tick.lost {
            tracing::info!(
                worker = worker.0,
                "work worker silent past the heartbeat timeout; taken for lost"
            );
            if let Some(c) = self.conns.remove(&worker.0) {
                c.outbox.close();
            }
        }
        let mut settled = tick.lapsed;
        settled.extend(tick.lost.into_iter().flat_map(|(_, s)| s));
        self.settled(settled);
        self.flush_store(ctx);
        self.pump();
    }

    fn ping_all(&mut self) {
        let nonce = self.next_nonce;
        self.next_nonce += 1;
        let conns: Vec<u64> = self.conns.keys().copied().collect();
        for conn in conns {
            self.send(conn, &Ping { nonce });
        }
    }
}

impl Actor for Dispatcher {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.load(ctx);
        ctx.run_interval(TICK_EVERY, |this, ctx| this.tick(ctx));
        ctx.run_interval(self.ping_every, |this, _| this.ping_all());
        if self.durable.is_some() {
            ctx.run_interval(STORE_SCAN_EVERY, |this, ctx| this.scan_store(ctx));
        }
    }
}

impl Handler<Joined> for Dispatcher {
    type Result = ();

    fn handle(&mut self, joined: Joined, _: &mut Context<Self>) {
        self.conns.insert(
            joined.conn,
            Conn {
                name: joined.name,
                outbox: joined.outbox,
                worker: false,
                early_status: None,
            },
        );
    }
}

impl Handler<Frames> for Dispatcher {
    type Result = ();

    fn handle(&mut self, batch: Frames, ctx: &mut Context<Self>) {
        for frame in batch.frames {
            if !self.conns.contains_key(&batch.conn) {
                break;
            }
            self.on_frame(batch.conn, frame);
        }
        self.flush_store(ctx);
        self.pump();
    }
}

impl Handler<Left> for Dispatcher {
    type Result = ();

    fn handle(&mut self, left: Left, _: &mut Context<Self>) {
        self.close(left.conn);
        self.pump();
    }
}

impl Handler<GetFigures> for Dispatcher {
    type Result = actix::MessageResult<GetFigures>;

    fn handle(&mut self, _: GetFigures, _: &mut Context<Self>) -> Self::Result {
        let mut queues: BTreeMap<String, QueueFigures> =
            self.dispatch.queue_figures().into_iter().collect();
        for (name, figures) in &mut queues {
            figures.dead_dropped = self.memory.dropped(name);
        }
        actix::MessageResult(WorkFigures {
            queues,
            workers: self.dispatch.worker_figures(),
            policy_faults: self.dispatch.policy_faults(),
            broadcast_dropped: self.dispatch.broadcast_dropped(),
        })
    }
}

impl Handler<SetPaused> for Dispatcher {
    type Result = bool;

    fn handle(&mut self, msg: SetPaused, _: &mut Context<Self>) -> bool {
        let done = self.dispatch.set_paused(&msg.queue, msg.paused).is_ok();
        self.memory.set_processing_paused(&msg.queue, msg.paused);
        self.pump();
        done
    }
}

/// A relay hands an item from its parent to this dispatcher's (in-memory) queue and learns
/// what became of it: the receiver gets [`Settled::Acked`] or [`Settled::Dead`].
#[derive(Message, Debug)]
#[rtype(result = "Result<oneshot::Receiver<Settled>, hubwire_core::work::WorkError>")]
pub struct RelayItem {
    /// The local queue.
    pub queue: String,
    /// The item's body, as the parent delivered it.
    pub body: Bytes,
}

impl Handler<RelayItem> for Dispatcher {
    type Result = Result<oneshot::Receiver<Settled>, hubwire_core::work::WorkError>;

    fn handle(&mut self, item: RelayItem, _: &mut Context<Self>) -> Self::Result {
        let (id, now) = (self.next_memory_id, now_ms());
        self.next_memory_id += 1;
        self.dispatch.add_item(
            &item.queue,
            WorkItem::new(id, item.body).enqueued_at(now),
            now,
        )?;
        let (tx, rx) = oneshot::channel();
        self.watchers.insert((item.queue, id), tx);
        self.pump();
        Ok(rx)
    }
}
