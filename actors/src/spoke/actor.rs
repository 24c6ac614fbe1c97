//! [`SpokeActor`]: owns one spoke's connection, subscriptions and calls.
//!
//! The connection layer lives here: connect (with the connect timeout), send the whole
//! subscription list and a PING behind it, report "subscribed" on its PONG, PING the hub to
//! notice when it dies, and on any loss fail the calls in flight and reconnect after the
//! back-off. Frames are read by the actor itself as a stream of batches (one message per read,
//! not per frame; see `dispatch.rs`).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::{
    Actor, ActorContext, ActorFutureExt, AsyncContext, Context, Handler, SpawnHandle, WrapFuture,
};
use futures::StreamExt;
use hubwire_core::backoff::{BackoffState, Decision, Failure, SplitMix64};
use hubwire_core::protocol::{Disconnect, Envelope, Inbox, Ping, SubscriptionFlags};
use hubwire_core::spoke::link::{self, Link, LinkWriter};
use hubwire_core::spoke::{
    CallBook, Readiness, SpokeError, SpokeEvent, SpokeOptions, SubscriptionBook,
};
use hubwire_core::stats::Counter;
use hubwire_core::Address;
use tokio::sync::{broadcast, oneshot, watch};

use super::dispatch::LinkItem;
use super::message::Target;
use crate::supervisor::{ExitReporter, StopChild};

/// What outlives an incarnation of the actor: the user's view of the connection.
#[derive(Debug)]
pub(crate) struct SpokeShared {
    pub(crate) address: Address,
    pub(crate) options: SpokeOptions,
    pub(crate) events: broadcast::Sender<SpokeEvent>,
    pub(crate) readiness: watch::Sender<Readiness>,
    /// Why the last connect attempt failed, until a connect succeeds: `ready` reports it.
    pub(crate) last_failure: watch::Sender<Option<Arc<SpokeError>>>,
    /// Messages dropped because a subscription's receiver was full.
    pub(crate) dropped: Counter,
    /// Unreadable frames skipped, and publishes the hub refused.
    pub(crate) refused: Counter,
}

/// Someone waiting for the PONG that follows a change.
pub(super) enum Waiter {
    /// A new subscription, answered with its sid (taken once answered: a refusal answers
    /// before the PONG).
    Subscribed(u64, Option<oneshot::Sender<Result<u64, SpokeError>>>),
    /// The list sent after the handshake: the spoke is ready on its PONG.
    Replayed,
    /// A `Spoke::flush`: answered by the PONG (nothing shows in the hub's
    /// figures). Dropped, and so failed, when the connection goes.
    Flushed(oneshot::Sender<Result<(), SpokeError>>),
}

/// The connection while it is up.
pub(super) struct Live {
    pub(super) generation: u64,
    pub(super) writer: LinkWriter,
    pub(super) reading: SpawnHandle,
    /// PINGs sent since the hub was last heard from.
    pub(super) pings_out: u32,
}

/// The actor of one spoke. Start it with [`SpokeSpec`](super::SpokeSpec).
pub struct SpokeActor {
    pub(super) shared: Arc<SpokeShared>,
    pub(super) book: SubscriptionBook<Target>,
    pub(super) inbox: Inbox,
    pub(super) inbox_sid: u64,
    pub(super) calls: CallBook,
    pub(super) live: Option<Live>,
    /// Counts connect attempts, so that a stale attempt's result or stream is ignored.
    pub(super) generation: u64,
    pub(super) next_nonce: u64,
    /// PING nonces in the order sent, with who waits for each PONG.
    pub(super) barriers: VecDeque<(u64, Vec<Waiter>)>,
    /// Subscriptions made while disconnected: answered after the next connect's replay.
    pub(super) unconfirmed: Vec<Waiter>,
    backoff: BackoffState,
    jitter: SplitMix64,
    exit: ExitReporter,
}

impl std::fmt::Debug for SpokeActor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpokeActor")
            .field("address", &self.shared.address)
            .field("subscriptions", &self.book.len())
            .field("calls", &self.calls.len())
            .field("connected", &self.live.is_some())
            .finish_non_exhaustive()
    }
}

impl SpokeActor {
    pub(crate) fn new(shared: Arc<SpokeShared>, exit: ExitReporter) -> SpokeActor {
        let mut jitter = SplitMix64::from_entropy();
        let token = (u128::from(jitter.next_u64()) << 64) | u128::from(jitter.next_u64());
        let inbox = Inbox::new(token);
        let mut book = SubscriptionBook::default();
        let inbox_sid = book
            .add(
                inbox.pattern(),
                None,
                SubscriptionFlags::NO_RETAINED,
                Target::Inbox,
            )
            .sid;
        SpokeActor {
            shared,
            book,
            inbox,
            inbox_sid,
            calls: CallBook::default(),
            live: None,
            generation: 0,
            next_nonce: 0,
            barriers: VecDeque::new(),
            unconfirmed: Vec::new(),
            backoff: BackoffState::new(),
            jitter,
            exit,
        }
    }

    pub(super) fn emit(&self, event: SpokeEvent) {
        tracing::debug!(address = %self.shared.address, ?event, "spoke");
        let _ = self.shared.events.send(event);
    }

    /// Queues a frame on the live connection; `false` when there is none.
    pub(super) fn send(&self, envelope: &impl Envelope) -> Result<bool, SpokeError> {
        match &self.live {
            Some(live) => Ok(live.writer.outbound.lock().push_envelope(envelope)?),
            None => Ok(false),
        }
    }

    /// Queues a control frame (an RPC acknowledgement) ahead of bulk data not yet written.
    pub(super) fn send_urgent(&self, envelope: &impl Envelope) -> Result<bool, SpokeError> {
        match &self.live {
            Some(live) => Ok(live.writer.outbound.lock().push_envelope_urgent(envelope)?),
            None => Ok(false),
        }
    }

    /// Sends a PING whose PONG answers `waiters` (the hub sends it once the changes before it
    /// are applied).
    pub(super) fn barrier(&mut self, waiters: Vec<Waiter>) -> Result<(), SpokeError> {
        self.next_nonce += 1;
        let nonce = self.next_nonce;
        self.send(&Ping { nonce })?;
        self.barriers.push_back((nonce, waiters));
        Ok(())
    }

    fn connect(&mut self, ctx: &mut Context<Self>) {
        self.generation += 1;
        let generation = self.generation;
        let shared = self.shared.clone();
        let attempt = async move { link::connect(&shared.address, &shared.options).await };
        ctx.spawn(attempt.into_actor(self).map(move |result, actor, ctx| {
            if actor.generation != generation {
                return;
            }
            match result {
                Ok(link) => actor.link_up(link, ctx),
                Err(e) => {
                    let reason = e.to_string();
                    actor.shared.last_failure.send_replace(Some(Arc::new(e)));
                    if let Some(retry_in) = actor.retry_later(&reason, ctx) {
                        actor.emit(SpokeEvent::ConnectFailed { reason, retry_in });
                    }
                }
            }
        }));
    }

    fn link_up(&mut self, link: Link, ctx: &mut Context<Self>) {
        let generation = self.generation;
        let (writer, frames, _hub) = link.split();
        let stream = frames
            .map(move |batch| LinkItem::Batch(generation, batch))
            .chain(futures::stream::once(
                async move { LinkItem::End(generation) },
            ));
        let reading = ctx.add_stream(stream);
        self.live = Some(Live {
            generation,
            writer,
            reading,
            pings_out: 0,
        });
        self.shared.last_failure.send_replace(None);
        let first = self.shared.readiness.borrow().connections == 0;
        self.shared.readiness.send_modify(|r| r.connections += 1);
        self.emit(SpokeEvent::Connected { first });
        // The spoke is the source of truth: the whole list, then a PING behind it.
        let mut waiters = std::mem::take(&mut self.unconfirmed);
        waiters.push(Waiter::Replayed);
        let sent = self
            .send(&self.book.list())
            .and_then(|_| self.barrier(waiters));
        if let Err(e) = sent {
            self.link_down(&format!("cannot send the subscription list: {e}"), ctx);
        }
    }

    /// Ends the live connection (if any) and plans the next attempt.
    pub(super) fn link_down(&mut self, reason: &str, ctx: &mut Context<Self>) {
        let Some(live) = self.live.take() else {
            return;
        };
        ctx.cancel_future(live.reading);
        live.writer.abort();
        self.calls.fail_all(reason);
        // Subscriptions waiting for their PONG are confirmed by the next replay.
        for (_, waiters) in std::mem::take(&mut self.barriers) {
            self.unconfirmed.extend(
                waiters
                    .into_iter()
                    .filter(|w| matches!(w, Waiter::Subscribed(..))),
            );
        }
        self.shared.readiness.send_modify(|r| r.ready = false);
        self.emit(SpokeEvent::Disconnected {
            reason: reason.to_owned(),
        });
        self.retry_later(reason, ctx);
    }

    /// Plans the next connect after the back-off; `None` when the policy gives up (then the
    /// actor stops as failed, for its supervisor to see).
    fn retry_later(&mut self, reason: &str, ctx: &mut Context<Self>) -> Option<Duration> {
        let failure = Failure::retryable(reason);
        let policy = &self.shared.options.backoff;
        let decision = self
            .backoff
            .on_failure(policy, &failure, Instant::now(), &mut self.jitter);
        let delay = match decision {
            Decision::RetryAfter(delay) => delay,
            Decision::RetryNow => Duration::ZERO,
            Decision::GiveUp(why) => {
                self.exit.failed(format!(
                    "gave up reconnecting to the hub: {why:?}: {reason}"
                ));
                ctx.stop();
                return None;
            }
        };
        ctx.run_later(delay, |actor, ctx| actor.connect(ctx));
        Some(delay)
    }

    /// Sends a keepalive PING; a hub silent for `max_pings_out` PINGs is taken for dead.
    fn keepalive(&mut self, ctx: &mut Context<Self>) {
        let max = self.shared.options.max_pings_out.max(1);
        let Some(live) = &mut self.live else { return };
        if live.pings_out >= max {
            let reason = format!("the hub answered none of {max} PINGs");
            self.link_down(&reason, ctx);
            return;
        }
        live.pings_out += 1;
        if let Err(e) = self.barrier(Vec::new()) {
            self.link_down(&format!("cannot send a PING: {e}"), ctx);
        }
    }
}

impl Actor for SpokeActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.shared.readiness.send_modify(|r| {
            r.ready = false;
            r.stopped = false;
        });
        let every = self.shared.options.ping_every;
        ctx.run_interval(every, |actor, ctx| actor.keepalive(ctx));
        self.connect(ctx);
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.calls.fail_all("the spoke stopped");
        if let Some(live) = self.live.take() {
            // Dropping the writer writes what is queued (the DISCONN), then closes.
            drop(live.writer);
        }
        self.shared.readiness.send_modify(|r| {
            r.ready = false;
            r.stopped = true;
        });
    }
}

impl Handler<StopChild> for SpokeActor {
    type Result = ();

    fn handle(&mut self, _: StopChild, ctx: &mut Context<Self>) {
        let _ = self.send(&Disconnect {
            reason: "the spoke is stopping".into(),
        });
        self.exit.finished();
        ctx.stop();
    }
}
