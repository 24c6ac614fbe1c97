//! The connection actor: decodes every whole frame of a read, dispatches requests, and owns the
//! connection's outbound buffer (a [`ReplyQueue`]), which a writer task empties in one write per
//! pass.
//!
//! ```text
//! socket ─read─▶ FrameBatches ─batch─▶ Connection ─Dispatch─▶ handler actor
//!                                          │                       │
//! socket ◀─write─ writer task ◀── ReplyQueue ◀─────── reply ───────┘
//! ```
//!
//! A handler's reply goes straight into the queue (no message to the connection on the way):
//! the queue's ledger, which the connection fills as it dispatches, says whether the reply is
//! still wanted (not cancelled, not answered at shutdown) and tells the connection, when it
//! waits for it, that the last reply is queued.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::{
    Actor, ActorContext, ActorFutureExt, ArbiterHandle, AsyncContext, Context, Handler, Message,
    Recipient, StreamHandler, WrapFuture,
};
use hubwire_core::auth::{AuthFailure, Credentials, User};
use hubwire_core::compression::{CompressingWriter, CompressionError, DecompressingReader, Switch};
use hubwire_core::protocol::{
    kind, peek_request_id, Envelope, ErrorCode, ErrorFrame, Frame, ProtocolError, Publish, Request,
};
use hubwire_core::session::{
    abandoned_request, BridgeEnd, Close, HubSide, InFlightScope, KeepaliveLimits, RequestRefusal,
    ServerSession, Serves, SessionLimits, Step, Wind,
};
use hubwire_core::stream::{
    hold_wakes, FrameBatch, FrameBatches, ReadGate, ReadPause, Refused, ReplyQueue, StallWatch,
};
use hubwire_core::websocket::WebSocketViolation;

use super::listener::ConnectionClosed;
use super::listener::OpenStream;
use super::{ConnectionLimits, ConnectionShared, Peer, Phase, TransportStats};
use crate::bridge::LinkSide;
use crate::handler::ReplyTo;
use crate::hub::ConnId;

/// What the connection owes its peer, and cut-offs.
#[path = "backlog.rs"]
mod backlog;
use backlog::{GaugeHeld, CUT_OFF_GRACE};
/// The bridge frames of a connection on a hub.
#[path = "bridge.rs"]
mod bridge;
/// The pub/sub frames of a connection on a hub.
#[path = "pubsub.rs"]
mod pubsub;
use crate::routing::{count_error, Incoming};

/// One peer's stream connection.
pub struct Connection {
    peer: Peer,
    on_close: Recipient<ConnectionClosed>,
    stats: TransportStats,
    shared: Arc<ConnectionShared>,
    /// Everything written to the peer, and the requests it is owed replies for. Shared with the
    /// reply channels of those requests, which queue their replies into it themselves.
    replies: Arc<ReplyQueue>,
    /// Closing or closed: nothing more is read or written.
    closed: bool,
    /// The protocol: handshake, which kinds are served, the handshake and idle timers, and
    /// the server's phases.
    session: ServerSession,
    /// Replies settled as of the last timeout check; a change means the connection was busy.
    answered_seen: u64,
    /// The task that tells this actor when the server's phase changes.
    phase_watch: Option<tokio::task::JoinHandle<()>>,
    /// The task that has this actor check its timeouts.
    ticker: Option<tokio::task::JoinHandle<()>>,
    /// Pub/sub: this connection's id at the hub, from its first pub/sub frame.
    hub_conn: Option<ConnId>,
    /// Pub/sub: the batch of subscription changes, the PING barrier and the keepalive.
    pubsub: HubSide,
    /// Pub/sub: reading waits while too many subscription changes wait for the table.
    table_pause: Arc<ReadPause>,
    /// Pub/sub: the PUBLISHes of this read not yet routed, routed together (in runs) before
    /// any other frame takes effect and at the end of the read.
    publishes: Vec<Publish>,
    /// Set when a peer hub bridges over this connection.
    bridge: BridgeEnd<Box<LinkSide>>,
    /// The task that writes the outbound buffer to the socket; aborted if it cannot finish
    /// within a bounded time after the connection closes (a peer that never reads).
    writer: Option<tokio::task::JoinHandle<()>>,
    /// How long this connection has owed its peer more than the bound.
    stall: StallWatch,
    /// The user the peer authenticated as, whose permissions every request is checked
    /// against; `None` on a server without users (or before the peer authenticated).
    user: Option<Arc<User>>,
    /// Where the peer's bytes and ours turn compressed, once a COMPRESS has chosen an
    /// algorithm (set before the answer is queued, so the writer cannot pass the point first).
    switches: Option<(Switch, Switch)>,
}

/// Time to check the handshake and idle timeouts (from the connection's ticker).
struct CheckTimeouts;

impl Message for CheckTimeouts {
    type Result = ();
}

/// The server's phase changed (from the connection's phase watcher).
struct PhaseChanged(Phase);

impl Message for PhaseChanged {
    type Result = ();
}

/// From the reply queue: the last request in flight has been answered (sent only when the
/// connection asked, draining or after the peer half-closed).
struct AllAnswered;

impl Message for AllAnswered {
    type Result = ();
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let in_flight = self.replies.outbound().lock().state().in_flight();
        f.debug_struct("Connection")
            .field("peer", &self.peer)
            .field("in_flight", &in_flight)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Starts a connection actor on `thread` over the stream that `open` produces there.
    /// `compressible`: a byte stream, which compression may be agreed on (not WebSocket, whose
    /// messages carry one frame each).
    pub(crate) fn start_on(
        thread: &ArbiterHandle,
        peer: Peer,
        shared: Arc<ConnectionShared>,
        open: OpenStream,
        on_close: Recipient<ConnectionClosed>,
        stats: TransportStats,
        compressible: bool,
    ) {
        Connection::start_in_arbiter(thread, move |ctx| {
            stats.open.inc();
            let me = ctx.address().downgrade();
            let limit = shared.limits.max_outbound_bytes;
            let replies = Arc::new(ReplyQueue::with_limit(limit, move || {
                if let Some(me) = me.upgrade() {
                    me.do_send(AllAnswered);
                }
            }));
            let session = ServerSession::new(
                shared.agent.clone(),
                SessionLimits {
                    max_frame: shared.limits.max_frame,
                    max_in_flight: shared.limits.max_in_flight,
                    handshake_timeout: shared.limits.handshake_timeout,
                    idle_timeout: shared.limits.idle_timeout,
                },
                Serves {
                    hub: shared.hub.is_some(),
                },
                Instant::now(),
            );
            let keepalive = KeepaliveLimits {
                ping_interval: shared.limits.hub_ping_interval,
                max_pings_out: shared.limits.hub_max_pings_out,
            };
            let compress = compressible && !shared.limits.compression.is_empty();
            let mut session = session;
            if compress {
                session.allow_compression(shared.limits.compression.clone());
            }
            let mut connection = Connection {
                peer,
                on_close,
                stats,
                shared,
                replies,
                closed: false,
                session,
                answered_seen: 0,
                phase_watch: None,
                ticker: None,
                hub_conn: None,
                pubsub: HubSide::new(keepalive),
                table_pause: Arc::default(),
                publishes: Vec::new(),
                bridge: BridgeEnd::default(),
                writer: None,
                stall: StallWatch::default(),
                user: None,
                switches: compress.then(|| (Switch::new(), Switch::new())),
            };
            connection.settle_identity();
            match open() {
                Ok((rd, wr)) => {
                    let max_frame = connection.shared.limits.max_frame;
                    let gate: Arc<dyn ReadGate> = Arc::new([
                        connection.replies.clone() as Arc<dyn ReadGate>,
                        connection.table_pause.clone(),
                    ]);
                    match connection.switches.clone() {
                        // Only where compression may be agreed: the others pay nothing for it.
                        Some((read, write)) => {
                            connection.start_writer(CompressingWriter::new(wr, write));
                            let rd = DecompressingReader::new(rd, read);
                            ctx.add_stream(FrameBatches::new(rd, max_frame).gated(gate));
                        }
                        None => {
                            connection.start_writer(wr);
                            ctx.add_stream(FrameBatches::new(rd, max_frame).gated(gate));
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(peer = %connection.peer, error = %e, "cannot open accepted stream");
                    connection.closed = true;
                    ctx.stop();
                }
            }
            connection
        });
    }

    /// Spawns the task that writes the outbound buffer to `wr`.
    fn start_writer<W>(&mut self, wr: W)
    where
        W: tokio::io::AsyncWrite + Send + Unpin + 'static,
    {
        let replies = self.replies.clone();
        let peer = self.peer.to_string();
        let alive = GaugeHeld::new(self.stats.writers.clone());
        self.writer = Some(actix::spawn(async move {
            let _alive = alive;
            if let Err(e) = replies.outbound().write_to(wr).await {
                tracing::debug!(%peer, error = %e, "write side failed");
            }
        }));
    }

    fn write_envelope(&self, envelope: &impl Envelope) {
        if let Err(e) = self.replies.outbound().lock().push_envelope(envelope) {
            tracing::error!(peer = %self.peer, error = %e, "cannot encode a frame");
        }
    }

    /// Writes a control frame ahead of queued bulk data (PONG, so keepalive works however
    /// much a subscriber has to read).
    fn write_urgent(&self, envelope: &impl Envelope) {
        if let Err(e) = self
            .replies
            .outbound()
            .lock()
            .push_envelope_urgent(envelope)
        {
            tracing::error!(peer = %self.peer, error = %e, "cannot encode a frame");
        }
    }

    fn send_error(&self, id: Option<u64>, code: ErrorCode, message: impl Into<String>) {
        if id.is_some() {
            count_error(&self.shared.registry, code);
        }
        self.write_envelope(&ErrorFrame {
            id,
            code,
            message: message.into(),
        });
    }

    /// Closes after an error about the connection itself (sent first, where there is one).
    fn fail(&mut self, ctx: &mut Context<Self>, code: ErrorCode, message: String) {
        tracing::info!(peer = %self.peer, %code, %message, "closing connection");
        self.send_error(None, code, message);
        self.close(ctx);
    }

    fn close(&mut self, ctx: &mut Context<Self>) {
        self.session.closed();
        // The writer writes what is queued, then shuts the socket down; replies that come later
        // are dropped. A peer that does not read it all within the stall timeout is cut.
        self.closed = true;
        self.replies.outbound().lock().close();
        self.abort_writer_after(self.shared.limits.outbound_stall_timeout);
        ctx.stop();
    }

    fn on_frame(&mut self, frame: Frame, received: Instant, ctx: &mut Context<Self>) {
        if frame.kind != kind::PUBLISH {
            // Whatever this frame does comes after the publishes sent before it.
            self.route_publishes();
        }
        if self.bridge.is_engaged() {
            // A peer hub's bridge: its frames are the link's, whatever their kind.
            return self.on_bridge_frame(frame, ctx);
        }
        match self.session.on_frame(frame, received) {
            Step::Nothing => {}
            Step::Welcome {
                answer,
                peer_max_frame,
            } => {
                tracing::debug!(peer = %self.peer, "connected");
                self.replies.set_peer_max_frame(peer_max_frame);
                self.replies.outbound().lock().push(&answer);
            }
            Step::Send(frame) => {
                self.replies.outbound().lock().push(&frame);
            }
            Step::Refuse(error) => self.send_error(error.id, error.code, error.message),
            Step::Request(frame) => self.on_request(frame, received),
            Step::Cancel(id) => self.replies.outbound().lock().state().cancel(id),
            // A PONG is a barrier: it waits for the subscription changes before it.
            Step::Ping(nonce) => self.on_ping(nonce, ctx),
            Step::PubSub(frame) => self.on_pubsub(frame, ctx),
            Step::Bridge(frame) => self.on_bridge_frame(frame, ctx),
            Step::Authenticate(credentials) => self.authenticate(credentials, ctx),
            Step::Compress { answer, switch } => {
                if let (Some(switch), Some((read, write))) = (switch, &self.switches) {
                    tracing::debug!(peer = %self.peer, algorithm = %switch.algorithm, "compressed");
                    let algorithm = [("algorithm", switch.algorithm.name())];
                    self.shared
                        .registry
                        .counter("connections.compressed", &algorithm)
                        .inc();
                    read.set(switch.read_from, switch.algorithm);
                    write.set(switch.write_from, switch.algorithm);
                }
                self.replies.outbound().lock().push(&answer);
            }
            Step::Close(close) => self.close_as(close, ctx),
        }
    }

    /// On a server with users: a peer whose TLS certificate names a user (`tls_identity`) is
    /// that user from the start; any other must send AUTH.
    fn settle_identity(&mut self) {
        let Some(auth) = &self.shared.auth else {
            return;
        };
        match self
            .peer
            .identity()
            .and_then(|id| auth.users.by_tls_identity(id))
        {
            Some(user) => self.become_user(user),
            None => self.session.require_auth(),
        }
    }

    fn become_user(&mut self, user: Arc<User>) {
        tracing::debug!(peer = %self.peer, user = user.name(), "authenticated");
        self.pubsub.set_user(user.clone());
        self.user = Some(user);
    }

    /// An AUTH: checked by the gate (off this thread, after the address's delay); on a server
    /// without users it is accepted as it is.
    fn authenticate(&mut self, credentials: Credentials, ctx: &mut Context<Self>) {
        let Some(auth) = &self.shared.auth else {
            let step = self.session.on_authenticated(Ok(""));
            return self.after_auth(step, ctx);
        };
        let (reply, answer) = tokio::sync::oneshot::channel();
        let check = crate::auth::Check {
            ip: self.peer.ip(),
            credentials,
            reply,
        };
        if auth.gate.try_send(check).is_err() {
            let message = "the server cannot check credentials now; try again later".to_owned();
            return self.fail(ctx, ErrorCode::Busy, message);
        }
        ctx.spawn(answer.into_actor(self).map(|answer, this, ctx| {
            if this.closed {
                return;
            }
            let answer = answer.unwrap_or(Err(AuthFailure::Missing));
            let step = match &answer {
                Ok(user) => this.session.on_authenticated(Ok(user.name())),
                Err(failure) => {
                    tracing::info!(peer = %this.peer, %failure, "authentication failed");
                    this.session.on_authenticated(Err(failure))
                }
            };
            if let Ok(user) = answer {
                this.become_user(user);
            }
            this.after_auth(step, ctx);
        }));
    }

    fn after_auth(&mut self, step: Step, ctx: &mut Context<Self>) {
        match step {
            Step::Send(frame) => {
                self.replies.outbound().lock().push(&frame);
            }
            Step::Close(close) => self.close_as(close, ctx),
            _ => {}
        }
    }

    /// Carries out the session's close: its last frame, then the close.
    fn close_as(&mut self, close: Close, ctx: &mut Context<Self>) {
        tracing::debug!(peer = %self.peer, reason = %close.reason, "closing connection");
        if let Some(last) = close.last {
            self.replies.outbound().lock().push(&last);
        }
        self.close(ctx);
    }

    fn on_request(&mut self, frame: Frame, received: Instant) {
        // Read in place: the route is only looked up, never copied.
        let request = match Request::view(&frame.payload) {
            Ok(request) => request,
            Err(e) => {
                return self.send_error(peek_request_id(&frame.payload), e.code(), e.to_string())
            }
        };
        let id = request.id;
        if let Some(user) = &self.user {
            if let Err(denied) = user.permissions().check_call(request.route, &request.body) {
                tracing::info!(peer = %self.peer, user = user.name(), %denied, "denied");
                return self.send_error(Some(id), ErrorCode::Denied, denied.message(user.name()));
            }
        }
        let limit = self.shared.limits.max_in_flight;
        // Counted in flight before the handler can see it, so that its reply finds it there.
        let admitted = self.replies.outbound().lock().state().admit(id, limit);
        match admitted {
            Ok(()) => {}
            Err(Refused::Duplicate) => return self.refuse_request(id, RequestRefusal::Duplicate),
            Err(Refused::Busy) => {
                let scope = InFlightScope::Connection;
                return self.refuse_request(id, RequestRefusal::Busy { limit, scope });
            }
        }
        let Some(endpoint) = self.shared.routes.get(request.route) else {
            self.replies.outbound().lock().state().withdraw(id);
            return self.refuse_request(id, RequestRefusal::UnknownRoute(request.route));
        };
        let incoming = Incoming {
            id,
            peer: self.peer.clone(),
            headers: request.headers,
            body: request.body,
            received,
            reply_to: ReplyTo::queued(id, self.replies.clone()),
        };
        if let Err(refusal) = endpoint.dispatch(incoming) {
            self.replies.outbound().lock().state().withdraw(id);
            self.send_error(Some(id), refusal.code, refusal.message);
        }
    }

    fn refuse_request(&self, id: u64, refusal: RequestRefusal<'_>) {
        self.send_error(Some(id), refusal.code(), refusal.message(id));
    }

    /// Carries out the session's decision about the end of the connection.
    fn wind(&mut self, wind: Wind, ctx: &mut Context<Self>) {
        match wind {
            Wind::Stay => {}
            Wind::Close(close) => self.close_as(close, ctx),
            Wind::AbandonAndClose(close) => {
                let mut queue = self.replies.outbound().lock();
                // Taken from the ledger, so replies that come after these errors are dropped.
                for id in queue.state().take_unanswered() {
                    count_error(&self.shared.registry, ErrorCode::ShuttingDown);
                    let _ = queue.push_envelope(&abandoned_request(id));
                }
                drop(queue);
                self.close_as(close, ctx);
            }
        }
    }

    /// Drains (no new requests; close once nothing is in flight) or closes (answering what is
    /// still in flight with shutting-down).
    fn enter_phase(&mut self, phase: Phase, ctx: &mut Context<Self>) {
        let wind = self.session.on_phase(phase, || watch_idle(&self.replies));
        self.wind(wind, ctx);
    }

    fn check_timeouts(&mut self, ctx: &mut Context<Self>) {
        if !self.replies.outbound().is_open() {
            // Cut off by the hub (a slow consumer) or a bridge (a frozen peer), or the writer
            // failed: nothing more can be written, so nothing more is read.
            self.closed = true;
            self.abort_writer_after(CUT_OFF_GRACE);
            ctx.stop();
            return;
        }
        let now = Instant::now();
        let (in_flight, answered) = {
            let mut queue = self.replies.outbound().lock();
            let ledger = queue.state();
            (ledger.in_flight(), ledger.answered())
        };
        // Replies do not touch the clock: a connection with requests in flight, or that
        // answered some since the last check, counts as active now.
        if in_flight > 0 || answered != self.answered_seen {
            self.answered_seen = answered;
            self.session.touch(now);
        }
        if self.check_backlog(now, ctx) {
            return;
        }
        let quiet = self.session.quiet(now);
        if self.hub_conn.is_some() && self.hub_keepalive(quiet, ctx) {
            return;
        }
        self.bridge_keepalive(ctx);
        if self.closed {
            return;
        }
        if let Step::Close(close) = self.session.on_tick(now, false) {
            self.close_as(close, ctx);
        }
    }
}

/// Asks the ledger to report once nothing is in flight; whether that is so already.
fn watch_idle(replies: &ReplyQueue) -> bool {
    replies.outbound().lock().state().watch_idle()
}

/// How often timeouts are checked: often enough to honour the shortest one closely.
fn check_period(limits: &ConnectionLimits) -> Duration {
    let shortest = limits
        .handshake_timeout
        .min(limits.idle_timeout)
        .min(limits.hub_ping_interval)
        .min(limits.outbound_stall_timeout);
    (shortest / 4).clamp(Duration::from_millis(5), Duration::from_secs(1))
}

impl Actor for Connection {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // Watched by a task of its own that sends each change as a message: a stream in the
        // actor's context would be polled again on every read of the socket.
        let mut phases = self.shared.phase.clone();
        let me = ctx.address().downgrade();
        self.phase_watch = Some(actix::spawn(async move {
            while phases.changed().await.is_ok() {
                let phase = *phases.borrow_and_update();
                match me.upgrade() {
                    Some(me) => me.do_send(PhaseChanged(phase)),
                    None => break,
                }
            }
        }));
        let now = *self.shared.phase.borrow();
        if now != Phase::Running {
            self.enter_phase(now, ctx);
        }
        let period = check_period(&self.shared.limits);
        self.ticker = Some(super::ticker::tick_every(
            ctx.address().downgrade(),
            period,
            || CheckTimeouts,
        ));
    }

    fn stopped(&mut self, _ctx: &mut Context<Self>) {
        // However the actor stopped, the writer finishes and the socket is shut down.
        self.replies.outbound().lock().close();
        self.abort_writer_after(self.shared.limits.outbound_stall_timeout);
        if let (Some(hub), Some(conn)) = (&self.shared.hub, self.hub_conn) {
            hub.leave(conn);
        }
        self.bridge_closed();
        let (delta, was_over) = self.stall.forget();
        self.stats.outbound_bytes.add(delta);
        if was_over {
            self.stats.held_back.dec();
        }
        for task in [self.phase_watch.take(), self.ticker.take()]
            .into_iter()
            .flatten()
        {
            task.abort();
        }
        self.stats.open.dec();
        self.on_close
            .do_send(ConnectionClosed { ip: self.peer.ip() });
        tracing::debug!(peer = %self.peer, "connection closed");
    }
}

impl StreamHandler<Result<FrameBatch, ProtocolError>> for Connection {
    fn handle(&mut self, batch: Result<FrameBatch, ProtocolError>, ctx: &mut Context<Self>) {
        if self.closed {
            return;
        }
        // One clock read per read: the idle timer and every request's deadline count from it.
        let now = Instant::now();
        self.pubsub.heard();
        match batch {
            // Every writer this read feeds (subscribers, links, this one) is woken once. No
            // reply is written before the read is handled (every request in it counted).
            Ok(frames) => hold_wakes(|| {
                self.replies.begin_read();
                for frame in frames {
                    self.on_frame(frame, now, ctx);
                    if self.closed {
                        break;
                    }
                }
                self.route_publishes();
                self.flush_hub_changes(ctx);
                self.replies.end_read();
            }),
            // A WebSocket message that is not one binary frame: its own error, then the close.
            Err(ProtocolError::Io(e)) if WebSocketViolation::in_io(&e).is_some() => {
                let violation = WebSocketViolation::in_io(&e).expect("checked");
                self.fail(ctx, violation.code(), violation.to_string());
            }
            // The peer's compressed bytes cannot be read: said (compressed, as the peer reads
            // them), then the close; no other connection is touched.
            Err(ProtocolError::Io(e)) if CompressionError::in_io(&e).is_some() => {
                let error = CompressionError::in_io(&e).expect("checked");
                let counter = "connections.compression_errors";
                self.shared.registry.counter(counter, &[]).inc();
                self.fail(ctx, ErrorCode::Protocol, error.to_string());
            }
            Err(e @ (ProtocolError::Truncated { .. } | ProtocolError::Io(_))) => {
                tracing::debug!(peer = %self.peer, error = %e, "stream ended badly");
                self.close(ctx);
            }
            Err(e) => self.fail(ctx, e.code(), e.to_string()),
        }
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        // A peer that shut down its write side still gets the replies to what it sent.
        let wind = self.session.on_read_closed(|| watch_idle(&self.replies));
        self.wind(wind, ctx);
    }
}

impl Handler<CheckTimeouts> for Connection {
    type Result = ();

    fn handle(&mut self, _: CheckTimeouts, ctx: &mut Context<Self>) {
        if !self.closed {
            self.check_timeouts(ctx);
        }
    }
}

impl Handler<PhaseChanged> for Connection {
    type Result = ();

    fn handle(&mut self, PhaseChanged(phase): PhaseChanged, ctx: &mut Context<Self>) {
        self.enter_phase(phase, ctx);
    }
}

impl Handler<AllAnswered> for Connection {
    type Result = ();

    fn handle(&mut self, _: AllAnswered, ctx: &mut Context<Self>) {
        let wind = self.session.on_all_answered(|| watch_idle(&self.replies));
        self.wind(wind, ctx);
    }
}
