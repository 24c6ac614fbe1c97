//! How the spoke actor carries out its handle's requests: subscribe, unsubscribe, publish,
//! call.

use actix::{Context, Handler};
use hubwire_core::protocol::{MessageFlags, Publish, Unsubscribe};
use hubwire_core::spoke::{RpcError, SpokeError};

use super::actor::{SpokeActor, Waiter};
use super::message::{
    AddSubscription, Flush, ForgetCall, PublishMessage, RemoveSubscription, StartCall,
};

impl Handler<AddSubscription> for SpokeActor {
    type Result = ();

    fn handle(&mut self, msg: AddSubscription, _: &mut Context<Self>) {
        let subscribe = self
            .book
            .add(msg.pattern, msg.group, msg.flags, msg.target)
            .clone();
        let waiter = Waiter::Subscribed(subscribe.sid, Some(msg.reply));
        let sent = self.send(&subscribe);
        match sent {
            // Confirmed by the PONG behind it (or refused before it).
            Ok(true) => {
                if let Err(e) = self.barrier(vec![waiter]) {
                    tracing::warn!(error = %e, "spoke: cannot send a PING");
                }
            }
            // Not connected: it goes out with the whole list on the next connect.
            Ok(false) => self.unconfirmed.push(waiter),
            Err(e) => {
                self.book.remove(subscribe.sid);
                if let Waiter::Subscribed(_, Some(reply)) = waiter {
                    let _ = reply.send(Err(e));
                }
            }
        }
    }
}

impl Handler<Flush> for SpokeActor {
    type Result = ();

    fn handle(&mut self, msg: Flush, _: &mut Context<Self>) {
        if self.live.is_none() {
            let _ = msg.reply.send(Err(SpokeError::NotConnected));
            return;
        }
        let waiter = Waiter::Flushed(msg.reply);
        if let Err(e) = self.barrier(vec![waiter]) {
            // The waiter went with the failed send's barrier: nothing is left to answer.
            tracing::warn!(error = %e, "spoke: cannot send a PING");
        }
    }
}

impl Handler<RemoveSubscription> for SpokeActor {
    type Result = ();

    fn handle(&mut self, msg: RemoveSubscription, _: &mut Context<Self>) {
        if msg.sid != self.inbox_sid && self.book.remove(msg.sid).is_some() {
            let _ = self.send(&Unsubscribe { sid: msg.sid });
        }
    }
}

impl Handler<PublishMessage> for SpokeActor {
    type Result = ();

    fn handle(&mut self, msg: PublishMessage, _: &mut Context<Self>) {
        let result = match self.send(&msg.publish) {
            Ok(true) => Ok(()),
            Ok(false) => Err(SpokeError::NotConnected),
            Err(e) => Err(e),
        };
        let _ = msg.reply.send(result);
    }
}

impl Handler<StartCall> for SpokeActor {
    type Result = ();

    fn handle(&mut self, msg: StartCall, _: &mut Context<Self>) {
        let channel = msg.channel.to_string();
        if self.live.is_none() {
            let _ = msg.reply.send(Err(RpcError::NotConnected {
                channel,
                after: msg.timeout,
            }));
            return;
        }
        let call = self.calls.register(&channel);
        let n = call.n;
        let mut headers = msg.headers;
        headers.set_deadline(msg.timeout);
        let publish = Publish {
            channel: msg.channel,
            flags: MessageFlags::REQUEST,
            reply_to: Some(self.inbox.reply_to(n)),
            headers,
            body: msg.body,
        };
        let result = match self.send(&publish) {
            Ok(true) => Ok(call),
            Ok(false) => Err(RpcError::ConnectionLost {
                channel,
                reason: "the connection's writer has stopped".into(),
            }),
            Err(e) => Err(RpcError::Unsendable {
                channel,
                reason: e.to_string(),
            }),
        };
        if result.is_err() {
            self.calls.forget(n);
        }
        let _ = msg.reply.send(result);
    }
}

impl Handler<ForgetCall> for SpokeActor {
    type Result = ();

    fn handle(&mut self, msg: ForgetCall, _: &mut Context<Self>) {
        self.calls.forget(msg.0);
    }
}
