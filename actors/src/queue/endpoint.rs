//! [`QueuedEndpoint`]: accepts a request by storing it, and acknowledges it with its id only
//! after the store committed it.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use hubwire_core::protocol::ErrorCode;
use hubwire_core::store::{Op, OpOutcome};
use hubwire_core::{decode_body, encode_body, Route};

use super::store_actor::{PauseMirror, StoreHandle};
use super::{QueueError, Queued};
use crate::handler::{InFlightPermit, ReplyTo};
use crate::routing::{Incoming, Refusal, RouteEndpoint, RouteStats};

/// The endpoint of a queued route `R`: decode (to refuse a bad body at once), check the pause,
/// store, then answer `Queued { id }`.
pub struct QueuedEndpoint<R: Route> {
    pub(crate) store: StoreHandle,
    /// Published by the store actor after each pause change, so a paused route refuses without
    /// a round trip to the store thread.
    pub(crate) pause: Arc<PauseMirror>,
    pub(crate) max_pending: usize,
    /// Enqueues sent to the store and not yet answered: the store's channel is unbounded, so
    /// this is the bound that keeps a flood from piling up in it.
    pub(crate) in_flight: Arc<AtomicUsize>,
    pub(crate) max_in_flight: usize,
    pub(crate) stats: Arc<RouteStats>,
    /// Tells the route's workers (their current incarnation) that there is something to take;
    /// called after each commit.
    pub(crate) wake: Arc<dyn Fn() + Send + Sync>,
    /// Set while a wake-up is on its way (the workers clear it when they get it), so a burst
    /// of enqueues sends one, not one each.
    pub(crate) wake_sent: Arc<AtomicBool>,
    pub(crate) _route: PhantomData<fn() -> R>,
}

impl<R: Route> std::fmt::Debug for QueuedEndpoint<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueuedEndpoint")
            .field("route", &R::KEY)
            .field("max_pending", &self.max_pending)
            .finish_non_exhaustive()
    }
}

/// Milliseconds since the Unix epoch: what the store records.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

impl<R: Route> RouteEndpoint for QueuedEndpoint<R> {
    fn key(&self) -> &'static str {
        R::KEY
    }

    fn dispatch(&self, incoming: Incoming) -> Result<(), Refusal> {
        if let Err(e) = decode_body::<R::Request>(&incoming.body) {
            self.stats.invalid_body.inc();
            return Err(Refusal {
                code: ErrorCode::InvalidBody,
                message: format!("the body is not a valid {} request: {e}", R::KEY),
            });
        }
        if self.pause.get().receiving_paused {
            self.stats.count_error(ErrorCode::Paused);
            return Err(Refusal {
                code: ErrorCode::Paused,
                message: format!(
                    "route {} is paused: it accepts no new requests until an operator unpauses \
                     receiving",
                    R::KEY
                ),
            });
        }
        let Some(permit) = InFlightPermit::try_take(&self.in_flight, self.max_in_flight) else {
            self.stats.busy.inc();
            return Err(Refusal {
                code: ErrorCode::Busy,
                message: format!(
                    "route {} has too many requests being stored; try again later",
                    R::KEY
                ),
            });
        };
        let op = Op::Enqueue {
            queue: R::KEY.to_owned(),
            route: R::KEY.to_owned(),
            headers: incoming
                .headers
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            idempotency_key: incoming.headers.idempotency_key().map(str::to_owned),
            body: incoming.body,
            now_ms: now_ms(),
            max_pending: self.max_pending,
            group: None,
        };
        let (reply_to, stats) = (incoming.reply_to, self.stats.clone());
        let (wake, wake_sent) = (self.wake.clone(), self.wake_sent.clone());
        let max_pending = self.max_pending;
        // Runs on the store thread right after the commit: encode a tiny reply and hand it on.
        self.store.submit_with(
            vec![op],
            Box::new(move |result| {
                drop(permit);
                acknowledge::<R>(reply_to, &stats, max_pending, result);
                if !wake_sent.swap(true, Ordering::AcqRel) {
                    wake();
                }
            }),
        );
        Ok(())
    }

    fn stats(&self) -> &Arc<RouteStats> {
        &self.stats
    }
}

/// Answers the client once its request is stored (or could not be).
fn acknowledge<R: Route>(
    reply_to: ReplyTo,
    stats: &RouteStats,
    max_pending: usize,
    result: Result<Vec<OpOutcome>, QueueError>,
) {
    let id = match result.as_deref() {
        Ok([OpOutcome::Enqueued(id)]) | Ok([OpOutcome::Duplicate(id)]) => id.0,
        Ok([OpOutcome::Full]) => {
            stats.busy.inc();
            return reply_to.error(
                ErrorCode::Busy,
                format!(
                    "the queue of {} is full ({max_pending} requests pending); try again later",
                    R::KEY
                ),
            );
        }
        Ok(_) => {
            let e = QueueError::Unexpected { what: "an enqueue" };
            return reply_to.error(ErrorCode::Unhandled, e.to_string());
        }
        Err(e) => {
            let code = match e {
                QueueError::Stopped => ErrorCode::ShuttingDown,
                _ => ErrorCode::Unhandled,
            };
            stats.count_error(code);
            return reply_to.error(
                code,
                format!("the request to {} was not stored: {e}", R::KEY),
            );
        }
    };
    match encode_body(&Queued { id }) {
        Ok(body) => reply_to.reply(body),
        Err(e) => reply_to.error(ErrorCode::Unhandled, e.to_string()),
    }
}
