//! The messages the [`Spoke`](super::Spoke) handle sends its actor; each carries its reply
//! channel, so a message is answered or handed back, never silently dropped.

use std::time::Duration;

use actix::Message;
use bytes::Bytes;
use hubwire_core::protocol::{Headers, Publish, SubscriptionFlags};
use hubwire_core::pubsub::{Channel, Pattern};
use hubwire_core::spoke::{PendingCall, RpcError, SpokeError};
use tokio::sync::{mpsc, oneshot};

use super::provider::Provider;
use super::Delivery;

/// Where a subscription's messages go.
#[derive(Clone)]
pub(crate) enum Target {
    /// A user's receiver.
    Receiver(mpsc::Sender<Delivery>),
    /// A provider answering calls.
    Provider(Provider),
    /// The reply inbox of this spoke's calls.
    Inbox,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Target::Receiver(_) => "Receiver",
            Target::Provider(_) => "Provider",
            Target::Inbox => "Inbox",
        })
    }
}

/// Adds a subscription; answered with its sid once the hub applied it (or refused it).
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct AddSubscription {
    pub(crate) pattern: Pattern,
    pub(crate) group: Option<String>,
    pub(crate) flags: SubscriptionFlags,
    pub(crate) target: Target,
    pub(crate) reply: oneshot::Sender<Result<u64, SpokeError>>,
}

/// Ends a subscription.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct RemoveSubscription {
    pub(crate) sid: u64,
}

/// Publishes a message.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct PublishMessage {
    pub(crate) publish: Publish,
    pub(crate) reply: oneshot::Sender<Result<(), SpokeError>>,
}

/// Sends a call; answered with the call to wait on.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct StartCall {
    pub(crate) channel: Channel,
    pub(crate) headers: Headers,
    pub(crate) body: Bytes,
    pub(crate) timeout: Duration,
    pub(crate) reply: oneshot::Sender<Result<PendingCall, RpcError>>,
}

/// The caller of call `n` gave up waiting.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct ForgetCall(pub(crate) u64);

/// Sends a PING barrier; answered on its PONG, once the hub has handled everything sent before.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Flush {
    pub(crate) reply: oneshot::Sender<Result<(), SpokeError>>,
}
