//! The message that carries a request to a handler actor, and the way its reply goes back.
//!
//! On a stream connection the reply goes straight into the connection's outbound buffer (its
//! [`ReplyQueue`], which also checks that the reply is still wanted), encoded in place: no
//! message to the connection actor, no allocation. Over UDP it goes to the endpoint actor as
//! an [`Outcome`].

use std::any::Any;
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

use actix::{ActorFutureExt, AsyncContext, Context, Message, Recipient, SyncContext, WrapFuture};
use bytes::{BufMut, Bytes, BytesMut};
use futures::FutureExt;
use hubwire_core::protocol::{Envelope, ErrorCode, ErrorFrame, Headers, ProtocolError, Response};
use hubwire_core::stream::ReplyQueue;
use hubwire_core::{BodyError, Route};
use serde::Serialize;

use super::{HandlerError, IntoReply, Reply, Serve, ServeBlocking};
use crate::routing::RouteStats;

/// A decoded request on its way to the handler of route `R`. It carries its own reply channel and
/// tracing span, so the handler needs nothing else to answer.
pub struct Dispatch<R: Route> {
    pub(crate) request: R::Request,
    pub(crate) deadline: Option<Instant>,
    pub(crate) reply_to: ReplyTo,
    pub(crate) span: tracing::Span,
    pub(crate) stats: Arc<RouteStats>,
    /// Held while the request is in flight where hubwire counts that itself (blocking routes).
    pub(crate) _permit: Option<InFlightPermit>,
}

/// One place in a bounded route's in-flight count, given back when dropped (whether the request
/// was answered or its message was lost with a worker).
#[derive(Debug)]
pub struct InFlightPermit(Arc<std::sync::atomic::AtomicUsize>);

impl InFlightPermit {
    /// Takes a place if fewer than `limit` are taken.
    pub fn try_take(count: &Arc<std::sync::atomic::AtomicUsize>, limit: usize) -> Option<Self> {
        use std::sync::atomic::Ordering;
        count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            })
            .ok()
            .map(|_| InFlightPermit(count.clone()))
    }
}

impl Drop for InFlightPermit {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

impl<R: Route> Message for Dispatch<R> {
    type Result = ();
}

impl<R: Route> std::fmt::Debug for Dispatch<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatch")
            .field("route", &R::KEY)
            .field("id", &self.reply_to.id)
            .finish_non_exhaustive()
    }
}

/// A finished request: the encoded RESPONSE or ERROR frame for the connection to write.
#[derive(Debug)]
pub struct Outcome {
    /// The transport's token for the request answered (the request id on a stream connection;
    /// a per-listener sequence over UDP, where peers may reuse ids).
    pub token: u64,
    /// The whole frame, ready to write.
    pub frame: Bytes,
}

impl Message for Outcome {
    type Result = ();
}

/// Where a request's reply goes: the connection it came from.
#[derive(Debug)]
pub struct ReplyTo {
    id: u64,
    path: ReplyPath,
}

#[derive(Debug)]
enum ReplyPath {
    /// Straight into a stream connection's outbound buffer.
    Queue(Arc<ReplyQueue>),
    /// To the transport's actor, which knows the request by `token`.
    Actor {
        token: u64,
        connection: Recipient<Outcome>,
    },
}

thread_local! {
    /// The id of the request whose `serve` runs on this thread, if one does.
    static SERVING: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(None) };
}

/// The id of the request being served, read from inside a handler's `serve`: the client's
/// request id, or for a queued route the stored item's id (the `id` its client was answered),
/// the same on every attempt, so a handler can be idempotent by it. `None` outside `serve`
/// (copy it into a [`Reply::later`] future that needs it).
pub fn request_id() -> Option<u64> {
    SERVING.with(|cell| cell.get())
}

/// Runs `serve` with [`request_id`] answering `id`, and restores the outer value after (a
/// handler may serve another request from inside its own, through a local call).
fn serving<T>(id: u64, serve: impl FnOnce() -> T) -> T {
    struct Restore(Option<u64>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SERVING.with(|cell| cell.set(self.0));
        }
    }
    let _restore = Restore(SERVING.with(|cell| cell.replace(Some(id))));
    serve()
}

/// A reply buffer larger than this is not kept for the next reply.
const KEEP_SCRATCH_BYTES: usize = 64 * 1024;

thread_local! {
    /// Where reply frames are encoded before they are copied into their connection's buffer
    /// (so no user code runs under its lock): one per thread, reused.
    static SCRATCH: RefCell<BytesMut> = RefCell::new(BytesMut::new());
}

/// Runs `encode` on this thread's empty scratch buffer.
fn with_scratch<T>(encode: impl FnOnce(&mut BytesMut) -> T) -> T {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            let result = encode(&mut buf);
            if buf.capacity() > KEEP_SCRATCH_BYTES {
                *buf = BytesMut::new();
            }
            result
        }
        // A reply encoded while another is (from inside a value's `Serialize`): its own buffer.
        Err(_) => encode(&mut BytesMut::new()),
    })
}

/// Why a reply value did not make a frame.
enum EncodeFailure {
    Body(rmp_serde::encode::Error),
    Frame(ProtocolError),
}

impl From<ProtocolError> for EncodeFailure {
    fn from(e: ProtocolError) -> Self {
        EncodeFailure::Frame(e)
    }
}

impl From<EncodeFailure> for HandlerError {
    fn from(failure: EncodeFailure) -> Self {
        match failure {
            EncodeFailure::Body(e) => HandlerError::from(BodyError::Encode(e)),
            EncodeFailure::Frame(e) => HandlerError::new(format!("reply not encodable: {e}")),
        }
    }
}

impl ReplyTo {
    /// A reply channel for request `id` of `connection`.
    pub fn new(id: u64, connection: Recipient<Outcome>) -> Self {
        ReplyTo::with_token(id, id, connection)
    }

    /// A reply channel for request `id` that the transport knows by `token`.
    pub fn with_token(id: u64, token: u64, connection: Recipient<Outcome>) -> Self {
        ReplyTo {
            id,
            path: ReplyPath::Actor { token, connection },
        }
    }

    /// A reply channel for request `id` that queues the reply straight into a stream
    /// connection's outbound buffer.
    pub fn queued(id: u64, queue: Arc<ReplyQueue>) -> Self {
        ReplyTo {
            id,
            path: ReplyPath::Queue(queue),
        }
    }

    /// The request's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Answers with a successful body.
    pub fn reply(self, body: Bytes) {
        let id = self.id;
        let written = with_scratch(|buf| {
            let response = Response {
                id,
                headers: Headers::new(),
                body,
            };
            match response.write_frame(buf) {
                Ok(()) => {
                    self.deliver(buf);
                    Ok(())
                }
                Err(e) => Err((self, e)),
            }
        });
        if let Err((reply_to, e)) = written {
            reply_to.error(
                ErrorCode::HandlerFailure,
                format!("reply not encodable: {e}"),
            );
        }
    }

    /// Answers with `value` as the body, encoded straight into the RESPONSE frame (as
    /// [`encode_body`](hubwire_core::encode_body) would encode it). A value that cannot be
    /// encoded hands the channel back with the error.
    /// `encoded` runs once the value is encoded, before the reply can reach the peer.
    fn reply_value<T: Serialize + ?Sized>(
        self,
        value: &T,
        encoded: impl FnOnce(),
    ) -> Result<(), (ReplyTo, HandlerError)> {
        let id = self.id;
        with_scratch(|buf| {
            let written = Response::write_frame_with(buf, id, &Headers::new(), |out| {
                rmp_serde::encode::write_named(&mut out.writer(), value)
                    .map_err(EncodeFailure::Body)
            });
            match written {
                Ok(()) => {
                    encoded();
                    self.deliver(buf);
                    Ok(())
                }
                Err(failure) => Err((self, HandlerError::from(failure))),
            }
        })
    }

    /// Answers with an error.
    pub fn error(self, code: ErrorCode, message: impl Into<String>) {
        let frame = ErrorFrame::for_request(self.id, code, message);
        with_scratch(|buf| {
            frame
                .write_frame(buf)
                .expect("an ERROR frame always encodes");
            self.deliver(buf);
        });
    }

    fn deliver(self, frame: &[u8]) {
        match self.path {
            // The queue drops the reply if it is no longer wanted (cancelled, connection gone).
            ReplyPath::Queue(queue) => {
                queue.answer(self.id, frame);
            }
            // The number of outcomes is bounded by the transport's in-flight cap, so this
            // cannot grow without bound; a transport that is gone no longer wants the reply.
            ReplyPath::Actor { token, connection } => connection.do_send(Outcome {
                token,
                frame: Bytes::copy_from_slice(frame),
            }),
        }
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a non-string panic payload")
}

fn finish<R: Route>(
    reply_to: ReplyTo,
    result: Result<R::Reply, HandlerError>,
    stats: &RouteStats,
    started: Instant,
) {
    stats.record_latency(started.elapsed());
    // Counted before the reply is sent, so that a caller who has the reply sees it counted.
    let failed = match result {
        Ok(value) => reply_to.reply_value(&value, || stats.succeeded.inc()).err(),
        Err(e) => Some((reply_to, e)),
    };
    match failed {
        None => {}
        Some((reply_to, e)) => {
            stats.failed.inc();
            stats.count_error(e.code);
            tracing::debug!(route = R::KEY, error = %e, "handler answered with an error");
            reply_to.error(e.code, e.message);
        }
    }
}

/// Answers a request whose handler panicked with handler-failure, and counts and logs the panic.
pub(crate) fn panicked<R: Route>(reply_to: ReplyTo, stats: &RouteStats, panic: &(dyn Any + Send)) {
    stats.panicked.inc();
    stats.count_error(ErrorCode::HandlerFailure);
    let message = panic_message(panic);
    tracing::error!(
        route = R::KEY,
        panic = message,
        "handler panicked; the route keeps serving"
    );
    reply_to.error(
        ErrorCode::HandlerFailure,
        format!("the handler of {} panicked: {message}", R::KEY),
    );
}

/// The reply channel, if the deadline has not passed by `now`; otherwise the request is
/// answered timeout.
fn unexpired<R: Route>(
    reply_to: ReplyTo,
    deadline: Option<Instant>,
    stats: &RouteStats,
    now: Instant,
) -> Option<ReplyTo> {
    if deadline.is_some_and(|d| now >= d) {
        stats.timed_out.inc();
        stats.count_error(ErrorCode::Timeout);
        reply_to.error(
            ErrorCode::Timeout,
            format!(
                "the deadline of this {} request passed before it was processed",
                R::KEY
            ),
        );
        return None;
    }
    Some(reply_to)
}

/// Runs one request through a blocking actor's [`ServeBlocking`] implementation on its worker
/// thread: deadline, panics and reply as for [`run_dispatch`]. A worker whose handler panicked
/// is replaced by a fresh instance from the factory (its state may be broken).
pub fn run_blocking_dispatch<R: Route, A: ServeBlocking<R>>(
    actor: &mut A,
    msg: Dispatch<R>,
    ctx: &mut SyncContext<A>,
) {
    let Dispatch {
        request,
        deadline,
        reply_to,
        span,
        stats,
        _permit,
    } = msg;
    let _entered = span.enter();
    // One clock read serves the deadline check and the latency figure.
    let started = Instant::now();
    let Some(reply_to) = unexpired::<R>(reply_to, deadline, &stats, started) else {
        return;
    };
    let id = reply_to.id();
    match catch_unwind(AssertUnwindSafe(|| {
        serving(id, || actor.serve(request, ctx))
    })) {
        Ok(result) => finish::<R>(reply_to, result, &stats, started),
        Err(panic) => {
            panicked::<R>(reply_to, &stats, &*panic);
            actix::ActorContext::stop(ctx);
        }
    }
}

/// Runs one request through an actor's [`Serve`] implementation: checks the deadline, catches
/// panics (in the call and in a [`Reply::Later`] future), and sends the reply. Called by the
/// code [`serve!`](crate::serve!) writes.
pub fn run_dispatch<R, A, Answer>(actor: &mut A, msg: Dispatch<R>, ctx: &mut Context<A>)
where
    R: Route,
    A: Serve<R, Answer>,
    Answer: IntoReply<R::Reply>,
{
    let Dispatch {
        request,
        deadline,
        reply_to,
        span,
        stats,
        _permit,
    } = msg;
    let _entered = span.enter();
    // One clock read serves the deadline check and the latency figure.
    let started = Instant::now();
    let Some(reply_to) = unexpired::<R>(reply_to, deadline, &stats, started) else {
        return;
    };
    let id = reply_to.id();
    match catch_unwind(AssertUnwindSafe(|| {
        serving(id, || actor.serve(request, ctx).into_reply())
    })) {
        Ok(Reply::Done(result)) => finish::<R>(reply_to, result, &stats, started),
        Ok(Reply::Later(future)) => {
            let span = span.clone();
            let work = AssertUnwindSafe(future).catch_unwind().into_actor(actor);
            ctx.spawn(work.map(move |result, _, _| {
                let _entered = span.enter();
                match result {
                    Ok(result) => finish::<R>(reply_to, result, &stats, started),
                    Err(panic) => panicked::<R>(reply_to, &stats, &*panic),
                }
            }));
        }
        Err(panic) => panicked::<R>(reply_to, &stats, &*panic),
    }
}
