//! A route's endpoint: decodes the body into the route's type and hands it to a handler actor.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use actix::dev::SendError;
use actix::{Actor, Addr, Context, Handler};
use bytes::Bytes;
use hubwire_core::protocol::{ErrorCode, Headers};
use hubwire_core::{decode_body, Route};

use super::RouteStats;
use crate::handler::{Dispatch, InFlightPermit, ReplyTo};
use crate::transport::Peer;
use hubwire_core::stats::StatsRegistry;

/// A request as the connection hands it to an endpoint.
#[derive(Debug)]
pub struct Incoming {
    /// The request id.
    pub id: u64,
    /// Who sent it (for endpoints that check the admin allow-list).
    pub peer: Peer,
    /// The request's headers.
    pub headers: Headers,
    /// The undecoded body (a slice of the read buffer).
    pub body: Bytes,
    /// When the connection read it; the deadline counts from here.
    pub received: Instant,
    /// Where the reply goes.
    pub reply_to: ReplyTo,
}

/// Why an endpoint did not take a request; the connection answers with it at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The error code.
    pub code: ErrorCode,
    /// The message.
    pub message: String,
}

/// Something a route key leads to.
pub trait RouteEndpoint: Send + Sync + 'static {
    /// The route key.
    fn key(&self) -> &'static str;
    /// Takes a request, or refuses it at once.
    fn dispatch(&self, incoming: Incoming) -> Result<(), Refusal>;
    /// The route's counters.
    fn stats(&self) -> &Arc<RouteStats>;
}

/// Decodes a request into the dispatch message of route `R` (invalid-body when it does not fit).
pub(crate) fn decode_dispatch<R: Route>(
    incoming: Incoming,
    stats: &Arc<RouteStats>,
    permit: Option<InFlightPermit>,
) -> Result<Dispatch<R>, Refusal> {
    let request: R::Request = decode_body(&incoming.body).map_err(|e| {
        stats.invalid_body.inc();
        Refusal {
            code: ErrorCode::InvalidBody,
            message: format!("the body is not a valid {} request: {e}", R::KEY),
        }
    })?;
    Ok(Dispatch::<R> {
        request,
        deadline: incoming.headers.deadline().map(|d| incoming.received + d),
        reply_to: incoming.reply_to,
        span: tracing::info_span!("request", route = R::KEY, id = incoming.id),
        stats: stats.clone(),
        _permit: permit,
    })
}

/// The endpoint of route `R` served by actors of type `H` (one, or a pool balanced round-robin).
pub struct TypedEndpoint<R: Route, H: Actor> {
    handlers: Vec<Addr<H>>,
    next: AtomicUsize,
    stats: Arc<RouteStats>,
    _route: PhantomData<fn() -> R>,
}

impl<R: Route, H: Actor> std::fmt::Debug for TypedEndpoint<R, H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedEndpoint")
            .field("route", &R::KEY)
            .field("handlers", &self.handlers.len())
            .finish_non_exhaustive()
    }
}

impl<R: Route, H: Actor> TypedEndpoint<R, H> {
    /// An endpoint over `handlers` (at least one).
    pub fn new(handlers: Vec<Addr<H>>, registry: &StatsRegistry) -> Self {
        assert!(!handlers.is_empty(), "an endpoint needs a handler");
        TypedEndpoint {
            handlers,
            next: AtomicUsize::new(0),
            stats: Arc::new(RouteStats::new(registry, R::KEY)),
            _route: PhantomData,
        }
    }
}

impl<R, H> RouteEndpoint for TypedEndpoint<R, H>
where
    R: Route,
    H: Actor<Context = Context<H>> + Handler<Dispatch<R>>,
{
    fn key(&self) -> &'static str {
        R::KEY
    }

    fn dispatch(&self, incoming: Incoming) -> Result<(), Refusal> {
        let mut msg = decode_dispatch::<R>(incoming, &self.stats, None)?;
        // Try each handler once, starting with the next in turn, so one full mailbox in a pool
        // does not refuse work another member could take.
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let mut stopped = 0;
        for i in 0..self.handlers.len() {
            let handler = &self.handlers[(start + i) % self.handlers.len()];
            match handler.try_send(msg) {
                Ok(()) => {
                    self.stats.dispatched.inc();
                    return Ok(());
                }
                Err(SendError::Full(back)) => msg = back,
                Err(SendError::Closed(back)) => {
                    stopped += 1;
                    msg = back;
                }
            }
        }
        drop(msg);
        if stopped == self.handlers.len() {
            return Err(Refusal {
                code: ErrorCode::HandlerFailure,
                message: format!("the handler of {} has stopped", R::KEY),
            });
        }
        self.stats.busy.inc();
        Err(Refusal {
            code: ErrorCode::Busy,
            message: format!(
                "route {} has too many requests waiting; try again later",
                R::KEY
            ),
        })
    }

    fn stats(&self) -> &Arc<RouteStats> {
        &self.stats
    }
}
