//! The hub's frames, as the spoke actor handles them: one batch per read.
//!
//! MESSAGE frames are dispatched on their sids (no matching again): an answer in the call
//! inbox completes its call, a call to a provider is served, anything else goes to its
//! subscription's receiver (dropped and counted when the receiver is full; a dropped receiver
//! ends its subscription). REFUSED ends a subscription and fails whoever waits for it; PONG
//! releases the waiters of its barrier; PING is answered; DISCONN ends the connection.

use std::task::{Context as TaskContext, Poll};

use actix::{ActorFutureExt, AsyncContext, Context, StreamHandler, WrapFuture};
use bytes::Bytes;
use hubwire_core::protocol::{
    kind, Disconnect, Envelope, Frame, Message, MessageFlags, Ping, Pong, ProtocolError, Publish,
    Refused, ReplyError, Unsubscribe,
};
use hubwire_core::pubsub::Channel;
use hubwire_core::spoke::{SpokeError, SpokeEvent};
use hubwire_core::stream::FrameBatch;
use tokio::sync::mpsc::error::TrySendError;

use super::actor::{SpokeActor, Waiter};
use super::message::Target;
use super::provider::{Provider, ProviderResult, Request};
use super::Delivery;

/// What the actor reads from a connection: a batch of frames, or its end.
pub(crate) enum LinkItem {
    Batch(u64, Result<FrameBatch, ProtocolError>),
    End(u64),
}

impl StreamHandler<LinkItem> for SpokeActor {
    fn handle(&mut self, item: LinkItem, ctx: &mut Context<Self>) {
        let current = self.live.as_ref().map(|l| l.generation);
        match item {
            LinkItem::Batch(generation, _) | LinkItem::End(generation)
                if Some(generation) != current => {}
            LinkItem::Batch(_, Ok(batch)) => {
                if let Some(live) = &mut self.live {
                    live.pings_out = 0;
                }
                for frame in batch {
                    if let Some(reason) = self.on_frame(frame, ctx) {
                        self.link_down(&reason, ctx);
                        return;
                    }
                }
            }
            LinkItem::Batch(_, Err(e)) => self.link_down(&format!("read failed: {e}"), ctx),
            LinkItem::End(_) => self.link_down("the hub closed the connection", ctx),
        }
    }

    /// Streams end with an [`LinkItem::End`] of their own; the actor lives on.
    fn finished(&mut self, _: &mut Context<Self>) {}
}

impl SpokeActor {
    /// Acts on one frame; returns why the connection must end, if it must.
    fn on_frame(&mut self, frame: Frame, ctx: &mut Context<Self>) -> Option<String> {
        match frame.kind {
            kind::MESSAGE => match Message::from_frame(&frame) {
                Ok(message) => self.on_message(message, ctx),
                Err(e) => {
                    // Its framing is intact: skip it, count it.
                    self.shared.refused.inc();
                    tracing::warn!(error = %e, "spoke: skipped an unreadable MESSAGE");
                }
            },
            kind::PONG => {
                if let Ok(pong) = Pong::from_frame(&frame) {
                    self.on_pong(pong.nonce);
                }
            }
            kind::PING => {
                if let Ok(ping) = Ping::from_frame(&frame) {
                    let _ = self.send(&Pong { nonce: ping.nonce });
                }
            }
            kind::REFUSED => match Refused::from_frame(&frame) {
                Ok(refused) => self.on_refused(refused),
                Err(e) => return Some(format!("unreadable REFUSED: {e}")),
            },
            kind::DISCONN => {
                let why =
                    Disconnect::from_frame(&frame).map_or_else(|e| e.to_string(), |d| d.reason);
                return Some(format!("the hub disconnected: {why}"));
            }
            // Kinds a spoke does not know (a newer hub's) are ignored, as the protocol says.
            _ => {}
        }
        None
    }

    /// A PONG: the hub applied every change sent before its PING, and any REFUSED for them
    /// came before it (the PING barrier, docs/protocol.md 10.3 and 10.7), so its waiters are
    /// answered now. Nothing is published for it: a `**` subscriber sees none of this.
    fn on_pong(&mut self, nonce: u64) {
        while self.barriers.front().is_some_and(|(n, _)| *n <= nonce) {
            let (_, waiters) = self.barriers.pop_front().expect("a barrier");
            for waiter in waiters {
                match waiter {
                    Waiter::Subscribed(sid, reply) => {
                        if let Some(reply) = reply {
                            let _ = reply.send(Ok(sid));
                        }
                    }
                    Waiter::Replayed => {
                        self.shared.readiness.send_modify(|r| r.ready = true);
                        self.emit(SpokeEvent::Subscribed {
                            subscriptions: self.book.len(),
                        });
                    }
                    Waiter::Flushed(reply) => {
                        let _ = reply.send(Ok(()));
                    }
                }
            }
        }
    }

    fn on_refused(&mut self, refused: Refused) {
        let Some(sid) = refused.sid else {
            self.shared.refused.inc();
            tracing::warn!(code = %refused.code, message = %refused.message, "spoke: the hub refused a publish");
            let _ = self.shared.events.send(SpokeEvent::PublishRefused {
                code: refused.code,
                message: refused.message,
            });
            return;
        };
        // Refused once, refused on every reconnect: it leaves the list.
        self.book.remove(sid);
        tracing::warn!(sid, code = %refused.code, message = %refused.message, "spoke: the hub refused a subscription");
        let waiting = self
            .barriers
            .iter_mut()
            .flat_map(|(_, waiters)| waiters.iter_mut())
            .chain(self.unconfirmed.iter_mut());
        for waiter in waiting {
            if let Waiter::Subscribed(s, reply) = waiter {
                if let Some(reply) = reply.take_if(|_| *s == sid) {
                    let _ = reply.send(Err(SpokeError::Refused {
                        sid,
                        code: refused.code,
                        message: refused.message.clone(),
                    }));
                }
            }
        }
    }

    fn on_message(&mut self, message: Message, ctx: &mut Context<Self>) {
        let mut served = false;
        let mut gone = Vec::new();
        for &sid in &message.sids {
            let Some(entry) = self.book.get(sid) else {
                continue; // ended while the message was on its way
            };
            match &entry.target {
                Target::Inbox => {
                    if let Some(n) = self.inbox.call_of(&message.channel) {
                        self.calls.answer(n, message.flags, message.body.clone());
                    }
                }
                Target::Provider(provider) => {
                    let call = message.flags.contains(MessageFlags::REQUEST);
                    if let (true, false, Some(reply_to)) = (call, served, &message.reply_to) {
                        served = true;
                        let request = Request {
                            channel: message.channel.clone(),
                            headers: message.headers.clone(),
                            body: message.body.clone(),
                        };
                        self.serve(provider.clone(), request, reply_to.clone(), ctx);
                    }
                }
                Target::Receiver(receiver) => {
                    let delivery = Delivery {
                        sid,
                        channel: message.channel.clone(),
                        flags: message.flags,
                        reply_to: message.reply_to.clone(),
                        headers: message.headers.clone(),
                        body: message.body.clone(),
                    };
                    match receiver.try_send(delivery) {
                        Ok(()) => {}
                        Err(TrySendError::Full(_)) => self.shared.dropped.inc(),
                        Err(TrySendError::Closed(_)) => gone.push(sid),
                    }
                }
            }
        }
        for sid in gone {
            self.book.remove(sid);
            let _ = self.send(&Unsubscribe { sid });
        }
    }

    /// Runs a provider on a call: ACK|REPLY (or ACK|ERROR) at once if the handler finishes
    /// on its first poll, else an ACK now and the answer when it is ready.
    fn serve(
        &mut self,
        provider: Provider,
        request: Request,
        reply_to: Channel,
        ctx: &mut Context<Self>,
    ) {
        let mut answer = provider.serve(request);
        let mut first = TaskContext::from_waker(futures::task::noop_waker_ref());
        match answer.as_mut().poll(&mut first) {
            Poll::Ready(result) => self.answer(&reply_to, MessageFlags::ACK, result),
            Poll::Pending => {
                self.answer_ack(&reply_to);
                let generation = self.live.as_ref().map(|l| l.generation);
                ctx.spawn(answer.into_actor(self).map(move |result, actor, _| {
                    // A reply for a connection that has gone reaches nobody: the caller's
                    // call failed with connection-lost.
                    if actor.live.as_ref().map(|l| l.generation) == generation {
                        actor.answer(&reply_to, MessageFlags::NONE, result);
                    }
                }));
            }
        }
    }

    fn answer_ack(&self, reply_to: &Channel) {
        self.publish_answer(reply_to, MessageFlags::ACK, Bytes::new());
    }

    fn answer(&self, reply_to: &Channel, ack: MessageFlags, result: ProviderResult) {
        let (flags, body) = match result {
            Ok(body) => (MessageFlags::REPLY, body),
            Err((code, message)) => {
                let body = ReplyError { code, message }.to_body().unwrap_or_default();
                (MessageFlags::ERROR, body)
            }
        };
        self.publish_answer(reply_to, ack | flags, body);
    }

    fn publish_answer(&self, reply_to: &Channel, flags: MessageFlags, body: Bytes) {
        let answer = Publish {
            channel: reply_to.clone(),
            flags,
            reply_to: None,
            headers: Default::default(),
            body,
        };
        // A bare acknowledgement is a control frame: it overtakes queued bulk data, so a busy
        // provider's caller still learns its call was received.
        let sent = if flags == MessageFlags::ACK {
            self.send_urgent(&answer)
        } else {
            self.send(&answer)
        };
        if let Err(e) = sent {
            tracing::warn!(error = %e, "spoke: cannot send a provider's answer");
        }
    }
}
