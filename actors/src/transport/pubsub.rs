//! The pub/sub side of a connection on a hub, carried out: the session's [`HubSide`] decides;
//! here its batches go to the hub's table, its publishes are routed at once on this thread,
//! and its REFUSED frames and PONGs are written.
//!
//! [`HubSide`]: hubwire_core::session::HubSide

use actix::{ActorFutureExt, AsyncContext, Context, Handler, WrapFuture};
use hubwire_core::protocol::{ErrorCode, Frame, Pong, Refused};
use hubwire_core::session::{Keepalive, PubSubStep};
use std::time::Duration;

use super::Connection;
use crate::hub::{self, SlowConsumer, MAX_GATHERED};

impl Connection {
    /// A pub/sub frame. Subscription changes are gathered for the whole read and sent to the
    /// table as one batch ([`flush_hub_changes`](Self::flush_hub_changes)).
    pub(super) fn on_pubsub(&mut self, frame: Frame, ctx: &mut Context<Self>) {
        // Borrowed, not cloned: a clone per frame cost a tenth of a publish's instructions
        // (the table's address is counted on clone and drop).
        let Some(hub) = self.shared.hub.as_ref() else {
            return;
        };
        if self.hub_conn.is_none() {
            self.hub_conn = Some(hub.join(self.replies.clone(), ctx.address().recipient()));
        }
        match self.pubsub.on_frame(&frame) {
            PubSubStep::Publish(publish) => {
                self.publishes.push(publish);
                if self.publishes.len() >= MAX_GATHERED {
                    self.route_publishes();
                }
            }
            PubSubStep::Gathered => {}
            PubSubStep::Refuse(refusals) => {
                // In order with the publishes before it, as each frame is.
                self.route_publishes();
                refusals.iter().for_each(|r| self.refuse(r));
            }
        }
    }

    /// Routes the PUBLISHes gathered so far, in order (runs of them together).
    pub(super) fn route_publishes(&mut self) {
        if self.publishes.is_empty() {
            return;
        }
        if let (Some(hub), Some(conn)) = (self.shared.hub.as_ref(), self.hub_conn) {
            // hubwire's own publishers are not held back for slow subscribers (they are cut
            // off at their bounds instead), as with one publish at a time.
            let _ = hub.publish_all(conn, &self.publishes);
        }
        self.publishes.clear();
    }

    /// Tells the peer a subscription or publish was not applied. A control frame: it goes
    /// ahead of queued messages, and in order with PONGs, so a PING sent after a SUBSCRIBE
    /// is answered after that SUBSCRIBE's REFUSED.
    fn refuse(&self, refused: &Refused) {
        self.write_urgent(refused);
    }

    /// A PING: answered now, or once the subscription changes sent before it are applied.
    pub(super) fn on_ping(&mut self, nonce: u64, ctx: &mut Context<Self>) {
        self.flush_hub_changes(ctx);
        if let Some(nonce) = self.pubsub.on_ping(nonce) {
            self.write_urgent(&Pong { nonce });
        }
    }

    /// Sends the subscription changes gathered so far to the table as one batch, unless a
    /// batch is still there (then they go when it is answered, so the table applies them in
    /// order); PONGs wait for them. The table queues the retained messages they replay before
    /// it publishes the snapshot that lets live messages through, and answers what it
    /// declined. Reading pauses while too many changes wait.
    pub(super) fn flush_hub_changes(&mut self, ctx: &mut Context<Self>) {
        let (Some(hub), Some(conn)) = (&self.shared.hub, self.hub_conn) else {
            return;
        };
        if let Some(changes) = self.pubsub.take_changes() {
            let batch = hub::Changes {
                conn,
                outbound: Some(self.replies.clone()),
                changes,
            };
            let answer = hub.table().send(batch);
            ctx.spawn(answer.into_actor(self).map(move |declined, this, ctx| {
                let (refusals, pongs) = this.pubsub.on_applied(declined.unwrap_or_default());
                refusals.iter().for_each(|r| this.refuse(r));
                for nonce in pongs {
                    // Behind the replayed retained messages: the barrier covers them too.
                    this.write_envelope(&Pong { nonce });
                }
                if !this.closed {
                    this.flush_hub_changes(ctx);
                }
            }));
        }
        self.table_pause.set(self.pubsub.reads_wait());
    }

    /// Hub keepalive, on a connection `quiet` for that long: a PING after each ping interval,
    /// and the connection closed (true) once the PINGs out pass the bound unanswered. Any frame
    /// read counts as an answer.
    pub(super) fn hub_keepalive(&mut self, quiet: Duration, ctx: &mut Context<Self>) -> bool {
        match self.pubsub.keepalive(quiet) {
            Keepalive::Quiet => false,
            Keepalive::Ping(ping) => {
                self.write_urgent(&ping);
                false
            }
            Keepalive::Dead(code, message) => {
                tracing::info!(peer = %self.peer, %message, "hub peer taken for dead");
                self.fail(ctx, code, message);
                true
            }
        }
    }
}

impl Handler<SlowConsumer> for Connection {
    type Result = ();

    fn handle(&mut self, _: SlowConsumer, ctx: &mut Context<Self>) {
        if self.closed {
            return;
        }
        tracing::warn!(peer = %self.peer, "slow consumer: its outbound buffer is full; cut off");
        // The hub has already dropped the backlog and queued the error (see `Hub::push`).
        self.cut_off(ctx, ErrorCode::Busy, hub::SLOW_CONSUMER_MESSAGE.into());
    }
}
