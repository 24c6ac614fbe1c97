//! The pub/sub side of a connection on a hub: subscription frames go to the hub's table
//! (PINGs wait for them, so a PONG is a barrier), publishes are routed at once on this thread,
//! and invalid frames are answered REFUSED with the connection left open.

use std::time::Duration;

use actix::{ActorFutureExt, AsyncContext, Context, Handler, WrapFuture};
use hubwire_core::protocol::{
    kind, Envelope, ErrorCode, Frame, Ping, Pong, Publish, Refused, Subscribe, Subscriptions,
    Unsubscribe,
};
use hubwire_core::pubsub::{Change, Wanted};

use super::Connection;
use crate::hub::{self, SlowConsumer};

impl Connection {
    /// A pub/sub frame. Subscription changes are gathered for the whole read and sent to the
    /// table as one batch ([`flush_hub_changes`](Self::flush_hub_changes)).
    pub(super) fn on_pubsub(&mut self, frame: Frame, ctx: &mut Context<Self>) {
        let Some(hub) = self.shared.hub.clone() else {
            return;
        };
        let conn = match self.hub_conn {
            Some(conn) => conn,
            None => {
                let conn = hub.join(self.replies.clone(), ctx.address().recipient());
                self.hub_conn = Some(conn);
                conn
            }
        };
        let refused = |e: &hubwire_core::protocol::ProtocolError| {
            Refused::for_error(frame.kind, &frame.payload, e)
        };
        match frame.kind {
            kind::PUBLISH => match Publish::from_frame(&frame) {
                Ok(publish) => hub.publish(conn, &publish),
                Err(e) => self.refuse(&refused(&e)),
            },
            kind::SUBSCRIBE => match Subscribe::from_frame(&frame) {
                Ok(subscribe) => self.hub_changes.push(Change::Subscribe(wanted(subscribe))),
                Err(e) => self.refuse(&refused(&e)),
            },
            kind::UNSUBSCRIBE => match Unsubscribe::from_frame(&frame) {
                Ok(Unsubscribe { sid }) => self.hub_changes.push(Change::Unsubscribe(sid)),
                Err(e) => self.refuse(&refused(&e)),
            },
            kind::SUBSCRIPTIONS => match Subscriptions::read_each(&frame.payload) {
                Ok((list, invalid)) => {
                    for e in &invalid {
                        self.refuse(&refused(e));
                    }
                    let list = list.subscriptions.into_iter().map(wanted).collect();
                    self.hub_changes.push(Change::ReplaceAll(list));
                }
                // The whole list is refused: the hub holds none of it.
                Err(e) => {
                    self.refuse(&refused(&e));
                    self.hub_changes.push(Change::ReplaceAll(Vec::new()));
                }
            },
            _ => {}
        }
    }

    /// Tells the peer a subscription or publish was not applied. A control frame: it goes
    /// ahead of queued messages, and in order with PONGs, so a PING sent after a SUBSCRIBE
    /// is answered after that SUBSCRIBE's REFUSED.
    fn refuse(&self, refused: &Refused) {
        self.write_urgent(refused);
    }

    /// Sends the subscription changes gathered so far to the table as one batch; PONGs wait
    /// for it. The table queues the retained messages they replay before it publishes the
    /// snapshot that lets live messages through, and answers what it declined.
    pub(super) fn flush_hub_changes(&mut self, ctx: &mut Context<Self>) {
        if self.hub_changes.is_empty() {
            return;
        }
        let (Some(hub), Some(conn)) = (&self.shared.hub, self.hub_conn) else {
            return;
        };
        let batch = hub::Changes {
            conn,
            outbound: Some(self.replies.clone()),
            changes: std::mem::take(&mut self.hub_changes),
        };
        self.barrier.sent();
        let answer = hub.table().send(batch);
        ctx.spawn(answer.into_actor(self).map(move |declined, this, _| {
            for declined in declined.unwrap_or_default() {
                this.refuse(&Refused {
                    sid: Some(declined.sid),
                    code: ErrorCode::Busy,
                    message: declined.reason,
                });
            }
            for nonce in this.barrier.answered() {
                // Behind the replayed retained messages: the barrier covers them too.
                this.write_envelope(&Pong { nonce });
            }
        }));
    }
}

/// A subscription as the table takes it. Retained messages are replayed to it unless it asked
/// for NO_RETAINED or is a queue-group member.
fn wanted(subscribe: Subscribe) -> Wanted {
    let replay = subscribe.group.is_none()
        && !subscribe
            .flags
            .contains(hubwire_core::protocol::SubscriptionFlags::NO_RETAINED);
    Wanted {
        sid: subscribe.sid,
        pattern: subscribe.pattern,
        group: subscribe.group,
        replay,
    }
}

impl Connection {
    /// Hub keepalive, on a connection `quiet` for that long: a PING after each ping interval,
    /// and the connection closed (true) once the PINGs out pass the bound unanswered. Any frame
    /// read counts as an answer.
    pub(super) fn hub_keepalive(&mut self, quiet: Duration, ctx: &mut Context<Self>) -> bool {
        let limits = &self.shared.limits;
        if quiet < limits.hub_ping_interval * (self.pings_out + 1) {
            return false;
        }
        if self.pings_out >= limits.hub_max_pings_out {
            let message = format!("no answer to {} PINGs in {quiet:?}", self.pings_out);
            tracing::info!(peer = %self.peer, %message, "hub peer taken for dead");
            self.fail(ctx, ErrorCode::Timeout, message);
            return true;
        }
        self.pings_out += 1;
        self.write_urgent(&Ping {
            nonce: u64::from(self.pings_out),
        });
        false
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
