//! [`NatsConnection`]: the driver of one NATS client's connection to a hub. The protocol is
//! the sans-IO [`NatsSession`] in `hubwire-core`; here are the socket, the timers, the hub's
//! table and router, and the connection's [`SidBook`](hubwire_core::nats::SidBook), which the
//! router reads to write this client's MSG lines (`docs/nats-compatibility.md`).
//!
//! ```text
//! socket ─read─▶ NatsReads ─chunk─▶ NatsConnection ─▶ NatsSession ─steps─▶ hub (publish,
//!                                        │                                  table, book)
//! socket ◀─write─ writer task ◀── ReplyQueue ◀── router (MSG lines), INFO, +OK, PONG, -ERR
//! ```

mod held_back;
mod reads;
mod tls;

pub(crate) use self::tls::PendingNatsTls;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::{
    Actor, ActorContext, ActorFutureExt, ArbiterHandle, AsyncContext, Context, Handler, Message,
    Recipient, StreamHandler, WrapFuture,
};
use bytes::{Bytes, BytesMut};
use hubwire_core::auth::{AuthFailure, Credentials};
use hubwire_core::nats::{
    BookChange, ClientParser, Info, NatsLimits, NatsPermissions, NatsSession, NatsStep, Tick,
    UserPermissions,
};
use hubwire_core::protocol::Publish;
use hubwire_core::stream::{hold_wakes, spawn_timer, Backlog, ReadPause, ReplyQueue, StallWatch};

use self::held_back::HeldBack;
use self::reads::NatsReads;
use super::listener::{ConnectionClosed, OpenStream};
use super::{ConnectionShared, Peer, Phase, TransportStats};
use crate::hub::{
    self, ConnId, Hub, NatsDelivery, NatsPeer, SlowConsumer, SubscriptionEnded, MAX_GATHERED,
};

/// How long a client cut off (slow consumer) has to take its `-ERR` before its socket is shut.
const CUT_OFF_GRACE: Duration = Duration::from_secs(1);

/// One NATS client's connection.
pub struct NatsConnection {
    peer: Peer,
    on_close: Recipient<ConnectionClosed>,
    stats: TransportStats,
    shared: Arc<ConnectionShared>,
    hub: Hub,
    /// Everything written to the client: the router appends MSG lines to it directly.
    outbound: Arc<ReplyQueue>,
    /// The protocol.
    session: NatsSession,
    /// This connection at the hub.
    conn: ConnId,
    /// The book and reader the router reads.
    delivery: Arc<NatsPeer>,
    /// Holds reading while the session waits for the table.
    pause: Arc<ReadPause>,
    /// Holds reading while a subscriber this client published to catches up.
    held_back: Arc<HeldBack>,
    closed: bool,
    writer: Option<tokio::task::JoinHandle<()>>,
    ticker: Option<tokio::task::JoinHandle<()>>,
    phase_watch: Option<tokio::task::JoinHandle<()>>,
    /// Scratch space for what the session writes.
    out: BytesMut,
    /// Publishes read and not yet routed (see [`drive`](Self::drive)).
    publishes: Vec<Publish>,
    /// How long this connection has owed its client more than the bound.
    stall: StallWatch,
}

impl std::fmt::Debug for NatsConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsConnection")
            .field("peer", &self.peer)
            .field("conn", &self.conn)
            .finish_non_exhaustive()
    }
}

/// How a connection starts.
pub(crate) enum Greeting {
    /// A new client of the listener at `listening`: INFO first.
    New {
        /// The listener's address, for INFO.
        listening: SocketAddr,
    },
    /// A client already sent INFO (and upgraded to TLS since).
    Greeted(Box<NatsSession>),
}

/// Time to check the timers.
struct CheckTimers;

impl Message for CheckTimers {
    type Result = ();
}

/// The server's phase changed.
struct PhaseChanged(Phase);

impl Message for PhaseChanged {
    type Result = ();
}

impl NatsConnection {
    /// The session of a new client of the listener at `listening` (its INFO not yet sent).
    pub(crate) fn new_session(shared: &ConnectionShared, listening: SocketAddr) -> NatsSession {
        let limits = &shared.limits;
        let info = Info {
            server_id: shared.nats.server_id.clone(),
            server_name: shared.nats.server_name.clone(),
            version: concat!("hubwire-", env!("CARGO_PKG_VERSION")).to_owned(),
            proto: 1,
            headers: true,
            max_payload: limits.nats_max_payload,
            host: listening.ip().to_string(),
            port: listening.port(),
            auth_required: false,
            tls_required: shared.nats.tls_required,
        };
        NatsSession::new(
            NatsLimits {
                parser: ClientParser {
                    max_control_line: limits.nats_max_control_line,
                    max_payload: limits.nats_max_payload,
                },
                ping_interval: limits.hub_ping_interval,
                max_pings_out: limits.hub_max_pings_out,
                auth_timeout: limits.handshake_timeout,
            },
            info,
            shared.nats.gate.clone(),
            Instant::now(),
        )
    }

    /// Starts a NATS connection on `thread` over the stream `open` produces there: a new
    /// client of the listener at `listening` (greeted with INFO first), or the `session` of
    /// one already greeted (which upgraded to TLS since).
    pub(crate) fn start_on(
        thread: &ArbiterHandle,
        peer: Peer,
        shared: Arc<ConnectionShared>,
        open: OpenStream,
        on_close: Recipient<ConnectionClosed>,
        stats: TransportStats,
        start: Greeting,
    ) {
        let Some(hub) = shared.hub.clone() else {
            tracing::error!("a nats:// listener on a server without a hub");
            return;
        };
        NatsConnection::start_in_arbiter(thread, move |ctx| {
            stats.open.inc();
            let limits = &shared.limits;
            let outbound = Arc::new(ReplyQueue::with_limit(limits.max_outbound_bytes, || {}));
            let delivery = Arc::new(NatsPeer {
                delivery: Mutex::new(NatsDelivery::default()),
                ended: ctx.address().recipient(),
            });
            let conn = hub.join_nats(
                outbound.clone(),
                ctx.address().recipient(),
                delivery.clone(),
            );
            let (mut session, greet) = match start {
                Greeting::New { listening } => (Self::new_session(&shared, listening), true),
                Greeting::Greeted(session) => (*session, false),
            };
            if let Some(user) = shared.auth.as_ref().and_then(|auth| {
                peer.identity()
                    .and_then(|identity| auth.users.by_tls_identity(identity))
            }) {
                tracing::debug!(%peer, user = user.name(), "NATS client named by its certificate");
                session.identified(Arc::new(UserPermissions::new(user)));
            }
            let mut connection = NatsConnection {
                peer,
                on_close,
                stats,
                shared,
                hub,
                outbound,
                session,
                conn,
                delivery,
                pause: Arc::default(),
                held_back: Arc::default(),
                closed: false,
                writer: None,
                ticker: None,
                phase_watch: None,
                out: BytesMut::new(),
                publishes: Vec::new(),
                stall: StallWatch::default(),
            };
            match open() {
                Ok((rd, wr)) => {
                    let outbound = connection.outbound.clone();
                    let peer = connection.peer.to_string();
                    connection.writer = Some(actix::spawn(async move {
                        if let Err(e) = outbound.outbound().write_to(wr).await {
                            tracing::debug!(%peer, error = %e, "write side failed");
                        }
                    }));
                    if greet {
                        connection.session.greet(&mut connection.out);
                        connection.write_out();
                    }
                    let gate = connection.outbound.clone();
                    let (pause, held_back) =
                        (connection.pause.clone(), connection.held_back.clone());
                    ctx.add_stream(NatsReads::new(rd, gate, pause, held_back));
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

    /// Queues what the session wrote, in order with the messages.
    fn write_out(&mut self) {
        if !self.out.is_empty() {
            self.outbound.outbound().lock().push(&self.out);
            self.out.clear();
        }
    }

    /// Carries out the session's steps until it needs more bytes or waits for the table.
    /// Publishes are gathered and routed together (runs to one channel cost one match and
    /// one lock per subscriber), before anything else the session does or writes, so every
    /// reply and table change stays in order with them.
    fn drive(&mut self, ctx: &mut Context<Self>) {
        while !self.closed {
            let step = self.session.next(&mut self.out);
            if !self.out.is_empty() {
                self.route_publishes();
                self.write_out();
            }
            let Some(step) = step else { break };
            if !matches!(step, NatsStep::Publish(_)) {
                // Whatever else the session does comes after the publishes read before it.
                self.route_publishes();
            }
            match step {
                NatsStep::Publish(publish) => {
                    self.publishes.push(publish);
                    if self.publishes.len() >= MAX_GATHERED {
                        self.route_publishes();
                    }
                }
                NatsStep::Authenticate(credentials) => self.authenticate(credentials, ctx),
                NatsStep::Connected { reader, name } => {
                    tracing::debug!(peer = %self.peer, ?name, "NATS client connected");
                    self.delivery().reader = reader;
                }
                NatsStep::Book(change) => self.on_book(change),
                NatsStep::Changes(changes) => self.send_changes(changes, ctx),
                NatsStep::Close(reason) => {
                    tracing::debug!(peer = %self.peer, %reason, "closing NATS connection");
                    self.close(ctx);
                }
            }
        }
        self.route_publishes();
        self.pause.set(self.session.is_paused());
    }

    /// Routes the publishes gathered so far; a subscriber they leave past its stall mark holds
    /// this client's reading back.
    fn route_publishes(&mut self) {
        if self.publishes.is_empty() {
            return;
        }
        if let Some(stalled) = self.hub.publish_all(self.conn, &self.publishes) {
            self.held_back.hold(stalled.queue, stalled.resume_at);
        }
        self.publishes.clear();
    }

    /// A CONNECT's credentials, checked by the server's auth gate (off this thread, after the
    /// address's delay for earlier failures, counted in `auth.*`); reading waits meanwhile.
    fn authenticate(&mut self, credentials: Credentials, ctx: &mut Context<Self>) {
        let Some(auth) = &self.shared.auth else {
            // A gate that leaves the check to a server without users: nobody to admit.
            return self.admitted(None, ctx);
        };
        let (reply, answer) = tokio::sync::oneshot::channel();
        let check = crate::auth::Check {
            ip: self.peer.ip(),
            credentials,
            reply,
        };
        if auth.gate.try_send(check).is_err() {
            tracing::warn!(peer = %self.peer, "the auth gate cannot take a check now");
            return self.admitted(None, ctx);
        }
        ctx.spawn(answer.into_actor(self).map(|answer, this, ctx| {
            if this.closed {
                return;
            }
            let permissions = match answer.unwrap_or(Err(AuthFailure::Missing)) {
                Ok(user) => {
                    tracing::debug!(peer = %this.peer, user = user.name(), "NATS client authenticated");
                    Some(Arc::new(UserPermissions::new(user)) as Arc<dyn NatsPermissions>)
                }
                Err(failure) => {
                    tracing::info!(peer = %this.peer, %failure, "NATS authentication failed");
                    None
                }
            };
            this.admitted(permissions, ctx);
        }));
    }

    /// The outcome of a check: the session goes on (or closes), and reading resumes.
    fn admitted(&mut self, permissions: Option<Arc<dyn NatsPermissions>>, ctx: &mut Context<Self>) {
        let step = self.session.admitted(permissions, &mut self.out);
        self.write_out();
        match step {
            NatsStep::Connected { reader, name } => {
                tracing::debug!(peer = %self.peer, ?name, "NATS client connected");
                self.delivery().reader = reader;
                hold_wakes(|| self.drive(ctx));
            }
            NatsStep::Close(reason) => {
                tracing::debug!(peer = %self.peer, %reason, "closing NATS connection");
                self.close(ctx);
            }
            other => tracing::error!(peer = %self.peer, ?other, "unexpected step after a check"),
        }
    }

    fn delivery(&self) -> std::sync::MutexGuard<'_, NatsDelivery> {
        self.delivery
            .delivery
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    fn on_book(&mut self, change: BookChange) {
        match change {
            BookChange::Add { sid, text } => self.delivery().book.add(sid, &text),
            BookChange::Remove { sid } => self.delivery().book.remove(sid),
            BookChange::Limit { sid, max } => {
                let reached = self.delivery().book.limit(sid, max);
                if reached {
                    self.session.ended(sid);
                }
            }
        }
    }

    /// Sends a batch to the table; reading waits for its answer.
    fn send_changes(
        &mut self,
        changes: Vec<hubwire_core::pubsub::Change>,
        ctx: &mut Context<Self>,
    ) {
        let batch = hub::Changes {
            conn: self.conn,
            outbound: None,
            changes,
        };
        let answer = self.hub.table().send(batch);
        ctx.spawn(answer.into_actor(self).map(|declined, this, ctx| {
            if this.closed {
                return;
            }
            let gone = this
                .session
                .on_applied(declined.unwrap_or_default(), &mut this.out);
            for sid in gone {
                this.delivery().book.remove(sid);
            }
            this.write_out();
            hold_wakes(|| this.drive(ctx));
        }));
    }

    fn close(&mut self, ctx: &mut Context<Self>) {
        self.closed = true;
        self.pause.set(true);
        self.outbound.outbound().lock().close();
        self.abort_writer_after(self.shared.limits.outbound_stall_timeout);
        ctx.stop();
    }

    fn abort_writer_after(&mut self, grace: Duration) {
        if let Some(mut writer) = self.writer.take() {
            spawn_timer(async move {
                tokio::select! {
                    _ = &mut writer => {}
                    () = tokio::time::sleep(grace) => writer.abort(),
                }
            });
        }
    }

    fn check_timers(&mut self, ctx: &mut Context<Self>) {
        if !self.outbound.outbound().is_open() {
            // Cut off by the router (a slow consumer), or the writer failed.
            self.closed = true;
            self.abort_writer_after(CUT_OFF_GRACE);
            ctx.stop();
            return;
        }
        let now = Instant::now();
        // A client that sends without reading what it is owed is not read from (the outbound
        // buffer's gate); one that stays so past the stall timeout is cut off.
        let backlog = self.outbound.outbound().lock().backlog();
        let limits = &self.shared.limits;
        let verdict = self.stall.tick(
            now,
            backlog,
            limits.max_outbound_bytes,
            limits.outbound_stall_timeout,
        );
        if verdict == Backlog::Stalled {
            self.stats.stalled.inc();
            tracing::info!(peer = %self.peer, "NATS client stalled: it does not read what it is owed");
            self.outbound
                .outbound()
                .lock()
                .cut_off(b"-ERR 'Slow Consumer'\r\n");
            self.closed = true;
            self.abort_writer_after(CUT_OFF_GRACE);
            ctx.stop();
            return;
        }
        match self.session.on_tick(now, &mut self.out) {
            Tick::Quiet => {}
            Tick::Ping => {
                self.outbound.outbound().lock().push_urgent(b"PING\r\n");
            }
            Tick::Close(reason) => {
                tracing::info!(peer = %self.peer, %reason, "closing NATS connection");
                self.write_out();
                self.close(ctx);
            }
        }
    }
}

impl Actor for NatsConnection {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
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
        if *self.shared.phase.borrow() != Phase::Running {
            self.close(ctx);
            return;
        }
        let limits = &self.shared.limits;
        let shortest = limits
            .hub_ping_interval
            .min(limits.handshake_timeout)
            .min(limits.outbound_stall_timeout);
        let period = (shortest / 4).clamp(Duration::from_millis(5), Duration::from_secs(1));
        self.ticker = Some(crate::transport::ticker::tick_every(
            ctx.address().downgrade(),
            period,
            || CheckTimers,
        ));
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.outbound.outbound().lock().close();
        self.abort_writer_after(self.shared.limits.outbound_stall_timeout);
        self.hub.leave(self.conn);
        for task in [self.phase_watch.take(), self.ticker.take()]
            .into_iter()
            .flatten()
        {
            task.abort();
        }
        self.stats.open.dec();
        self.on_close
            .do_send(ConnectionClosed { ip: self.peer.ip() });
        tracing::debug!(peer = %self.peer, "NATS connection closed");
    }
}

impl StreamHandler<std::io::Result<Bytes>> for NatsConnection {
    fn handle(&mut self, chunk: std::io::Result<Bytes>, ctx: &mut Context<Self>) {
        if self.closed {
            return;
        }
        match chunk {
            Ok(bytes) => {
                self.session.receive(&bytes, Instant::now());
                hold_wakes(|| self.drive(ctx));
            }
            Err(e) => {
                tracing::debug!(peer = %self.peer, error = %e, "NATS stream ended badly");
                self.close(ctx);
            }
        }
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        if !self.closed {
            self.close(ctx);
        }
    }
}

impl Handler<CheckTimers> for NatsConnection {
    type Result = ();

    fn handle(&mut self, _: CheckTimers, ctx: &mut Context<Self>) {
        if !self.closed {
            self.check_timers(ctx);
        }
    }
}

impl Handler<PhaseChanged> for NatsConnection {
    type Result = ();

    fn handle(&mut self, PhaseChanged(phase): PhaseChanged, ctx: &mut Context<Self>) {
        if phase != Phase::Running && !self.closed {
            self.close(ctx);
        }
    }
}

impl Handler<SlowConsumer> for NatsConnection {
    type Result = ();

    fn handle(&mut self, _: SlowConsumer, ctx: &mut Context<Self>) {
        if self.closed {
            return;
        }
        tracing::warn!(peer = %self.peer, "NATS slow consumer: its outbound buffer is full; cut off");
        self.closed = true;
        self.abort_writer_after(CUT_OFF_GRACE);
        ctx.stop();
    }
}

impl Handler<SubscriptionEnded> for NatsConnection {
    type Result = ();

    fn handle(&mut self, SubscriptionEnded(sid): SubscriptionEnded, ctx: &mut Context<Self>) {
        if self.closed {
            return;
        }
        self.session.ended(sid);
        hold_wakes(|| self.drive(ctx));
    }
}
