//! An endpoint that answers with a function, on the connection's own thread, without a handler
//! actor. For quick answers only (the standard `hubwire.*` endpoints): the function must not
//! block.

use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

use hubwire_core::stats::StatsRegistry;
use hubwire_core::{encode_body, Route};

use super::endpoint::decode_dispatch;
use super::{Incoming, Refusal, RouteEndpoint, RouteStats};
use crate::handler::{panicked, HandlerError, ReplyTo};
use crate::transport::Peer;

/// The function of a [`FnEndpoint`]: the request and who sent it, to a reply or an error.
pub type EndpointFn<R> =
    dyn Fn(<R as Route>::Request, &Peer) -> Result<<R as Route>::Reply, HandlerError> + Send + Sync;

/// Route `R` answered by a function.
pub struct FnEndpoint<R: Route> {
    answer: Box<EndpointFn<R>>,
    stats: Arc<RouteStats>,
    _route: PhantomData<fn() -> R>,
}

impl<R: Route> std::fmt::Debug for FnEndpoint<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnEndpoint")
            .field("route", &R::KEY)
            .finish()
    }
}

impl<R: Route> FnEndpoint<R> {
    /// An endpoint of route `R` answered by `answer`, with its figures in `registry`.
    pub fn new(
        registry: &StatsRegistry,
        answer: impl Fn(R::Request, &Peer) -> Result<R::Reply, HandlerError> + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(FnEndpoint {
            answer: Box::new(answer),
            stats: Arc::new(RouteStats::new(registry, R::KEY)),
            _route: PhantomData,
        })
    }
}

impl<R: Route> RouteEndpoint for FnEndpoint<R> {
    fn key(&self) -> &'static str {
        R::KEY
    }

    fn dispatch(&self, incoming: Incoming) -> Result<(), Refusal> {
        let peer = incoming.peer.clone();
        let dispatch = decode_dispatch::<R>(incoming, &self.stats, None)?;
        self.stats.dispatched.inc();
        let _entered = dispatch.span.enter();
        let started = Instant::now();
        match catch_unwind(AssertUnwindSafe(|| (self.answer)(dispatch.request, &peer))) {
            Ok(result) => settle::<R>(result, dispatch.reply_to, &self.stats, started),
            Err(panic) => panicked::<R>(dispatch.reply_to, &self.stats, &*panic),
        }
        Ok(())
    }

    fn stats(&self) -> &Arc<RouteStats> {
        &self.stats
    }
}

/// Records how a function endpoint's call went and sends its answer.
pub(super) fn settle<R: Route>(
    result: Result<R::Reply, HandlerError>,
    reply_to: ReplyTo,
    stats: &RouteStats,
    started: Instant,
) {
    let result = result.and_then(|reply| encode_body(&reply).map_err(HandlerError::from));
    stats.record_latency(started.elapsed());
    match result {
        Ok(body) => {
            stats.succeeded.inc();
            reply_to.reply(body);
        }
        Err(e) => {
            stats.failed.inc();
            stats.count_error(e.code);
            reply_to.error(e.code, e.message);
        }
    }
}
