//! [`QueuedRoute`]: the options of a queued route, and registering it on a server.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, Arbiter, Context, Handler};
use hubwire_core::backoff::BackoffPolicy;
use hubwire_core::Route;

use super::endpoint::QueuedEndpoint;
use super::store_actor::StoreHandle;
use super::worker::{Factory, QueueWorkers, Wake};
use super::QueueError;
use crate::handler::Dispatch;
use crate::routing::RouteStats;
use crate::supervisor::actor_child;
use crate::ServerBuilder;

/// Handlers working at once on a queued route, unless told otherwise.
pub const DEFAULT_WORKERS: usize = 4;
/// Attempts (the first included) before an item goes to the error queue, unless told otherwise.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
/// Items a queue holds before new requests are answered busy, unless told otherwise.
pub const DEFAULT_MAX_PENDING: usize = 100_000;
/// Enqueues of one route waiting for their commit, unless told otherwise.
pub const DEFAULT_MAX_STORING: usize = 4096;

/// A route whose requests are stored, acknowledged with their id, and processed later by
/// handler actors `H`, with retries and an error queue.
///
/// ```no_run
/// # use hubwire_actors::actix::{Actor, Context};
/// # use hubwire_actors::handler::{Reply, Serve};
/// # use hubwire_actors::queue::{QueuedRoute, StoreHandle};
/// # use hubwire_core::backoff::BackoffPolicy;
/// # use std::time::Duration;
/// hubwire_core::route!(pub SendMail = "mail.send", String => ());
/// struct Mailer;
/// impl Actor for Mailer { type Context = Context<Self>; }
/// impl Serve<SendMail> for Mailer {
///     fn serve(&mut self, to: String, _: &mut Context<Self>) -> Reply<()> { Reply::ok(()) }
/// }
/// hubwire_actors::serve!(Mailer: SendMail);
///
/// # fn build(builder: hubwire_actors::ServerBuilder, store: StoreHandle)
/// #     -> Result<hubwire_actors::ServerBuilder, hubwire_actors::queue::QueueError> {
/// QueuedRoute::<SendMail, Mailer>::new(|| Mailer)
///     .workers(8)
///     .max_attempts(10)
///     .backoff(BackoffPolicy::exponential(Duration::from_secs(1), Duration::from_secs(60)))
///     .max_pending(10_000)
///     .add_to(builder, &store)
/// # }
/// ```
pub struct QueuedRoute<R: Route, H: Actor> {
    factory: Factory<H>,
    workers: usize,
    max_attempts: u32,
    backoff: BackoffPolicy,
    max_pending: usize,
    max_storing: usize,
    _route: PhantomData<fn() -> R>,
}

impl<R: Route, H: Actor> std::fmt::Debug for QueuedRoute<R, H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueuedRoute")
            .field("route", &R::KEY)
            .field("workers", &self.workers)
            .field("max_attempts", &self.max_attempts)
            .field("backoff", &self.backoff)
            .field("max_pending", &self.max_pending)
            .finish_non_exhaustive()
    }
}

impl<R, H> QueuedRoute<R, H>
where
    R: Route,
    H: Actor<Context = Context<H>> + Handler<Dispatch<R>>,
{
    /// A queued route served by actors that `factory` makes (one per worker, and a new one if
    /// a worker's handler stops), with the defaults: [`DEFAULT_WORKERS`],
    /// [`DEFAULT_MAX_ATTEMPTS`], exponential back-off from 1 s to 5 min, [`DEFAULT_MAX_PENDING`].
    pub fn new(factory: impl Fn() -> H + Send + Sync + 'static) -> Self {
        QueuedRoute {
            factory: Arc::new(factory),
            workers: DEFAULT_WORKERS,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            backoff: BackoffPolicy::exponential(Duration::from_secs(1), Duration::from_secs(300)),
            max_pending: DEFAULT_MAX_PENDING,
            max_storing: DEFAULT_MAX_STORING,
            _route: PhantomData,
        }
    }

    /// How many items are processed at once (at least 1).
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = workers.max(1);
        self
    }

    /// Attempts in all, the first included (at least 1): the item that fails this many times
    /// goes to the error queue. This always replaces the back-off policy's own limit (which
    /// counts retries).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// When to retry a failed item. Its curve is used; its attempt limit is replaced by
    /// [`max_attempts`](Self::max_attempts). A failure a handler marks invalid-body
    /// ([`HandlerError::invalid_request`](crate::handler::HandlerError::invalid_request)) is not
    /// retried.
    pub fn backoff(mut self, policy: BackoffPolicy) -> Self {
        self.backoff = policy;
        self
    }

    /// Items the queue may hold (being processed included, errored items not); over it a new
    /// request is answered busy, and nothing stored is ever dropped.
    pub fn max_pending(mut self, max_pending: usize) -> Self {
        self.max_pending = max_pending;
        self
    }

    /// Enqueues of this route waiting for their commit at once; over it a request is answered
    /// busy before it reaches the store.
    pub fn max_storing(mut self, max_storing: usize) -> Self {
        self.max_storing = max_storing.max(1);
        self
    }

    /// Adds the route's endpoint to `builder`, and its workers (with their handlers) to the
    /// server's supervision tree as child `queue.<route key>`, with its queue (named after the
    /// route key) kept by `store`. Call it inside the actix system that runs the server (in the
    /// closure that builds it): the workers run on the current arbiter. It waits for the store
    /// to read the queue's persisted pause state, so a paused route refuses from its first
    /// request; the workers start with the server and take whatever the store holds. A worker
    /// actor that fails is restarted under the server's intensity and back-off; the items it
    /// was running stay pending and run again.
    pub fn add_to(
        self,
        builder: ServerBuilder,
        store: &StoreHandle,
    ) -> Result<ServerBuilder, QueueError> {
        let pause = store.watch_blocking(R::KEY)?;
        let stats = Arc::new(RouteStats::new(builder.registry(), R::KEY));
        // The policy counts retries; max_attempts counts the first attempt too.
        let policy = self
            .backoff
            .with_max_attempts(Some(self.max_attempts.saturating_sub(1)));
        let wake_sent = Arc::new(AtomicBool::new(false));
        let id = format!("queue.{}", R::KEY);
        let lost = builder
            .registry()
            .counter("supervisor.lost_messages", &[("child", id.as_str())]);
        let (slots, factory) = (self.workers, self.factory);
        let (store_c, wake_c, pause_c, stats_c) = (
            store.clone(),
            wake_sent.clone(),
            pause.clone(),
            stats.clone(),
        );
        let (spec, workers) = actor_child(
            id,
            Arbiter::current(),
            move |exit| {
                Ok(QueueWorkers::<R, H>::new(
                    store_c.clone(),
                    wake_c.clone(),
                    pause_c.clone(),
                    factory.clone(),
                    slots,
                    policy.clone(),
                    stats_c.clone(),
                    exit,
                ))
            },
            lost,
        );
        let endpoint = QueuedEndpoint::<R> {
            store: store.clone(),
            pause,
            max_pending: self.max_pending,
            in_flight: Arc::new(AtomicUsize::new(0)),
            max_in_flight: self.max_storing,
            stats,
            wake: Arc::new(move || workers.do_send(Wake)),
            wake_sent,
            _route: PhantomData,
        };
        Ok(builder.supervise(spec).endpoint(Arc::new(endpoint)))
    }
}
