//! The keeper: the actor that owns a sender's queues (outgoing, retry and errored, all in the
//! store under one queue name), hands messages to worker actors that ask for work, and applies
//! the retry rule and the back-off policy to what they report.
//!
//! Workers never wait on a retry: the keeper commits the message back to the store with its
//! next attempt time and looks again when that time comes (a timer, and a poll every
//! [`POLL_INTERVAL`](crate::queue::POLL_INTERVAL)).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::sync::Arc;
use std::time::Duration;

use actix::{
    Actor, ActorContext, ActorFutureExt, Addr, AsyncContext, Context, Handler, Message, WrapFuture,
};
use hubwire_core::backoff::{BackoffPolicy, Decision, Failure, SplitMix64};
use hubwire_core::client::{CallError, Client};
use hubwire_core::protocol::Headers;
use hubwire_core::sender::RetryRule;
use hubwire_core::stats::Counter;
use hubwire_core::store::{ItemId, Op, PendingItem};

use super::options::{GroupOnError, Ordering};
use super::worker::{Deliver, DeliveryWorker, StopWorker};
use crate::queue::store_actor::PauseMirror;
use crate::queue::{ReadAhead, StoreHandle, POLL_INTERVAL};
use crate::supervisor::{ExitReporter, StopChild};

/// Milliseconds since the Unix epoch, as the keeper reads them (tests hand in their own).
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// A worker asks for a message to deliver.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct WorkWanted(pub(crate) Addr<DeliveryWorker>);

/// A worker reports an attempt, and asks for more.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct Delivered {
    pub(crate) id: ItemId,
    pub(crate) worker: Addr<DeliveryWorker>,
    pub(crate) result: Result<(), CallError>,
}

/// Something was enqueued: look for work.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct Wake;

/// The sender's figures in the stats registry.
#[derive(Debug, Clone)]
pub(crate) struct SenderCounters {
    pub(crate) delivered: Counter,
    pub(crate) retried: Counter,
    pub(crate) errored: Counter,
}

/// What a keeper is made from (kept by its supervisor's child spec, to make each incarnation).
#[derive(Clone)]
pub(crate) struct KeeperSetup {
    pub(crate) name: String,
    pub(crate) queue: String,
    pub(crate) route: String,
    pub(crate) client: Client,
    pub(crate) store: StoreHandle,
    pub(crate) pause: Arc<PauseMirror>,
    pub(crate) wake_sent: Arc<AtomicBool>,
    pub(crate) workers: usize,
    /// Already limited to the sender's max attempts.
    pub(crate) policy: BackoffPolicy,
    pub(crate) retry: RetryRule,
    pub(crate) ordering: Ordering,
    pub(crate) call_timeout: Duration,
    pub(crate) clock: Clock,
    pub(crate) counters: SenderCounters,
}

/// The keeper of one sender.
pub(crate) struct Keeper {
    setup: KeeperSetup,
    exit: ExitReporter,
    jitter: SplitMix64,
    workers: Vec<Addr<DeliveryWorker>>,
    /// Workers waiting for a message.
    idle: Vec<Addr<DeliveryWorker>>,
    /// Messages fetched ahead, and every id held until its outcome is committed (left out of
    /// every fetch and, in a sequenced sender, holding its group).
    ahead: ReadAhead,
    /// Attempts made before the one in flight, by id.
    running: HashMap<ItemId, u32>,
}

impl Keeper {
    pub(crate) fn new(setup: KeeperSetup, exit: ExitReporter) -> Self {
        Keeper {
            ahead: ReadAhead::new(setup.workers),
            setup,
            exit,
            jitter: SplitMix64::from_entropy(),
            workers: Vec::new(),
            idle: Vec::new(),
            running: HashMap::new(),
        }
    }

    /// Hands fetched messages to idle workers, then fetches enough for the idle workers and
    /// one message ahead per worker; nothing while sending is paused.
    fn fill(&mut self, ctx: &mut Context<Self>) {
        if self.setup.pause.get().processing_paused {
            return;
        }
        self.hand_out();
        let Some(fetch) = self.ahead.fetch(self.idle.len()) else {
            return;
        };
        let (now, limit, exclude) = ((self.setup.clock)(), fetch.limit, fetch.exclude);
        let queue = self.setup.queue.clone();
        let ordering = self.setup.ordering;
        let read = self.setup.store.read_committed(move |view| match ordering {
            Ordering::Unordered => view.store().next_ready(&queue, now, &exclude, limit),
            Ordering::Groups(on_error) => view.store().next_ready_in_groups(
                &queue,
                now,
                &exclude,
                limit,
                on_error == GroupOnError::Hold,
            ),
        });
        ctx.spawn(read.into_actor(self).map(move |fetched, keeper, ctx| {
            let again = match fetched {
                Ok(items) => keeper.ahead.fetched(items, limit),
                Err(e) => {
                    tracing::error!(sender = keeper.setup.name, error = %e, "cannot read the sender's queue");
                    keeper.ahead.fetch_failed();
                    false
                }
            };
            if again {
                keeper.fill(ctx);
            } else {
                keeper.hand_out();
            }
        }));
    }

    /// Gives each idle worker a fetched message, unless sending is paused.
    fn hand_out(&mut self) {
        if self.setup.pause.get().processing_paused {
            return;
        }
        while !self.idle.is_empty() {
            let Some(item) = self.ahead.next() else {
                break;
            };
            let worker = self.idle.pop().expect("checked above");
            self.deliver(item, worker);
        }
    }

    fn deliver(&mut self, item: PendingItem, worker: Addr<DeliveryWorker>) {
        let mut headers = Headers::new();
        for (name, value) in &item.headers {
            headers.insert(name.clone(), value.clone());
        }
        self.running.insert(item.id, item.attempts);
        worker.do_send(Deliver {
            id: item.id,
            route: self.setup.route.clone(),
            body: item.body,
            headers,
            timeout: self.setup.call_timeout,
        });
    }

    /// Commits what became of message `id`: delivered, retried after the back-off, or errored.
    fn settle(
        &mut self,
        id: ItemId,
        attempts_before: u32,
        result: Result<(), CallError>,
        ctx: &mut Context<Self>,
    ) {
        let (queue, now) = (self.setup.queue.clone(), (self.setup.clock)());
        let name = &self.setup.name;
        let op = match result {
            Ok(()) => {
                self.setup.counters.delivered.inc();
                Op::Complete { queue, id }
            }
            Err(e) if !self.setup.retry.retryable(&e) => {
                tracing::warn!(sender = name, %id, error = %e, "not retryable: moved to errored");
                self.setup.counters.errored.inc();
                Op::Fail {
                    queue,
                    id,
                    error: format!("not retried: {e}"),
                    now_ms: now,
                }
            }
            Err(e) => {
                let error = e.to_string();
                let failure = Failure::retryable(error.clone());
                let decision =
                    self.setup
                        .policy
                        .decide(attempts_before + 1, &failure, &mut self.jitter);
                match &decision {
                    Decision::GiveUp(reason) => {
                        tracing::warn!(sender = name, %id, %reason, "moved to errored");
                        self.setup.counters.errored.inc();
                    }
                    decision => {
                        let delay = decision.delay().unwrap_or_default();
                        tracing::debug!(sender = name, %id, ?delay, error, "will retry");
                        self.setup.counters.retried.inc();
                        // Look again when it is due (the poll would find it too, later).
                        ctx.run_later(delay, |keeper, ctx| keeper.fill(ctx));
                    }
                }
                Op::after_failure(queue, id, error, now, &decision)
            }
        };
        let commit = self.setup.store.submit(vec![op]);
        ctx.spawn(commit.into_actor(self).map(move |committed, keeper, ctx| {
            // Committed or not, the store has the message's current state: free to take again.
            keeper.ahead.release(id);
            if let Err(e) = committed {
                tracing::error!(sender = keeper.setup.name, %id, error = %e, "cannot record a delivery; the message will be sent again");
            }
            keeper.fill(ctx);
        }));
    }
}

impl Actor for Keeper {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // A wake sent to an incarnation that crashed never cleared the flag.
        self.setup.wake_sent.store(false, AtomicOrdering::Release);
        let keeper = ctx.address();
        self.workers = (0..self.setup.workers.max(1))
            .map(|_| DeliveryWorker::new(keeper.clone(), self.setup.client.clone()).start())
            .collect();
        ctx.run_interval(POLL_INTERVAL, |keeper, ctx| keeper.fill(ctx));
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        for worker in &self.workers {
            worker.do_send(StopWorker);
        }
    }
}

impl Handler<WorkWanted> for Keeper {
    type Result = ();

    fn handle(&mut self, WorkWanted(worker): WorkWanted, ctx: &mut Context<Self>) {
        self.idle.push(worker);
        self.fill(ctx);
    }
}

impl Handler<Delivered> for Keeper {
    type Result = ();

    fn handle(&mut self, delivered: Delivered, ctx: &mut Context<Self>) {
        self.idle.push(delivered.worker);
        if let Some(attempts) = self.running.remove(&delivered.id) {
            self.settle(delivered.id, attempts, delivered.result, ctx);
        }
        self.fill(ctx);
    }
}

impl Handler<Wake> for Keeper {
    type Result = ();

    fn handle(&mut self, _: Wake, ctx: &mut Context<Self>) {
        // Cleared before the fetch, so a send committed after it wakes us again.
        self.setup.wake_sent.store(false, AtomicOrdering::Release);
        self.fill(ctx);
    }
}

impl Handler<StopChild> for Keeper {
    type Result = ();

    /// Stops at once: messages in flight stay in the store and are sent again after a restart
    /// (at least once).
    fn handle(&mut self, _: StopChild, ctx: &mut Context<Self>) {
        self.exit.finished();
        ctx.stop();
    }
}
