//! A delivery worker: asks its keeper for a message, sends it with the typed client, reports
//! the outcome (which is also its next ask). One message at a time; it never sleeps on a retry.

use std::time::Duration;

use actix::dev::SendError;
use actix::{
    Actor, ActorContext, ActorFutureExt, Addr, AsyncContext, Context, Handler, Message, WrapFuture,
};
use bytes::Bytes;
use hubwire_core::client::Client;
use hubwire_core::protocol::Headers;
use hubwire_core::store::ItemId;

use super::keeper::{Delivered, Keeper, WorkWanted};

/// One message to deliver.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct Deliver {
    pub(crate) id: ItemId,
    pub(crate) route: String,
    pub(crate) body: Bytes,
    pub(crate) headers: Headers,
    pub(crate) timeout: Duration,
}

/// The keeper is gone: stop.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct StopWorker;

/// A worker of one sender.
pub(crate) struct DeliveryWorker {
    keeper: Addr<Keeper>,
    client: Client,
}

impl DeliveryWorker {
    pub(crate) fn new(keeper: Addr<Keeper>, client: Client) -> Self {
        DeliveryWorker { keeper, client }
    }
}

impl Actor for DeliveryWorker {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.keeper.do_send(WorkWanted(ctx.address()));
    }
}

impl Handler<Deliver> for DeliveryWorker {
    type Result = ();

    fn handle(&mut self, deliver: Deliver, ctx: &mut Context<Self>) {
        let client = self.client.clone();
        let Deliver {
            id,
            route,
            body,
            headers,
            timeout,
        } = deliver;
        let call = async move { client.call_raw(&route, body, headers, timeout).await };
        ctx.spawn(call.into_actor(self).map(move |result, worker, ctx| {
            let delivered = Delivered {
                id,
                worker: ctx.address(),
                result: result.map(|_| ()),
            };
            match worker.keeper.try_send(delivered) {
                Ok(()) => {}
                // A busy mailbox still takes it: the outcome must not be lost.
                Err(SendError::Full(delivered)) => worker.keeper.do_send(delivered),
                // The keeper stopped; its successor starts workers of its own.
                Err(SendError::Closed(_)) => ctx.stop(),
            }
        }));
    }
}

impl Handler<StopWorker> for DeliveryWorker {
    type Result = ();

    fn handle(&mut self, _: StopWorker, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}
