//! Spokes: clients of a pub/sub hub that reconnect by themselves, replay their subscriptions,
//! publish, and call and provide services over pub/sub (`docs/protocol.md`, section 10).
//!
//! A spoke is three layers:
//! 1. **connection** ([`SpokeActor`], over `hubwire_core::spoke::link`): connect within the
//!    connect timeout, CONN handshake, reconnect forever with the back-off policy (jittered,
//!    so spokes that lost one hub do not come back in step), PING keepalive to notice a dead
//!    hub, and [`SpokeEvent`]s for every change;
//! 2. **messages**: frames read a batch per read and dispatched on their sids; PUBLISH written
//!    into the connection's outbound buffer, flushed once per pass by its writer task;
//! 3. **pub/sub**: the spoke is the source of truth for its subscriptions and sends the whole
//!    list after every handshake, then a PING: its PONG means the hub applied it ("subscribed").
//!
//! Calls share one reply inbox per spoke (`_inbox/<token>/*`, subscribed once): call `n`
//! gets `reply_to` `_inbox/<token>/<n>`, so many calls are in flight with no subscribe round
//! trip each, and [`RpcError`] tells apart no responders, a remote error, nobody
//! acknowledging in time, a callee too slow, and a lost connection.
//!
//! ```text
//! Supervisor "spokes.<name>"
//! └── spoke.<name>   SpokeActor: link, subscription book, call book, providers
//!       ▲ messages with reply channels
//!     Spoke (handle, Clone): subscribe / publish / call / provide / events / ready
//! ```
//!
//! ```no_run
//! # use std::time::Duration;
//! use bytes::Bytes;
//! use hubwire_actors::spoke::SpokeSpec;
//! use hubwire_core::pubsub::{Channel, Pattern};
//! use hubwire_core::stats::StatsRegistry;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! // Inside an actix system (`#[actix::main]`):
//! let (spoke, _supervisor) =
//!     SpokeSpec::new("tcp://127.0.0.1:7400".parse()?).start(&StatsRegistry::new());
//! spoke.ready(Duration::from_secs(5)).await?;
//!
//! let (_sid, mut temps) = spoke.subscribe(Pattern::parse("rooms/*/temp")?).await?;
//! spoke.publish(Channel::parse("rooms/kitchen/temp")?, Bytes::from_static(b"21")).await?;
//! let message = temps.recv().await.expect("the spoke is running");
//! assert_eq!(&message.body[..], b"21");
//!
//! spoke.provide(Pattern::parse("svc/echo")?, |request| async move { Ok(request.body) }).await?;
//! let reply = spoke
//!     .call(Channel::parse("svc/echo")?, Bytes::from_static(b"hi"), Duration::from_secs(1))
//!     .await?;
//! assert_eq!(&reply[..], b"hi");
//! # Ok(()) }
//! ```
//!
//! # Layout
//! - `spec.rs`: [`SpokeSpec`], building the spoke as a supervised child.
//! - `handle.rs`: [`Spoke`], the handle, and its options.
//! - `actor.rs`: [`SpokeActor`]: the connection's life, keepalive, reconnects.
//! - `dispatch.rs`: the hub's frames: messages, answers, refusals, barriers.
//! - `commands.rs`: the handle's requests as the actor carries them out.
//! - `provider.rs`: providers answering calls.
//! - `typed.rs`: typed bodies: `publish_typed`, [`Subscription`], `call_typed`,
//!   `provide_typed`.
//! - `message.rs`: the actor's messages.

mod actor;
mod commands;
mod dispatch;
mod handle;
mod message;
mod provider;
mod spec;
mod typed;

pub use actor::SpokeActor;
pub use handle::{PublishOptions, Spoke, SubscribeOptions};
pub use hubwire_core::spoke::{Readiness, RpcError, SpokeError, SpokeEvent, SpokeOptions};
pub use provider::{ProviderResult, Request};
pub use spec::SpokeSpec;
pub use typed::{Delivered, Subscription, Undecodable};

use bytes::Bytes;
use hubwire_core::protocol::{Headers, MessageFlags};
use hubwire_core::pubsub::Channel;

/// A message delivered to a subscription.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// The subscription it came for.
    pub sid: u64,
    /// The channel it was published on.
    pub channel: Channel,
    /// RETAINED for a replayed retained message; the call bits for calls and answers.
    pub flags: MessageFlags,
    /// Where answers go, if the publisher asked for them.
    pub reply_to: Option<Channel>,
    /// The publisher's headers.
    pub headers: Headers,
    /// The publisher's body.
    pub body: Bytes,
}

impl Delivery {
    /// Whether this is a retained message replayed to a new subscription.
    pub fn is_retained(&self) -> bool {
        self.flags.contains(MessageFlags::RETAINED)
    }
}
