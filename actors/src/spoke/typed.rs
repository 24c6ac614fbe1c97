//! Typed bodies over pub/sub: publish a value, subscribe to a stream of values, call and
//! provide with typed requests and answers. Bodies are encoded with
//! [`encode_body`] (MessagePack, structs as maps with field names), so the
//! command line's `sub` and subscribers in other languages read them as JSON objects.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hubwire_core::protocol::ErrorCode;
use hubwire_core::pubsub::{Channel, Pattern};
use hubwire_core::spoke::{RpcError, SpokeError};
use hubwire_core::{decode_body, encode_body, BodyError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::mpsc;

use super::{Delivery, Spoke, SubscribeOptions};
use crate::handler::HandlerError;

/// A message of a [`Subscription`], its body decoded.
#[derive(Clone, Debug)]
pub struct Delivered<T> {
    /// The decoded body.
    pub value: T,
    /// The message as it came (channel, headers, flags, and the body's bytes).
    pub delivery: Delivery,
}

/// A message whose body is not a value of the subscription's type. The subscription goes on
/// with the next message.
#[derive(Debug, thiserror::Error)]
#[error("a message on {channel} is not a {expected}: {error}", channel = delivery.channel)]
pub struct Undecodable {
    /// The type the subscription expects.
    pub expected: &'static str,
    /// What the decoder said.
    pub error: BodyError,
    /// The message as it came (boxed: it is large, and errors should be small).
    pub delivery: Box<Delivery>,
}

/// A subscription whose bodies are decoded into `T`, from
/// [`Spoke::subscribe_typed`]. Dropping it ends the subscription.
#[derive(Debug)]
pub struct Subscription<T> {
    sid: u64,
    messages: mpsc::Receiver<Delivery>,
    _type: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Subscription<T> {
    /// The subscription's id (for [`Spoke::unsubscribe`]).
    pub fn sid(&self) -> u64 {
        self.sid
    }

    /// The next message, decoded; `None` once the subscription has ended. A body that does not
    /// decode is reported as that message's error.
    pub async fn recv(&mut self) -> Option<Result<Delivered<T>, Undecodable>> {
        self.messages.recv().await.map(decode_delivery)
    }

    /// The subscription's raw messages, undecoded.
    pub fn into_inner(self) -> mpsc::Receiver<Delivery> {
        self.messages
    }
}

impl<T: DeserializeOwned> futures::Stream for Subscription<T> {
    type Item = Result<Delivered<T>, Undecodable>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.messages
            .poll_recv(cx)
            .map(|message| message.map(decode_delivery))
    }
}

fn decode_delivery<T: DeserializeOwned>(delivery: Delivery) -> Result<Delivered<T>, Undecodable> {
    match decode_body(&delivery.body) {
        Ok(value) => Ok(Delivered { value, delivery }),
        Err(error) => Err(Undecodable {
            expected: std::any::type_name::<T>(),
            error,
            delivery: Box::new(delivery),
        }),
    }
}

impl Spoke {
    /// Publishes `value` on `channel`, encoded with [`encode_body`] (structs as maps with
    /// field names, readable as JSON by `hubwire sub`).
    pub async fn publish_typed<T: Serialize + ?Sized>(
        &self,
        channel: Channel,
        value: &T,
    ) -> Result<(), SpokeError> {
        self.publish(channel, encode_body(value)?).await
    }

    /// Subscribes to `pattern` with bodies decoded into `T`.
    pub async fn subscribe_typed<T: DeserializeOwned>(
        &self,
        pattern: Pattern,
    ) -> Result<Subscription<T>, SpokeError> {
        self.subscribe_typed_with(pattern, SubscribeOptions::default())
            .await
    }

    /// [`subscribe_typed`](Self::subscribe_typed) with options.
    pub async fn subscribe_typed_with<T: DeserializeOwned>(
        &self,
        pattern: Pattern,
        options: SubscribeOptions,
    ) -> Result<Subscription<T>, SpokeError> {
        let (sid, messages) = self.subscribe_with(pattern, options).await?;
        Ok(Subscription {
            sid,
            messages,
            _type: PhantomData,
        })
    }

    /// Calls whoever provides `channel` with `request` and decodes the answer into `Rep`
    /// (otherwise [`RpcError::InvalidReply`]).
    pub async fn call_typed<Req, Rep>(
        &self,
        channel: Channel,
        request: &Req,
        timeout: Duration,
    ) -> Result<Rep, RpcError>
    where
        Req: Serialize + ?Sized,
        Rep: DeserializeOwned,
    {
        let name = channel.to_string();
        let body = encode_body(request).map_err(|e| RpcError::Unsendable {
            channel: name.clone(),
            reason: e.to_string(),
        })?;
        let answer = self.call(channel, body, timeout).await?;
        decode_body(&answer).map_err(|e| RpcError::InvalidReply {
            channel: name,
            reason: e.to_string(),
        })
    }

    /// Answers calls to `pattern` with `handler`, an async function of the decoded request.
    /// A request that does not decode into `Req` is answered `invalid-body` without calling
    /// the handler; a [`HandlerError`] reaches the caller with its code and message (`?`
    /// works in the handler). Returns the provider's subscription id.
    pub async fn provide_typed<Req, Rep, F, Fut>(
        &self,
        pattern: Pattern,
        handler: F,
    ) -> Result<u64, SpokeError>
    where
        Req: DeserializeOwned + 'static,
        Rep: Serialize + 'static,
        F: Fn(Req) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Rep, HandlerError>> + 'static,
    {
        let handler = std::sync::Arc::new(handler);
        self.provide(pattern, move |request| {
            let decoded = decode_body::<Req>(&request.body);
            let handler = handler.clone();
            async move {
                let request = decoded.map_err(|e| {
                    let message = format!(
                        "the request on {} is not a {}: {e}",
                        request.channel,
                        std::any::type_name::<Req>()
                    );
                    (ErrorCode::InvalidBody, message)
                })?;
                let reply = handler(request).await.map_err(|e| (e.code, e.message))?;
                encode_body(&reply).map_err(|e| (ErrorCode::HandlerFailure, e.to_string()))
            }
        })
        .await
    }
}
