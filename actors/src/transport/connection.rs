//! The connection actor: decodes every whole frame of a read, dispatches requests, and owns the
//! write side (a writer task fed by a channel, which writes whatever is queued in one go).
//!
//! ```text
//! socket ─read─▶ FrameBatches ─batch─▶ Connection ─Dispatch─▶ handler actor
//!                                          ▲                       │
//! socket ◀─write─ writer task ◀─frames─────┴────── Outcome ◀───────┘
//! ```

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::{
    Actor, ActorContext, ArbiterHandle, AsyncContext, Context, Handler, Recipient, StreamHandler,
};
use bytes::Bytes;
use hubwire_core::protocol::{
    kind, peek_request_id, Cancel, Disconnect, Envelope, ErrorCode, ErrorFrame, Frame, Hello, Ping,
    Pong, ProtocolError, Request, PROTOCOL_VERSION,
};
use hubwire_core::stream::{write_queued, FrameBatches};
use tokio::sync::mpsc;

use super::listener::ConnectionClosed;
use super::listener::OpenStream;
use super::{ConnectionLimits, ConnectionShared, Peer, Phase, TransportStats};
use crate::handler::{Outcome, ReplyTo};
use crate::routing::{count_error, Incoming};

/// One peer's stream connection.
pub struct Connection {
    peer: Peer,
    on_close: Recipient<ConnectionClosed>,
    stats: TransportStats,
    phase: Phase,
    shared: Arc<ConnectionShared>,
    /// Frames to write; the writer task ends (and closes the write side) when this is dropped.
    writer: Option<mpsc::UnboundedSender<Bytes>>,
    me: Option<Recipient<Outcome>>,
    handshaken: bool,
    /// Requests dispatched and not yet answered (bounded by `max_in_flight`).
    in_flight: HashSet<u64>,
    /// Requests the peer cancelled while in flight: their replies are dropped.
    cancelled: HashSet<u64>,
    last_activity: Instant,
    /// The peer has finished sending: close once the last reply is written.
    read_closed: bool,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("peer", &self.peer)
            .field("in_flight", &self.in_flight.len())
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Starts a connection actor on `thread` over the stream that `open` produces there.
    pub(crate) fn start_on(
        thread: &ArbiterHandle,
        peer: Peer,
        shared: Arc<ConnectionShared>,
        open: OpenStream,
        on_close: Recipient<ConnectionClosed>,
        stats: TransportStats,
    ) {
        Connection::start_in_arbiter(thread, move |ctx| {
            stats.open.inc();
            let mut connection = Connection {
                peer,
                on_close,
                stats,
                phase: Phase::Running,
                shared,
                writer: None,
                me: None,
                handshaken: false,
                in_flight: HashSet::new(),
                cancelled: HashSet::new(),
                last_activity: Instant::now(),
                read_closed: false,
            };
            match open() {
                Ok((rd, wr)) => {
                    let (tx, rx) = mpsc::unbounded_channel();
                    let peer = connection.peer.to_string();
                    actix::spawn(async move {
                        if let Err(e) = write_queued(wr, rx).await {
                            tracing::debug!(%peer, error = %e, "write side failed");
                        }
                    });
                    connection.writer = Some(tx);
                    let max_frame = connection.shared.limits.max_frame;
                    ctx.add_stream(FrameBatches::new(rd, max_frame));
                }
                Err(e) => {
                    tracing::warn!(peer = %connection.peer, error = %e, "cannot open accepted stream");
                    ctx.stop();
                }
            }
            connection
        });
    }

    fn write(&self, frame: Bytes) {
        if let Some(writer) = &self.writer {
            let _ = writer.send(frame);
        }
    }

    fn write_envelope(&self, envelope: &impl Envelope) {
        match envelope.to_frame_bytes() {
            Ok(frame) => self.write(frame),
            Err(e) => tracing::error!(peer = %self.peer, error = %e, "cannot encode a frame"),
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
        // Dropping the sender lets the writer finish what is queued, then shut the socket down.
        self.writer = None;
        ctx.stop();
    }

    fn on_handshake(&mut self, frame: Frame, ctx: &mut Context<Self>) {
        if frame.kind != kind::CONN {
            let message = format!(
                "expected CONN as the first frame, got {} ({})",
                kind::name(frame.kind),
                frame.kind
            );
            return self.fail(ctx, ErrorCode::Protocol, message);
        }
        let hello = match Hello::from_frame(&frame) {
            Ok(hello) => hello,
            Err(e) => return self.fail(ctx, ErrorCode::Protocol, format!("bad CONN: {e}")),
        };
        if hello.version != PROTOCOL_VERSION {
            let message = format!(
                "this server speaks protocol version {PROTOCOL_VERSION} and the client sent version {}: use a client and server of the same protocol version",
                hello.version
            );
            return self.fail(ctx, ErrorCode::VersionMismatch, message);
        }
        tracing::debug!(peer = %self.peer, agent = %hello.agent, "connected");
        self.handshaken = true;
        let limits = &self.shared.limits;
        self.write_envelope(&Hello {
            version: PROTOCOL_VERSION,
            agent: self.shared.agent.clone(),
            max_frame: limits.max_frame as u32,
            max_in_flight: limits.max_in_flight as u32,
        });
    }

    fn on_frame(&mut self, frame: Frame, ctx: &mut Context<Self>) {
        if !self.handshaken {
            return self.on_handshake(frame, ctx);
        }
        match frame.kind {
            kind::REQUEST => self.on_request(frame),
            kind::CANCEL => match Cancel::from_frame(&frame) {
                Ok(Cancel { id }) if self.in_flight.contains(&id) => {
                    self.cancelled.insert(id);
                }
                Ok(_) => {}
                Err(e) => self.send_error(None, e.code(), e.to_string()),
            },
            kind::PING => match Ping::from_frame(&frame) {
                Ok(Ping { nonce }) => self.write_envelope(&Pong { nonce }),
                Err(e) => self.send_error(None, e.code(), e.to_string()),
            },
            kind::PONG | kind::ERROR => {}
            kind::DISCONN => {
                let reason = Disconnect::from_frame(&frame).map(|d| d.reason);
                tracing::debug!(peer = %self.peer, ?reason, "peer disconnected");
                self.close(ctx);
            }
            kind::CONN => self.send_error(None, ErrorCode::Protocol, "CONN after the handshake"),
            other => self.send_error(
                None,
                ErrorCode::UnknownKind,
                format!(
                    "frame kind {other} ({}) is not served here",
                    kind::name(other)
                ),
            ),
        }
    }

    fn on_request(&mut self, frame: Frame) {
        let request = match Request::from_frame(&frame) {
            Ok(request) => request,
            Err(e) => {
                return self.send_error(peek_request_id(&frame.payload), e.code(), e.to_string())
            }
        };
        let id = request.id;
        if self.phase != Phase::Running {
            let message = "the server is shutting down and takes no new requests".to_owned();
            return self.send_error(Some(id), ErrorCode::ShuttingDown, message);
        }
        if self.in_flight.contains(&id) {
            let message = format!("request id {id} is already in flight on this connection");
            return self.send_error(Some(id), ErrorCode::Protocol, message);
        }
        let limit = self.shared.limits.max_in_flight;
        if self.in_flight.len() >= limit {
            let message = format!(
                "{limit} requests are already in flight on this connection (the most allowed); wait for replies before sending more"
            );
            return self.send_error(Some(id), ErrorCode::Busy, message);
        }
        let Some(endpoint) = self.shared.routes.get(&request.route) else {
            let message = format!("no route {:?} on this server", request.route);
            return self.send_error(Some(id), ErrorCode::UnknownRoute, message);
        };
        let me = self.me.clone().expect("set when started");
        let incoming = Incoming {
            id,
            peer: self.peer.clone(),
            headers: request.headers,
            body: request.body,
            received: Instant::now(),
            reply_to: ReplyTo::new(id, me),
        };
        match endpoint.dispatch(incoming) {
            Ok(()) => {
                self.in_flight.insert(id);
            }
            Err(refusal) => self.send_error(Some(id), refusal.code, refusal.message),
        }
    }

    fn say_goodbye_and_close(&mut self, ctx: &mut Context<Self>) {
        if self.phase != Phase::Running {
            self.write_envelope(&Disconnect {
                reason: "the server is shutting down".into(),
            });
        }
        self.close(ctx);
    }

    /// Drains (no new requests; close once nothing is in flight) or closes (answering what is
    /// still in flight with shutting-down).
    fn enter_phase(&mut self, phase: Phase, ctx: &mut Context<Self>) {
        self.phase = phase;
        match phase {
            Phase::Running => {}
            Phase::Draining if self.in_flight.is_empty() => self.say_goodbye_and_close(ctx),
            Phase::Draining => {}
            Phase::Closing => {
                let cancelled = std::mem::take(&mut self.cancelled);
                for id in std::mem::take(&mut self.in_flight) {
                    if !cancelled.contains(&id) {
                        let message = "the server shut down before this request finished";
                        self.send_error(Some(id), ErrorCode::ShuttingDown, message);
                    }
                }
                self.say_goodbye_and_close(ctx);
            }
        }
    }

    fn check_timeouts(&mut self, ctx: &mut Context<Self>) {
        let limits = &self.shared.limits;
        let quiet = self.last_activity.elapsed();
        if !self.handshaken && quiet >= limits.handshake_timeout {
            let message = format!("no CONN frame within {:?}", limits.handshake_timeout);
            return self.fail(ctx, ErrorCode::Timeout, message);
        }
        if self.handshaken && self.in_flight.is_empty() && quiet >= limits.idle_timeout {
            tracing::debug!(peer = %self.peer, ?quiet, "closing idle connection");
            self.write_envelope(&Disconnect {
                reason: format!("idle for {:?}", limits.idle_timeout),
            });
            self.close(ctx);
        }
    }
}

/// How often timeouts are checked: often enough to honour the shortest one closely.
fn check_period(limits: &ConnectionLimits) -> Duration {
    let shortest = limits.handshake_timeout.min(limits.idle_timeout);
    (shortest / 4).clamp(Duration::from_millis(5), Duration::from_secs(1))
}

impl Actor for Connection {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.me = Some(ctx.address().recipient());
        let phases = futures::stream::unfold(self.shared.phase.clone(), |mut rx| async move {
            rx.changed().await.ok()?;
            let phase = *rx.borrow_and_update();
            Some((phase, rx))
        });
        ctx.add_stream(phases);
        let now = *self.shared.phase.borrow();
        if now != Phase::Running {
            self.enter_phase(now, ctx);
        }
        ctx.run_interval(check_period(&self.shared.limits), |act, ctx| {
            act.check_timeouts(ctx)
        });
    }

    fn stopped(&mut self, _ctx: &mut Context<Self>) {
        self.stats.open.dec();
        self.on_close
            .do_send(ConnectionClosed { ip: self.peer.ip() });
        tracing::debug!(peer = %self.peer, "connection closed");
    }
}

impl StreamHandler<Result<Vec<Frame>, ProtocolError>> for Connection {
    fn handle(&mut self, batch: Result<Vec<Frame>, ProtocolError>, ctx: &mut Context<Self>) {
        self.last_activity = Instant::now();
        match batch {
            Ok(frames) => {
                for frame in frames {
                    self.on_frame(frame, ctx);
                    if self.writer.is_none() {
                        break;
                    }
                }
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
        self.read_closed = true;
        if self.in_flight.is_empty() {
            self.close(ctx);
        }
    }
}

impl StreamHandler<Phase> for Connection {
    fn handle(&mut self, phase: Phase, ctx: &mut Context<Self>) {
        self.enter_phase(phase, ctx);
    }

    // The server going away ends the stream; the connection ends with the I/O threads.
    fn finished(&mut self, _ctx: &mut Context<Self>) {}
}

impl Handler<Outcome> for Connection {
    type Result = ();

    fn handle(&mut self, outcome: Outcome, ctx: &mut Context<Self>) {
        self.in_flight.remove(&outcome.token);
        self.last_activity = Instant::now();
        if !self.cancelled.remove(&outcome.token) {
            self.write(outcome.frame);
        }
        if self.in_flight.is_empty() && (self.read_closed || self.phase == Phase::Draining) {
            self.say_goodbye_and_close(ctx);
        }
    }
}
