//! [`QueueWorkers`]: the actor that takes a queued route's ready items, runs its handlers and
//! reports each result to the store.
//!
//! "N workers" are N slots, each with its own handler actor made by the route's factory. The
//! actor reads ready items ahead of its idle slots ([`ReadAhead`]: oldest first, leaving out
//! the ids it holds), hands each to a slot's handler as the same [`Dispatch`] message a
//! plain route sends (so `serve!` handlers work unchanged, panics caught), and reads the
//! handler's reply frame back as an [`Outcome`]. It keeps an id until the store has committed
//! what became of it, so the id is never taken twice.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::{
    Actor, ActorContext, ActorFutureExt, Addr, AsyncContext, Context, Handler, Message, WrapFuture,
};
use bytes::BytesMut;
use hubwire_core::backoff::{BackoffPolicy, Decision, Failure, SplitMix64};
use hubwire_core::protocol::{decode_frame, kind, Envelope, ErrorCode, ErrorFrame};
use hubwire_core::store::{ItemId, Op, PendingItem};
use hubwire_core::{decode_body, Route};

use super::endpoint::now_ms;
use super::read_ahead::ReadAhead;
use super::store_actor::{PauseMirror, StoreHandle};
use crate::handler::{Dispatch, Outcome, ReplyTo};
use crate::routing::RouteStats;
use crate::supervisor::{ExitReporter, StopChild};

/// How often idle workers look for items without being woken: retries whose back-off has
/// passed, requeues and unpauses are found this way.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Tells the workers that an item may be ready (sent after each enqueue commit).
#[derive(Debug)]
pub(crate) struct Wake;

impl Message for Wake {
    type Result = ();
}

/// Makes a handler instance, again when one has stopped.
pub(crate) type Factory<H> = Arc<dyn Fn() -> H + Send + Sync>;

/// An item a slot's handler is working on.
#[derive(Debug)]
struct Running {
    slot: usize,
    /// Attempts made before this one.
    attempts: u32,
}

/// The workers of queued route `R`, served by handler actors `H`.
pub(crate) struct QueueWorkers<R: Route, H: Actor> {
    /// Tells the supervisor that a stop was asked for, not a crash.
    exit: ExitReporter,
    pub(crate) store: StoreHandle,
    /// Shared with the endpoint: cleared here when a [`Wake`] arrives.
    wake_sent: Arc<AtomicBool>,
    pub(crate) pause: Arc<PauseMirror>,
    pub(crate) factory: Factory<H>,
    pub(crate) handlers: Vec<Addr<H>>,
    /// Slots whose handler has nothing to do.
    pub(crate) idle: Vec<usize>,
    running: HashMap<ItemId, Running>,
    /// Items fetched ahead, and every id held until its result is committed.
    ahead: ReadAhead,
    /// Already set to give up after the route's max attempts.
    pub(crate) policy: BackoffPolicy,
    pub(crate) jitter: SplitMix64,
    pub(crate) stats: Arc<RouteStats>,
    _route: std::marker::PhantomData<fn() -> R>,
}

impl<R: Route, H: Actor> QueueWorkers<R, H> {
    /// Workers with `slots` handlers made by `factory`, started on the current arbiter.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        store: StoreHandle,
        wake_sent: Arc<AtomicBool>,
        pause: Arc<PauseMirror>,
        factory: Factory<H>,
        slots: usize,
        policy: BackoffPolicy,
        stats: Arc<RouteStats>,
        exit: ExitReporter,
    ) -> Self
    where
        H: Actor<Context = Context<H>>,
    {
        let handlers: Vec<Addr<H>> = (0..slots).map(|_| factory().start()).collect();
        QueueWorkers {
            exit,
            store,
            wake_sent,
            pause,
            factory,
            idle: (0..handlers.len()).rev().collect(),
            handlers,
            running: HashMap::new(),
            ahead: ReadAhead::new(slots),
            policy,
            jitter: SplitMix64::from_entropy(),
            stats,
            _route: std::marker::PhantomData,
        }
    }
}

impl<R, H> Actor for QueueWorkers<R, H>
where
    R: Route,
    H: Actor<Context = Context<H>> + Handler<Dispatch<R>>,
{
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // A wake sent to an incarnation that crashed never cleared the flag.
        self.wake_sent.store(false, Ordering::Release);
        // Whatever the store holds from before a restart is taken from here: items an earlier
        // incarnation was running are taken again (at least once).
        self.fill(ctx);
        ctx.run_interval(POLL_INTERVAL, |workers, ctx| workers.fill(ctx));
    }
}

impl<R, H> QueueWorkers<R, H>
where
    R: Route,
    H: Actor<Context = Context<H>> + Handler<Dispatch<R>>,
{
    /// Starts fetched items on idle slots, then fetches enough to fill the idle slots and keep
    /// one item ahead per slot; nothing while processing is paused.
    fn fill(&mut self, ctx: &mut Context<Self>) {
        if self.pause.get().processing_paused {
            return;
        }
        self.start_ready(ctx);
        let Some(fetch) = self.ahead.fetch(self.idle.len()) else {
            return;
        };
        let (now, limit, exclude) = (now_ms(), fetch.limit, fetch.exclude);
        let read = self
            .store
            .read_committed(move |view| view.store().next_ready(R::KEY, now, &exclude, limit));
        ctx.spawn(read.into_actor(self).map(move |fetched, workers, ctx| {
            let again = match fetched {
                Ok(items) => workers.ahead.fetched(items, limit),
                Err(e) => {
                    tracing::error!(route = R::KEY, error = %e, "cannot read the queue");
                    workers.ahead.fetch_failed();
                    false
                }
            };
            // Start what came; fetch again only if the page was full or slots freed meanwhile.
            if again {
                workers.fill(ctx);
            } else {
                workers.start_ready(ctx);
            }
        }));
    }

    /// Starts fetched items on idle slots, without fetching.
    fn start_ready(&mut self, ctx: &mut Context<Self>) {
        if self.pause.get().processing_paused {
            return;
        }
        while !self.idle.is_empty() {
            let Some(item) = self.ahead.next() else {
                break;
            };
            self.run(item, ctx);
        }
    }

    /// Hands `item` to an idle slot's handler.
    fn run(&mut self, item: PendingItem, ctx: &mut Context<Self>) {
        let id = item.id;
        self.ahead.hold(id);
        let request = match decode_body::<R::Request>(&item.body) {
            Ok(request) => request,
            Err(e) => {
                let message = format!("the stored body is not a valid {} request: {e}", R::KEY);
                return self.settle(id, item.attempts, Err(Failure::permanent(message)), ctx);
            }
        };
        let slot = self
            .idle
            .pop()
            .expect("no more items fetched than idle slots");
        let mut dispatch = Dispatch::<R> {
            request,
            deadline: None,
            reply_to: ReplyTo::with_token(id.0, id.0, ctx.address().recipient()),
            span: tracing::debug_span!("queued", route = R::KEY, id = id.0),
            stats: self.stats.clone(),
            _permit: None,
        };
        // A handler that stopped is replaced from the factory once.
        for _ in 0..2 {
            match self.handlers[slot].try_send(dispatch) {
                Ok(()) => {
                    self.stats.dispatched.inc();
                    let attempts = item.attempts;
                    self.running.insert(id, Running { slot, attempts });
                    return;
                }
                Err(e) => {
                    dispatch = e.into_inner();
                    tracing::warn!(
                        route = R::KEY,
                        slot,
                        "a queue handler stopped; starting another"
                    );
                    self.handlers[slot] = (self.factory)().start();
                }
            }
        }
        self.idle.push(slot);
        let failure =
            Failure::retryable(format!("the handler of {} is not taking requests", R::KEY));
        self.settle(id, item.attempts, Err(failure), ctx);
    }

    /// Commits what became of item `id`: done, retried after the back-off, or failed for good.
    fn settle(
        &mut self,
        id: ItemId,
        attempts_before: u32,
        result: Result<(), Failure>,
        ctx: &mut Context<Self>,
    ) {
        let queue = R::KEY.to_owned();
        let now = now_ms();
        let op = match result {
            Ok(()) => Op::Complete { queue, id },
            Err(failure) => {
                let decision = self
                    .policy
                    .decide(attempts_before + 1, &failure, &mut self.jitter);
                if let Decision::GiveUp(reason) = &decision {
                    tracing::warn!(route = R::KEY, %id, %reason, "moved to the error queue");
                }
                let error = failure.message().to_owned();
                Op::after_failure(queue, id, error, now, &decision)
            }
        };
        let commit = self.store.submit(vec![op]);
        ctx.spawn(commit.into_actor(self).map(move |committed, workers, ctx| {
            // Committed or not, the store has the item's current state: free to take again.
            workers.ahead.release(id);
            if let Err(e) = committed {
                tracing::error!(route = R::KEY, %id, error = %e, "cannot record a result; the item will run again");
            }
            workers.fill(ctx);
        }));
    }
}

/// A handler's reply frame read back: `Ok` for a RESPONSE, the code and message of an ERROR.
fn read_outcome(frame: &[u8]) -> Result<(), (ErrorCode, String)> {
    let mut buf = BytesMut::from(frame);
    match decode_frame(&mut buf, usize::MAX) {
        Ok(Some(frame)) if frame.kind == kind::RESPONSE => Ok(()),
        Ok(Some(frame)) if frame.kind == kind::ERROR => match ErrorFrame::from_frame(&frame) {
            Ok(error) => Err((error.code, error.message)),
            Err(e) => Err((
                ErrorCode::HandlerFailure,
                format!("unreadable error reply: {e}"),
            )),
        },
        _ => Err((ErrorCode::HandlerFailure, "unreadable handler reply".into())),
    }
}

impl<R, H> Handler<Outcome> for QueueWorkers<R, H>
where
    R: Route,
    H: Actor<Context = Context<H>> + Handler<Dispatch<R>>,
{
    type Result = ();

    fn handle(&mut self, outcome: Outcome, ctx: &mut Context<Self>) {
        let id = ItemId(outcome.token);
        let Some(running) = self.running.remove(&id) else {
            return;
        };
        self.idle.push(running.slot);
        // An invalid request stays invalid: no point retrying it.
        let result = read_outcome(&outcome.frame).map_err(|(code, message)| match code {
            ErrorCode::InvalidBody => Failure::permanent(message),
            _ => Failure::retryable(message),
        });
        self.settle(id, running.attempts, result, ctx);
        self.fill(ctx);
    }
}

impl<R, H> Handler<Wake> for QueueWorkers<R, H>
where
    R: Route,
    H: Actor<Context = Context<H>> + Handler<Dispatch<R>>,
{
    type Result = ();

    fn handle(&mut self, _: Wake, ctx: &mut Context<Self>) {
        // Cleared before the fetch, so an enqueue committed after it wakes us again.
        self.wake_sent.store(false, Ordering::Release);
        self.fill(ctx);
    }
}

impl<R, H> Handler<StopChild> for QueueWorkers<R, H>
where
    R: Route,
    H: Actor<Context = Context<H>> + Handler<Dispatch<R>>,
{
    type Result = ();

    /// Stops at once: items being processed stay pending in the store and run again after a
    /// restart; the handlers stop when their last address (held here) is gone.
    fn handle(&mut self, _: StopChild, ctx: &mut Context<Self>) {
        self.exit.finished();
        ctx.stop();
    }
}
