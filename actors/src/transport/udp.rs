//! The UDP endpoint actor: one self-contained frame per datagram, replies sent to the sender.
//!
//! There is no connection: every datagram is read on its own, requests are tracked by a token of
//! this endpoint's (peers may reuse ids), and a datagram whose framing is wrong is dropped and
//! counted without a reply.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use actix::{Actor, AsyncContext, Context, Handler, Recipient, StreamHandler};
use bytes::{Bytes, BytesMut};
use futures::stream;
use hubwire_core::protocol::{
    decode_datagram, peek_request_id, Envelope, ErrorCode, ErrorFrame, Frame, Request,
};
use hubwire_core::session::{on_datagram, InFlightScope, RequestRefusal, Step};
use hubwire_core::Address;
use tokio::net::UdpSocket;

use super::{ConnectionShared, Peer, Phase, TransportStats};
use crate::handler::{Outcome, ReplyTo};
use crate::routing::{count_error, Incoming};
use crate::supervisor::{ExitReporter, StopChild};
use hubwire_core::stats::{Counter, StatsRegistry};

/// The largest UDP payload over IPv4: 65,535 minus the IP and UDP headers.
pub const MAX_DATAGRAM: usize = 65_507;

/// What a UDP endpoint saw (series `udp.*`).
#[derive(Debug, Clone)]
pub struct UdpStats {
    /// Datagrams received.
    pub received: Counter,
    /// Datagrams dropped unread: bad framing (a length that disagrees with the size, say).
    pub dropped: Counter,
    /// Replies that could not be sent (the socket's buffer was full).
    pub replies_dropped: Counter,
}

impl UdpStats {
    /// The series in `registry`.
    pub fn new(registry: &StatsRegistry) -> Self {
        UdpStats {
            received: registry.counter("udp.received", &[]),
            dropped: registry.counter("udp.dropped", &[]),
            replies_dropped: registry.counter("udp.replies_dropped", &[]),
        }
    }
}

/// Binds a UDP socket; returns it and the address actually bound.
pub fn bind_udp(addr: SocketAddr) -> io::Result<(std::net::UdpSocket, Address)> {
    let socket = std::net::UdpSocket::bind(addr)?;
    socket.set_nonblocking(true)?;
    let local = socket.local_addr()?;
    Ok((socket, Address::udp(local)))
}

/// Serves requests arriving as datagrams on one socket.
pub struct UdpEndpoint {
    address: Address,
    socket: Arc<UdpSocket>,
    shared: Arc<ConnectionShared>,
    max_frame: usize,
    max_in_flight: usize,
    /// Requests in flight by token: who asked, and the id they gave.
    in_flight: HashMap<u64, (SocketAddr, u64)>,
    next_token: u64,
    me: Option<Recipient<Outcome>>,
    stats: Arc<UdpStats>,
    transport: TransportStats,
    phase: Phase,
    exit: Option<ExitReporter>,
    /// Asked to stop: ends once nothing is in flight.
    stopping: bool,
}

impl std::fmt::Debug for UdpEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UdpEndpoint")
            .field("address", &self.address)
            .field("in_flight", &self.in_flight.len())
            .finish_non_exhaustive()
    }
}

impl UdpEndpoint {
    /// An endpoint over `socket` (made on the thread that will run it); at most `max_in_flight`
    /// requests are in flight across all its peers.
    pub fn new(
        address: Address,
        socket: std::net::UdpSocket,
        shared: Arc<ConnectionShared>,
        max_in_flight: usize,
        stats: Arc<UdpStats>,
    ) -> std::io::Result<UdpEndpoint> {
        let socket = Arc::new(UdpSocket::from_std(socket)?);
        Ok(UdpEndpoint {
            transport: shared.transport_stats("udp"),
            phase: Phase::Running,
            max_frame: shared.limits.max_frame.min(MAX_DATAGRAM),
            address,
            socket,
            shared,
            max_in_flight,
            in_flight: HashMap::new(),
            next_token: 0,
            me: None,
            stats,
            exit: None,
            stopping: false,
        })
    }

    /// A supervised endpoint: it reports a requested stop as a normal end.
    pub fn reporting_to(mut self, exit: ExitReporter) -> Self {
        self.exit = Some(exit);
        self
    }

    /// Ends, telling the supervisor it was asked to.
    fn finish(&mut self, ctx: &mut Context<Self>) {
        if let Some(exit) = &self.exit {
            exit.finished();
        }
        actix::ActorContext::stop(ctx);
    }

    /// Answers every request still in flight with shutting-down.
    fn abandon_in_flight(&mut self) {
        for (_, (peer, id)) in std::mem::take(&mut self.in_flight) {
            let message = "the server shut down before this request finished".to_owned();
            self.send_error(Some(id), ErrorCode::ShuttingDown, message, peer);
        }
    }

    fn send(&self, frame: &[u8], peer: SocketAddr) {
        if self.socket.try_send_to(frame, peer).is_err() {
            self.stats.replies_dropped.inc();
        }
    }

    fn send_envelope(&self, envelope: &impl Envelope, peer: SocketAddr) {
        if let Ok(frame) = envelope.to_frame_bytes() {
            self.send(&frame, peer);
        }
    }

    fn send_error(&self, id: Option<u64>, code: ErrorCode, message: String, peer: SocketAddr) {
        if id.is_some() {
            count_error(&self.shared.registry, code);
        }
        self.send_envelope(&ErrorFrame { id, code, message }, peer);
    }

    fn on_frame(&mut self, frame: Frame, peer: SocketAddr) {
        let agent = &self.shared.agent;
        match on_datagram(frame, agent, self.max_frame, self.max_in_flight) {
            Step::Request(frame) => self.on_request(frame, peer),
            Step::Send(answer) => self.send(&answer, peer),
            _ => {}
        }
    }

    fn refuse(&self, id: u64, refusal: RequestRefusal<'_>, peer: SocketAddr) {
        self.send_error(Some(id), refusal.code(), refusal.message(id), peer);
    }

    fn on_request(&mut self, frame: Frame, peer: SocketAddr) {
        if self.phase != Phase::Running || self.stopping {
            let id = peek_request_id(&frame.payload);
            let refusal = RequestRefusal::ShuttingDown;
            let message = refusal.message(id.unwrap_or_default());
            return self.send_error(id, refusal.code(), message, peer);
        }
        let request = match Request::from_frame(&frame) {
            Ok(r) => r,
            Err(e) => {
                return self.send_error(
                    peek_request_id(&frame.payload),
                    e.code(),
                    e.to_string(),
                    peer,
                )
            }
        };
        let id = request.id;
        if self.in_flight.len() >= self.max_in_flight {
            let limit = self.max_in_flight;
            let scope = InFlightScope::UdpEndpoint;
            return self.refuse(id, RequestRefusal::Busy { limit, scope }, peer);
        }
        let Some(endpoint) = self.shared.routes.get(&request.route) else {
            return self.refuse(id, RequestRefusal::UnknownRoute(&request.route), peer);
        };
        let token = self.next_token;
        self.next_token = self.next_token.wrapping_add(1);
        let me = self.me.clone().expect("set when started");
        let incoming = Incoming {
            id,
            peer: Peer::Ip(peer),
            headers: request.headers,
            body: request.body,
            received: Instant::now(),
            reply_to: ReplyTo::with_token(id, token, me),
        };
        match endpoint.dispatch(incoming) {
            Ok(()) => {
                self.in_flight.insert(token, (peer, id));
            }
            Err(refusal) => self.send_error(Some(id), refusal.code, refusal.message, peer),
        }
    }
}

impl Actor for UdpEndpoint {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.me = Some(ctx.address().recipient());
        let datagrams = stream::unfold(
            (self.socket.clone(), BytesMut::new()),
            |(socket, mut buf)| async move {
                buf.clear();
                buf.reserve(MAX_DATAGRAM + 1);
                let received = socket
                    .recv_buf_from(&mut buf)
                    .await
                    .map(|(_, peer)| (buf.split().freeze(), peer));
                Some((received, (socket, buf)))
            },
        );
        ctx.add_stream(datagrams);
        let phases = stream::unfold(self.shared.phase.clone(), |mut rx| async move {
            rx.changed().await.ok()?;
            let phase = *rx.borrow_and_update();
            Some((phase, rx))
        });
        ctx.add_stream(phases);
        tracing::info!(address = %self.address, "listening");
    }
}

impl StreamHandler<io::Result<(Bytes, SocketAddr)>> for UdpEndpoint {
    fn handle(&mut self, datagram: io::Result<(Bytes, SocketAddr)>, _ctx: &mut Context<Self>) {
        let (bytes, peer) = match datagram {
            Ok(d) => d,
            // On Linux an ICMP error from an earlier reply surfaces here; it concerns one peer.
            Err(e) => {
                return tracing::debug!(address = %self.address, error = %e, "udp receive error")
            }
        };
        self.stats.received.inc();
        if !Peer::Ip(peer).allowed_by(&self.shared.allow) {
            // No reply: answering a spoofable source would make us a reflector.
            self.transport.denied.inc();
            tracing::warn!(address = %self.address, %peer, "datagram from a denied peer dropped");
            return;
        }
        match decode_datagram(&bytes, self.max_frame) {
            Ok(frame) => self.on_frame(frame, peer),
            Err(e) => {
                self.stats.dropped.inc();
                tracing::debug!(%peer, error = %e, "dropped a malformed datagram");
            }
        }
    }
}

impl StreamHandler<Phase> for UdpEndpoint {
    fn handle(&mut self, phase: Phase, ctx: &mut Context<Self>) {
        self.phase = phase;
        if phase == Phase::Closing {
            self.abandon_in_flight();
            self.finish(ctx);
        }
    }

    fn finished(&mut self, _ctx: &mut Context<Self>) {}
}

impl Handler<Outcome> for UdpEndpoint {
    type Result = ();

    fn handle(&mut self, outcome: Outcome, ctx: &mut Context<Self>) {
        if let Some((peer, id)) = self.in_flight.remove(&outcome.token) {
            if outcome.frame.len() > MAX_DATAGRAM {
                let message = format!(
                    "the reply of {} bytes does not fit in a datagram ({MAX_DATAGRAM} at most): call this route over TCP or a Unix socket",
                    outcome.frame.len()
                );
                self.send_error(Some(id), ErrorCode::HandlerFailure, message, peer);
            } else {
                self.send(&outcome.frame, peer);
            }
        }
        if self.stopping && self.in_flight.is_empty() {
            self.finish(ctx);
        }
    }
}

impl Handler<StopChild> for UdpEndpoint {
    type Result = ();

    /// Stops taking requests; ends when those in flight are answered (or at the shutdown
    /// deadline, when they are answered shutting-down).
    fn handle(&mut self, _: StopChild, ctx: &mut Context<Self>) {
        self.stopping = true;
        if self.in_flight.is_empty() {
            self.finish(ctx);
        }
    }
}
