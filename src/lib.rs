//! hubwire: an actor-system framework for networked services.
//!
//! Handlers are actix actors on route keys (`dice.roll`), reached over TCP, Unix sockets and UDP with
//! one framed MessagePack protocol, with typed requests, replies and errors, and a typed client.
//!
//! ```no_run
//! use hubwire::prelude::*;
//!
//! #[derive(Serialize, Deserialize)]
//! pub struct Say { pub message: String }
//! route!(pub Echo = "echo", Say => Say);
//!
//! struct Echoer;
//! impl Actor for Echoer { type Context = Context<Self>; }
//! impl Serve<Echo> for Echoer {
//!     fn serve(&mut self, request: Say, _: &mut Context<Self>) -> Reply<Say> {
//!         Reply::ok(request)
//!     }
//! }
//! serve!(Echoer: Echo);
//!
//! #[actix::main]
//! async fn main() -> Result<(), StartError> {
//!     let server = Server::builder(Config::default()).route(Echo, || Echoer).start().await?;
//!     println!("listening on {:?}", server.addresses());
//!     tokio::signal::ctrl_c().await.ok();
//!     Ok(())
//! }
//! ```
//!
//! # Layout
//! - `hubwire` (this crate): the prelude, re-exports, the application base and its configuration.
//!   The `hubwire` command is a crate of its own (`cli/`, package `hubwire-cli`), so a service that
//!   depends on this crate does not build it.
//! - [`hubwire_actors`] (`actors/`): every actor: handlers, routing, listeners, connections,
//!   the server.
//! - [`hubwire_core`] (`core/`): the plain parts without actix: wire protocol, addresses,
//!   configuration, bodies, the typed client.
//! - [`app`]: the application base: `App::new(name).route(..).run()` with config, logging,
//!   single-instance lock, standard endpoints and graceful shutdown.
//! - [`standard`]: the standard `hubwire.*` endpoints' routes and types.
//! - [`work`]: the network work queue: dispatcher, policies, producer, worker.
//! - [`config`]: layered configuration (defaults < file < environment < flags) with sources.
#![warn(missing_docs)]
#![warn(missing_debug_implementations)]
#![deny(unused_must_use)]

pub mod app;
pub mod config;
pub mod standard;

/// The network work queue: the dispatcher (`hubwire_actors::work`) and its bookkeeping,
/// policies, producer and worker (`hubwire_core::work`). See `docs/work-queue.md`.
pub mod work {
    pub use hubwire_actors::work::*;
    pub use hubwire_core::work::*;
}

pub use app::App;
pub use hubwire_actors::{
    actix, bridge, cache, handler, hub, queue, routing, sender, serve, serve_blocking, server,
    spoke, supervisor, transport, Server, ServerBuilder, StartError,
};
pub use hubwire_core::{
    auth, backoff, client, compression, decode_body, encode_body, nats, net, protocol, pubsub,
    route, stats, store, tls, websocket, Address, AddressError, AllowEntry, AllowList, BodyError,
    Config, Route,
};

/// What most programs need: `use hubwire::prelude::*;`.
pub mod prelude {
    pub use crate::actix::{Actor, Context, SyncContext};
    pub use crate::app::App;
    pub use crate::client::{CallError, Client, ClientOptions};
    pub use crate::handler::{request_id, HandlerError, IntoReply, Reply, Serve, ServeBlocking};
    pub use crate::protocol::ErrorCode;
    pub use crate::pubsub::{Channel, Pattern};
    pub use crate::queue::{Enqueue, Queued, QueuedRoute};
    pub use crate::spoke::{
        Delivered, Delivery, PublishOptions, RpcError, Spoke, SpokeError, SpokeSpec,
        SubscribeOptions, Subscription, Undecodable,
    };
    pub use crate::stats::StatsRegistry;
    pub use crate::{decode_body, encode_body};
    pub use crate::{route, serve, serve_blocking, Address, Config, Route, Server, StartError};
    pub use serde::{Deserialize, Serialize};
}
