//! [`Spoke`]: the cheap, clonable handle users hold, with async methods.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hubwire_core::protocol::{Headers, MessageFlags, Publish, SubscriptionFlags};
use hubwire_core::pubsub::{Channel, Pattern};
use hubwire_core::spoke::{Readiness, RpcError, SpokeError, SpokeEvent};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::actor::{SpokeActor, SpokeShared};
use super::message::{
    AddSubscription, Flush, ForgetCall, PublishMessage, RemoveSubscription, StartCall, Target,
};
use super::provider::{Provider, ProviderResult, Request};
use super::Delivery;
use crate::supervisor::{ChildHandle, Undelivered};

/// How long a request to the actor waits for a running incarnation (during a restart).
const DELIVER_WAIT: Duration = Duration::from_secs(5);

/// Options of one subscription.
#[derive(Clone, Debug, Default)]
pub struct SubscribeOptions {
    /// A queue group: each message goes to one member of the group (across connections), not
    /// to all of them.
    pub group: Option<String>,
    /// Do not replay retained messages to this subscription.
    pub no_retained: bool,
}

/// Options of one publish.
#[derive(Clone, Debug, Default)]
pub struct PublishOptions {
    /// Do not deliver to this spoke's own subscriptions.
    pub no_echo: bool,
    /// Keep as the channel's retained message (an empty body clears it).
    pub retain: bool,
    /// Headers passed to subscribers as they are.
    pub headers: Headers,
}

/// A spoke: a client of a pub/sub hub that reconnects by itself and replays its
/// subscriptions. Cheap to clone; clones share one connection. See the
/// [module docs](super) for an example.
#[derive(Clone)]
pub struct Spoke {
    pub(crate) actor: ChildHandle<SpokeActor>,
    pub(crate) shared: Arc<SpokeShared>,
}

impl std::fmt::Debug for Spoke {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spoke")
            .field("address", &self.shared.address)
            .field("readiness", &self.readiness())
            .finish()
    }
}

impl Spoke {
    /// Connection events from now on: connected (first or again), subscribed, disconnected,
    /// connect failed. A receiver that falls behind skips the oldest (see
    /// `broadcast::Receiver`).
    pub fn events(&self) -> broadcast::Receiver<SpokeEvent> {
        self.shared.events.subscribe()
    }

    /// Whether the spoke is connected with its subscriptions applied, right now.
    pub fn readiness(&self) -> Readiness {
        *self.shared.readiness.borrow()
    }

    /// Waits until the spoke is connected and the hub applied its subscription list, for up
    /// to `timeout`.
    ///
    /// A spoke that has never connected fails at once with the reason of its failed attempt
    /// (a refused port, a peer that is not a hub, a handshake refused); it keeps trying in the
    /// background, so `ready` may be called again. A spoke that was connected before waits
    /// out its reconnects, and at the timeout reports the last attempt's failure if there
    /// was one ([`SpokeError::NotConnected`] otherwise).
    pub async fn ready(&self, timeout: Duration) -> Result<(), SpokeError> {
        let hub = &self.shared.address;
        let mut failures = self.shared.last_failure.subscribe();
        let never_connected = || self.shared.readiness.borrow().connections == 0;
        let first_failure = async {
            let seen = failures
                .wait_for(|f| f.is_some() && never_connected())
                .await;
            match seen {
                Ok(failure) => failure.as_deref().map(|e| duplicate(e, hub)),
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            ready = self.wait_ready(timeout) => ready.map_err(|e| match e {
                SpokeError::NotConnected => self
                    .shared
                    .last_failure
                    .borrow()
                    .as_deref()
                    .map_or(SpokeError::NotConnected, |e| duplicate(e, hub)),
                e => e,
            }),
            Some(failure) = first_failure => Err(failure),
        }
    }

    /// Waits until the spoke is ready, through failed attempts, for up to `timeout`.
    async fn wait_ready(&self, timeout: Duration) -> Result<(), SpokeError> {
        let mut readiness = self.shared.readiness.subscribe();
        let wait = async {
            let seen = readiness.wait_for(|r| r.ready || r.stopped).await;
            seen.is_ok_and(|r| r.ready)
        };
        match tokio::time::timeout(timeout, wait).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(SpokeError::Stopped),
            Err(_) => Err(SpokeError::NotConnected),
        }
    }

    /// Subscribes to `pattern`; answers with the subscription's id and its receiver once the
    /// hub applied it (while disconnected: after the next connect). The subscription lasts
    /// until [`unsubscribe`](Self::unsubscribe) or until its receiver is dropped.
    pub async fn subscribe(
        &self,
        pattern: Pattern,
    ) -> Result<(u64, mpsc::Receiver<Delivery>), SpokeError> {
        self.subscribe_with(pattern, SubscribeOptions::default())
            .await
    }

    /// [`subscribe`](Self::subscribe) with options.
    pub async fn subscribe_with(
        &self,
        pattern: Pattern,
        options: SubscribeOptions,
    ) -> Result<(u64, mpsc::Receiver<Delivery>), SpokeError> {
        let (tx, rx) = mpsc::channel(self.shared.options.subscriber_capacity.max(1));
        let sid = self.add(pattern, options, Target::Receiver(tx)).await?;
        Ok((sid, rx))
    }

    /// Ends subscription `sid` (a provider's too). An unknown sid is ignored.
    pub async fn unsubscribe(&self, sid: u64) -> Result<(), SpokeError> {
        self.deliver(RemoveSubscription { sid }).await
    }

    /// Publishes `body` on `channel` (at most once, to the subscribers connected now).
    /// Fails with [`SpokeError::NotConnected`] while the spoke reconnects.
    pub async fn publish(&self, channel: Channel, body: Bytes) -> Result<(), SpokeError> {
        self.publish_with(channel, body, PublishOptions::default())
            .await
    }

    /// [`publish`](Self::publish) with options.
    pub async fn publish_with(
        &self,
        channel: Channel,
        body: Bytes,
        options: PublishOptions,
    ) -> Result<(), SpokeError> {
        let mut flags = MessageFlags::NONE;
        if options.no_echo {
            flags = flags | MessageFlags::NO_ECHO;
        }
        if options.retain {
            flags = flags | MessageFlags::RETAIN;
        }
        let publish = Publish {
            channel,
            flags,
            reply_to: None,
            headers: options.headers,
            body,
        };
        let (reply, answer) = oneshot::channel();
        self.deliver(PublishMessage { publish, reply }).await?;
        answer.await.map_err(|_| SpokeError::Stopped)?
    }

    /// Waits until the hub has handled everything this spoke sent before (its publishes routed
    /// to the subscribers connected now, its subscriptions applied), for up to `timeout`: a
    /// PING barrier, answered by the hub's PONG. Nothing shows in the hub's figures. Fails
    /// with [`SpokeError::NotConnected`] if the spoke is not connected or the connection goes
    /// first, and [`SpokeError::FlushTimeout`] if the PONG does not come in time.
    pub async fn flush(&self, timeout: Duration) -> Result<(), SpokeError> {
        let (reply, answer) = oneshot::channel();
        self.deliver(Flush { reply }).await?;
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(flushed)) => flushed,
            Ok(Err(_)) => Err(SpokeError::NotConnected),
            Err(_) => Err(SpokeError::FlushTimeout { after: timeout }),
        }
    }

    /// Calls whoever provides `channel`, and waits up to `timeout` for the answer. A spoke
    /// that is reconnecting is waited for within the same timeout.
    pub async fn call(
        &self,
        channel: Channel,
        body: Bytes,
        timeout: Duration,
    ) -> Result<Bytes, RpcError> {
        self.call_with_headers(channel, body, Headers::new(), timeout)
            .await
    }

    /// [`call`](Self::call) with request headers (the `deadline-ms` header is set from
    /// `timeout`).
    pub async fn call_with_headers(
        &self,
        channel: Channel,
        body: Bytes,
        headers: Headers,
        timeout: Duration,
    ) -> Result<Bytes, RpcError> {
        let started = tokio::time::Instant::now();
        let name = channel.to_string();
        if !self.readiness().ready {
            self.wait_ready(timeout).await.map_err(|e| match e {
                SpokeError::Stopped => RpcError::Stopped {
                    channel: name.clone(),
                },
                _ => RpcError::NotConnected {
                    channel: name.clone(),
                    after: timeout,
                },
            })?;
        }
        let left = timeout.saturating_sub(started.elapsed());
        let (reply, answer) = oneshot::channel();
        let start = StartCall {
            channel,
            headers,
            body,
            timeout: left,
            reply,
        };
        let stopped = || RpcError::Stopped {
            channel: name.clone(),
        };
        self.deliver(start).await.map_err(|_| stopped())?;
        let call = answer.await.map_err(|_| stopped())??;
        let actor = self.actor.clone();
        call.outcome(&name, left, move |n| actor.do_send(ForgetCall(n)))
            .await
            .map_err(|e| match e {
                // The outcome knows only the time it waited: report the caller's timeout.
                RpcError::TooSlow { channel, .. } => RpcError::TooSlow {
                    channel,
                    after: timeout,
                },
                RpcError::NotAcknowledged { channel, .. } => RpcError::NotAcknowledged {
                    channel,
                    after: timeout,
                },
                other => other,
            })
    }

    /// Answers calls to `pattern` with `handler`; returns the provider's subscription id
    /// (end it with [`unsubscribe`](Self::unsubscribe)).
    ///
    /// The handler is an async function of the [`Request`] returning the reply body, or an
    /// error code and message for the caller. It runs on the spoke's thread, one future per
    /// call (many at once); a panic answers the call with `handler-failure`.
    pub async fn provide<F, Fut>(&self, pattern: Pattern, handler: F) -> Result<u64, SpokeError>
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ProviderResult> + 'static,
    {
        self.provide_with(pattern, SubscribeOptions::default(), handler)
            .await
    }

    /// [`provide`](Self::provide) with options: providers in one queue `group` each get some
    /// of the calls, not all of them.
    pub async fn provide_with<F, Fut>(
        &self,
        pattern: Pattern,
        options: SubscribeOptions,
        handler: F,
    ) -> Result<u64, SpokeError>
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ProviderResult> + 'static,
    {
        let options = SubscribeOptions {
            // Calls are never retained.
            no_retained: true,
            ..options
        };
        self.add(pattern, options, Target::Provider(Provider::new(handler)))
            .await
    }

    async fn add(
        &self,
        pattern: Pattern,
        options: SubscribeOptions,
        target: Target,
    ) -> Result<u64, SpokeError> {
        let flags = match options.no_retained {
            true => SubscriptionFlags::NO_RETAINED,
            false => SubscriptionFlags::NONE,
        };
        let (reply, answer) = oneshot::channel();
        let add = AddSubscription {
            pattern,
            group: options.group,
            flags,
            target,
            reply,
        };
        self.deliver(add).await?;
        answer.await.map_err(|_| SpokeError::Stopped)?
    }

    async fn deliver<M>(&self, msg: M) -> Result<(), SpokeError>
    where
        M: actix::Message<Result = ()> + Send + 'static,
        SpokeActor: actix::Handler<M>,
    {
        self.actor
            .deliver(msg, DELIVER_WAIT)
            .await
            .map_err(|_: Undelivered<M>| SpokeError::Stopped)
    }
}

/// A copy of a connect failure for another waiter (an I/O error is not `Clone`: its kind and
/// text are kept).
fn duplicate(e: &SpokeError, hub: &hubwire_core::Address) -> SpokeError {
    match e {
        SpokeError::Connect { address, source } => SpokeError::Connect {
            address: address.clone(),
            source: std::io::Error::new(source.kind(), source.to_string()),
        },
        SpokeError::ConnectTimeout { address, after } => SpokeError::ConnectTimeout {
            address: address.clone(),
            after: *after,
        },
        SpokeError::NotAStream(address) => SpokeError::NotAStream(address.clone()),
        SpokeError::Handshake { code, message } => SpokeError::Handshake {
            code: *code,
            message: message.clone(),
        },
        other => SpokeError::Connect {
            address: hub.clone(),
            source: std::io::Error::other(other.to_string()),
        },
    }
}
