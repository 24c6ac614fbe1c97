//! The endpoint of a route served by blocking handlers on a `SyncArbiter` thread pool.

use std::marker::PhantomData;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use actix::{Actor, Addr, Handler, SyncContext};
use hubwire_core::protocol::ErrorCode;
use hubwire_core::Route;

use super::endpoint::decode_dispatch;
use super::{Incoming, Refusal, RouteEndpoint, RouteStats};
use crate::handler::{Dispatch, InFlightPermit};
use hubwire_core::stats::StatsRegistry;

/// Route `R` served by `SyncArbiter` workers of type `H`.
///
/// A `SyncArbiter`'s queue has no bound of its own, so hubwire counts the requests in flight and
/// answers busy past `limit`; the count is given back when each request is done or lost.
pub struct BlockingEndpoint<R: Route, H: Actor<Context = SyncContext<H>>> {
    workers: Addr<H>,
    in_flight: Arc<AtomicUsize>,
    limit: usize,
    stats: Arc<RouteStats>,
    _route: PhantomData<fn() -> R>,
}

impl<R: Route, H: Actor<Context = SyncContext<H>>> std::fmt::Debug for BlockingEndpoint<R, H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingEndpoint")
            .field("route", &R::KEY)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl<R: Route, H: Actor<Context = SyncContext<H>>> BlockingEndpoint<R, H> {
    /// An endpoint over a `SyncArbiter` address, with at most `limit` requests in flight.
    pub fn new(workers: Addr<H>, limit: usize, registry: &StatsRegistry) -> Self {
        BlockingEndpoint {
            workers,
            in_flight: Arc::default(),
            limit,
            stats: Arc::new(RouteStats::new(registry, R::KEY)),
            _route: PhantomData,
        }
    }
}

impl<R, H> RouteEndpoint for BlockingEndpoint<R, H>
where
    R: Route,
    H: Actor<Context = SyncContext<H>> + Handler<Dispatch<R>>,
{
    fn key(&self) -> &'static str {
        R::KEY
    }

    fn dispatch(&self, incoming: Incoming) -> Result<(), Refusal> {
        let Some(permit) = InFlightPermit::try_take(&self.in_flight, self.limit) else {
            self.stats.busy.inc();
            return Err(Refusal {
                code: ErrorCode::Busy,
                message: format!(
                    "route {} has {} blocking requests in flight (the most allowed); try again later",
                    R::KEY,
                    self.limit
                ),
            });
        };
        let msg = decode_dispatch::<R>(incoming, &self.stats, Some(permit))?;
        // Bounded by the permit above, not by the mailbox.
        self.workers.do_send(msg);
        self.stats.dispatched.inc();
        Ok(())
    }

    fn stats(&self) -> &Arc<RouteStats> {
        &self.stats
    }
}
