//! How a registered route becomes an endpoint once the I/O threads exist: one actor (or a pool)
//! per registration, blocking workers, a set of routes sharing one actor, or a function.

use std::marker::PhantomData;
use std::sync::Arc;

use actix::{Actor, Addr, Context, Handler, SyncArbiter, SyncContext};
use hubwire_core::stats::StatsRegistry;
use hubwire_core::Route;

use crate::handler::Dispatch;
use crate::routing::{BlockingEndpoint, RouteEndpoint, TypedEndpoint};
use crate::transport::IoPool;

/// How to start a registration's handlers once the I/O threads exist.
pub(super) trait RouteSpec {
    /// The route keys it serves.
    fn keys(&self) -> Vec<&'static str>;
    /// Starts its handlers; one endpoint per key.
    fn start(
        self: Box<Self>,
        pool: &IoPool,
        mailbox: usize,
        registry: &StatsRegistry,
    ) -> Vec<Arc<dyn RouteEndpoint>>;
}

/// Routes served by the same actors: `instances` actors made by `factory`, each serving every
/// route of `S`.
pub(super) struct HandlerSpec<S, H, F> {
    pub(super) factory: F,
    pub(super) instances: usize,
    pub(super) _types: PhantomData<fn() -> (S, H)>,
}

impl<S, H, F> RouteSpec for HandlerSpec<S, H, F>
where
    S: RouteSet<H>,
    H: Actor<Context = Context<H>>,
    F: Fn() -> H + Send + Sync + 'static,
{
    fn keys(&self) -> Vec<&'static str> {
        S::keys()
    }

    fn start(
        self: Box<Self>,
        pool: &IoPool,
        mailbox: usize,
        registry: &StatsRegistry,
    ) -> Vec<Arc<dyn RouteEndpoint>> {
        let factory = Arc::new(self.factory);
        let handlers: Vec<Addr<H>> = (0..self.instances.max(1))
            .map(|_| {
                let factory = factory.clone();
                H::start_in_arbiter(&pool.pick(), move |ctx| {
                    // hubwire bounds the queue itself (try_send, answered busy when full).
                    ctx.set_mailbox_capacity(mailbox);
                    factory()
                })
            })
            .collect();
        S::endpoints(&handlers, registry)
    }
}

/// A route served by blocking actors on `threads` threads of their own.
pub(super) struct BlockingSpec<R, H, F> {
    pub(super) factory: F,
    pub(super) threads: usize,
    pub(super) _types: PhantomData<fn() -> (R, H)>,
}

impl<R, H, F> RouteSpec for BlockingSpec<R, H, F>
where
    R: Route,
    H: Actor<Context = SyncContext<H>> + Handler<Dispatch<R>>,
    F: Fn() -> H + Send + Sync + 'static,
{
    fn keys(&self) -> Vec<&'static str> {
        vec![R::KEY]
    }

    fn start(
        self: Box<Self>,
        _pool: &IoPool,
        limit: usize,
        registry: &StatsRegistry,
    ) -> Vec<Arc<dyn RouteEndpoint>> {
        let workers = SyncArbiter::start(self.threads.max(1), self.factory);
        vec![Arc::new(BlockingEndpoint::<R, H>::new(
            workers, limit, registry,
        ))]
    }
}

/// Makes an endpoint once the registry is known.
pub(super) type MakeEndpoint = Box<dyn FnOnce(&StatsRegistry) -> Arc<dyn RouteEndpoint> + Send>;

/// An endpoint made once the registry is known (functions, standard endpoints).
pub(super) struct EndpointSpec {
    pub(super) key: &'static str,
    pub(super) make: MakeEndpoint,
}

impl RouteSpec for EndpointSpec {
    fn keys(&self) -> Vec<&'static str> {
        vec![self.key]
    }

    fn start(
        self: Box<Self>,
        _pool: &IoPool,
        _mailbox: usize,
        registry: &StatsRegistry,
    ) -> Vec<Arc<dyn RouteEndpoint>> {
        vec![(self.make)(registry)]
    }
}

/// Routes that one actor type `H` serves together: a tuple of route keys (`(DiceGuess, DiceRoll)`,
/// or `(DiceRoll,)` for one), as given to
/// [`ServerBuilder::routes`](super::ServerBuilder::routes).
pub trait RouteSet<H: Actor>: 'static {
    /// The keys, in order.
    fn keys() -> Vec<&'static str>;
    /// One endpoint per route, each over the same `handlers`.
    fn endpoints(handlers: &[Addr<H>], registry: &StatsRegistry) -> Vec<Arc<dyn RouteEndpoint>>;
}

macro_rules! route_set_tuple {
    ($($route:ident),+) => {
        impl<H, $($route),+> RouteSet<H> for ($($route,)+)
        where
            H: Actor<Context = Context<H>> $(+ Handler<Dispatch<$route>>)+,
            $($route: Route),+
        {
            fn keys() -> Vec<&'static str> {
                vec![$($route::KEY),+]
            }

            fn endpoints(
                handlers: &[Addr<H>],
                registry: &StatsRegistry,
            ) -> Vec<Arc<dyn RouteEndpoint>> {
                vec![$(
                    Arc::new(TypedEndpoint::<$route, H>::new(handlers.to_vec(), registry))
                        as Arc<dyn RouteEndpoint>
                ),+]
            }
        }
    };
}

route_set_tuple!(A);
route_set_tuple!(A, B);
route_set_tuple!(A, B, C);
route_set_tuple!(A, B, C, D);
route_set_tuple!(A, B, C, D, E);
route_set_tuple!(A, B, C, D, E, F);
route_set_tuple!(A, B, C, D, E, F, G);
route_set_tuple!(A, B, C, D, E, F, G, I);
