//! The pub/sub side of a connection on a hub: subscription frames go to the hub's table
//! (PINGs wait for them, so a PONG is a barrier), publishes are routed at once on this thread,
//! and invalid frames are answered REFUSED with the connection left open.

use std::time::Duration;

use actix::{ActorFutureExt, AsyncContext, Context, Handler, WrapFuture};
use hubwire_core::protocol::{
    kind, Envelope, ErrorCode, Frame, MessageTail, Ping, Pong, Publish, Refused, Subscribe,
    Subscriptions, Unsubscribe,
};

use super::Connection;
use crate::hub::{self, Replay, SlowConsumer};

impl Connection {
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
        let refuse = |this: &Self, e: &hubwire_core::protocol::ProtocolError| {
            this.write_envelope(&Refused::for_error(frame.kind, &frame.payload, e));
        };
        match frame.kind {
            kind::PUBLISH => match Publish::from_frame(&frame) {
                Ok(publish) => hub.publish(conn, &publish),
                Err(e) => refuse(self, &e),
            },
            kind::SUBSCRIBE => match Subscribe::from_frame(&frame) {
                Ok(subscribe) => {
                    let replays = wants_replay(&subscribe);
                    let change = hub::Subscribe {
                        conn,
                        sid: subscribe.sid,
                        pattern: subscribe.pattern,
                        group: subscribe.group,
                    };
                    self.table_change(hub.table().send(change), replays, ctx);
                }
                Err(e) => refuse(self, &e),
            },
            kind::UNSUBSCRIBE => match Unsubscribe::from_frame(&frame) {
                Ok(Unsubscribe { sid }) => {
                    let change = hub::Unsubscribe { conn, sid };
                    let done = hub.table().send(change);
                    self.table_change(async move { done.await.map(|()| Vec::new()) }, false, ctx);
                }
                Err(e) => refuse(self, &e),
            },
            kind::SUBSCRIPTIONS => match Subscriptions::read_each(&frame.payload) {
                Ok((list, refused)) => {
                    for e in &refused {
                        refuse(self, e);
                    }
                    let quiet: Vec<u64> = list
                        .subscriptions
                        .iter()
                        .filter(|s| !wants_replay(s))
                        .map(|s| s.sid)
                        .collect();
                    let change = hub::ReplaceAll {
                        conn,
                        subscriptions: list
                            .subscriptions
                            .into_iter()
                            .map(|s| (s.sid, s.pattern, s.group))
                            .collect(),
                    };
                    let done = hub.table().send(change);
                    let replay = async move {
                        done.await.map(|mut replay| {
                            replay.retain(|(sid, _, _)| !quiet.contains(sid));
                            replay
                        })
                    };
                    self.table_change(replay, true, ctx);
                }
                // The whole list is refused: the hub holds none of it.
                Err(e) => {
                    refuse(self, &e);
                    hub.table().do_send(hub::ReplaceAll {
                        conn,
                        subscriptions: Vec::new(),
                    });
                }
            },
            _ => {}
        }
    }

    /// Waits for a change to the table, then replays the retained messages it answers (when
    /// `replay`) and sends the PONGs that waited for it.
    fn table_change(
        &mut self,
        change: impl std::future::Future<Output = Result<Replay, actix::MailboxError>> + 'static,
        replay: bool,
        ctx: &mut Context<Self>,
    ) {
        self.hub_pending += 1;
        ctx.spawn(change.into_actor(self).map(move |answer, this, _| {
            this.hub_pending -= 1;
            if let (true, Ok(messages)) = (replay, answer) {
                this.replay(messages);
            }
            if this.hub_pending == 0 {
                for nonce in std::mem::take(&mut this.deferred_pongs) {
                    // Behind the replayed retained messages: the barrier covers them too.
                    this.write_envelope(&Pong { nonce });
                }
            }
        }));
    }

    /// Writes retained messages to this connection, each to its subscription.
    fn replay(&self, messages: Replay) {
        let headers = hubwire_core::protocol::Headers::new();
        for (sid, channel, body) in messages {
            let Ok(tail) = MessageTail::retained(&channel, &headers, body) else {
                continue;
            };
            let mut frame = bytes::BytesMut::new();
            if tail.write_frame(&[sid], &mut frame).is_ok() {
                self.replies.outbound().lock().push(&frame);
            }
        }
    }
}

/// Whether a subscription gets the retained messages it matches: not with NO_RETAINED, and
/// not a queue-group member.
fn wants_replay(subscribe: &Subscribe) -> bool {
    subscribe.group.is_none()
        && !subscribe
            .flags
            .contains(hubwire_core::protocol::SubscriptionFlags::NO_RETAINED)
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
