//! Queued routes: a request is stored durably, acknowledged with its id, and processed later
//! by handler actors with retries; what keeps failing waits in an error queue for an operator.
//!
//! ```text
//!  client ── request ──> QueuedEndpoint<R>            (connection's thread)
//!                          │ decode (invalid-body), pause? (paused), bound (busy)
//!                          │ Op::Enqueue
//!                          v
//!                        StoreHandle ══ channel ══> StoreKeeper  (thread "hubwire-store")
//!                          ^                          │ drain all waiting ops -> one
//!                          │                          │ Store::apply (one fsync), then
//!  client <── {id} ────────┼──────────────────────────┘ answer each caller
//!                          │                          │ Wake
//!                          │                          v
//!                          │  next_ready, Complete / QueueWorkers<R, H>  (N slots)
//!                          └─ Retry / Fail ────────── │ Dispatch<R> ──> handler H (slot i)
//!                                                     │ <── Outcome (reply frame) ──┘
//!  QueueAdmin (operator) ── reads, Requeue*, Clear, PopError, SetPause ──> StoreHandle
//! ```
//!
//! - **Store actor** ([`StoreHandle`]): one per process, on its own thread, owns the
//!   [`Store`](hubwire_core::store::Store) and group-commits: everything submitted while a
//!   commit runs goes into the next single batch. It also publishes each queue's pause state for
//!   the endpoint and the workers to read without asking, and counts what workers finished.
//! - **Endpoint**: refuses a bad body (invalid-body) or a paused route (paused) at once, then
//!   stores the request and answers [`Queued`] `{id}` only after the commit. A known
//!   `idempotency-key` header answers the existing id; a full queue answers busy.
//! - **Workers** take ready items oldest first, run the handler (the same [`Dispatch`] message
//!   as a plain route, so `serve!` handlers serve queued routes unchanged), and commit
//!   `Complete`, or `Retry` after the back-off, or `Fail` into the error queue at max attempts.
//!   Processing-paused workers take nothing; at start they take whatever the store holds.
//! - **Operator** ([`QueueAdmin`]): figures, error pages, inspect, pop, requeue one or all,
//!   clear, pause and unpause. Bulk operations act in one atomic step, up to an id if given.
//!
//! Delivery is at least once: an item whose handler ran but whose `Complete` was not committed
//! (a crash in between) runs again, so handlers should be idempotent by request id.
//!
//! # Example
//! ```no_run
//! use hubwire_actors::queue::{QueueAdmin, QueuedRoute, StoreHandle};
//! use hubwire_core::store::RedbStore;
//! # use hubwire_actors::actix::{Actor, Context};
//! # use hubwire_actors::handler::{Reply, Serve};
//! # hubwire_core::route!(pub Job = "jobs.run", String => ());
//! # struct Runner;
//! # impl Actor for Runner { type Context = Context<Self>; }
//! # impl Serve<Job> for Runner {
//! #     fn serve(&mut self, _: String, _: &mut Context<Self>) -> Reply<()> { Reply::ok(()) }
//! # }
//! # hubwire_actors::serve!(Runner: Job);
//! # async fn run(config: hubwire_core::Config) -> Result<(), Box<dyn std::error::Error>> {
//! let store = StoreHandle::start(Box::new(RedbStore::open("data/queues.redb")?))?;
//! let builder = hubwire_actors::Server::builder(config);
//! let server = QueuedRoute::<Job, Runner>::new(|| Runner)
//!     .workers(4)
//!     .max_attempts(5)
//!     .add_to(builder, &store)?
//!     .start()
//!     .await?;
//! let admin = QueueAdmin::new(store.clone());
//! println!("{:?}", admin.data("jobs.run").await?);
//! # drop(server); Ok(()) }
//! ```
//!
//! # Layout
//! - `store_actor.rs`: [`StoreHandle`] and the store thread: group commit, reads, pause mirrors.
//! - `endpoint.rs`: `QueuedEndpoint`, the route endpoint that stores and acknowledges.
//! - `worker.rs`: `QueueWorkers`, the actor that runs stored items through the handlers.
//! - `route.rs`: [`QueuedRoute`], the options and the registration on a server.
//! - `admin.rs`: [`QueueAdmin`], the operator's operations.
//! - `error.rs`: [`QueueError`].
//!
//! [`Dispatch`]: crate::handler::Dispatch

mod admin;
mod endpoint;
mod error;
mod read_ahead;
mod route;
pub(crate) mod store_actor;
mod worker;

#[cfg(test)]
mod store_actor_tests;

pub use admin::{ErrorIdPage, PauseChange, QueueAdmin, QueueData, MAX_PAGE};
pub(crate) use endpoint::now_ms;
pub use endpoint::QueuedEndpoint;
pub use error::QueueError;
pub(crate) use read_ahead::ReadAhead;
pub use route::{
    QueuedRoute, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_PENDING, DEFAULT_MAX_STORING, DEFAULT_WORKERS,
};
pub(crate) use store_actor::PauseMirror;
pub use store_actor::{QueueTotals, StoreHandle, StoreView, MAX_BATCH_OPS};
pub use worker::POLL_INTERVAL;

use hubwire_core::Route;
use serde::{Deserialize, Serialize};

/// The client's view of queued route `R`: the same key and request, answered [`Queued`] (the
/// handler's own reply type is what the handler returns to the workers, not to the client).
///
/// ```no_run
/// # hubwire_core::route!(pub SendMail = "mail.send", String => ());
/// # async fn f(client: hubwire_core::client::Client) -> Result<(), hubwire_core::client::CallError> {
/// use hubwire_actors::queue::Enqueue;
/// let queued = client.call::<Enqueue<SendMail>>(&"ann@example.org".to_owned()).await?;
/// println!("stored as {}", queued.id);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Enqueue<R: Route>(std::marker::PhantomData<fn() -> R>);

impl<R: Route> Route for Enqueue<R> {
    const KEY: &'static str = R::KEY;
    // A repeated enqueue stores the request twice unless it carries an idempotency key.
    const IDEMPOTENT: bool = false;
    type Request = R::Request;
    type Reply = Queued;
}

/// What a queued route answers once the request is stored: its id, for the operator's
/// operations and for the handler to be idempotent by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queued {
    /// The stored item's id (the existing one, for a repeated idempotency key).
    pub id: u64,
}
