//! An endpoint that answers with an async function, run as a task on the connection's own
//! thread: for answers that wait on another actor (the queue store), never on blocking work.

use std::future::Future;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use futures::FutureExt;
use hubwire_core::stats::StatsRegistry;
use hubwire_core::Route;

use super::endpoint::decode_dispatch;
use super::fn_endpoint::settle;
use super::{Incoming, Refusal, RouteEndpoint, RouteStats};
use crate::handler::{panicked, HandlerError};
use crate::transport::Peer;

/// What an [`AsyncFnEndpoint`]'s function returns: the future of its answer.
pub type AnswerFuture<R> =
    Pin<Box<dyn Future<Output = Result<<R as Route>::Reply, HandlerError>> + 'static>>;

/// The function of an [`AsyncFnEndpoint`]: the request and who sent it, to a future answer.
pub type AsyncEndpointFn<R> = dyn Fn(<R as Route>::Request, Peer) -> AnswerFuture<R> + Send + Sync;

/// Route `R` answered by an async function.
pub struct AsyncFnEndpoint<R: Route> {
    answer: Box<AsyncEndpointFn<R>>,
    stats: Arc<RouteStats>,
    _route: PhantomData<fn() -> R>,
}

impl<R: Route> std::fmt::Debug for AsyncFnEndpoint<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncFnEndpoint")
            .field("route", &R::KEY)
            .finish()
    }
}

impl<R: Route> AsyncFnEndpoint<R> {
    /// An endpoint of route `R` answered by the future `answer` makes, with its figures in
    /// `registry`.
    pub fn new<F>(
        registry: &StatsRegistry,
        answer: impl Fn(R::Request, Peer) -> F + Send + Sync + 'static,
    ) -> Arc<Self>
    where
        F: Future<Output = Result<R::Reply, HandlerError>> + 'static,
    {
        Arc::new(AsyncFnEndpoint {
            answer: Box::new(move |request, peer| Box::pin(answer(request, peer))),
            stats: Arc::new(RouteStats::new(registry, R::KEY)),
            _route: PhantomData,
        })
    }
}

impl<R: Route> RouteEndpoint for AsyncFnEndpoint<R> {
    fn key(&self) -> &'static str {
        R::KEY
    }

    fn dispatch(&self, incoming: Incoming) -> Result<(), Refusal> {
        let peer = incoming.peer.clone();
        let dispatch = decode_dispatch::<R>(incoming, &self.stats, None)?;
        self.stats.dispatched.inc();
        let started = Instant::now();
        let answer = {
            let _entered = dispatch.span.enter();
            catch_unwind(AssertUnwindSafe(|| (self.answer)(dispatch.request, peer)))
        };
        let (reply_to, stats, span) = (dispatch.reply_to, self.stats.clone(), dispatch.span);
        let answer = match answer {
            Ok(answer) => answer,
            Err(panic) => {
                panicked::<R>(reply_to, &stats, &*panic);
                return Ok(());
            }
        };
        actix::spawn(async move {
            let answer = AssertUnwindSafe(tracing::Instrument::instrument(answer, span));
            match answer.catch_unwind().await {
                Ok(result) => settle::<R>(result, reply_to, &stats, started),
                Err(panic) => panicked::<R>(reply_to, &stats, &*panic),
            }
        });
        Ok(())
    }

    fn stats(&self) -> &Arc<RouteStats> {
        &self.stats
    }
}
