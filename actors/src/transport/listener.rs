//! Listener actors: accept streams (TCP, Unix sockets), admit or refuse each peer (allow-list,
//! connection limits), and start a connection actor for each admitted one on the next I/O thread.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use actix::{
    Actor, ActorContext, ArbiterHandle, AsyncContext, Context, Handler, Message, Recipient,
    StreamHandler,
};
use futures::stream::{self, BoxStream, StreamExt};
use hubwire_core::protocol::{Envelope, ErrorCode, ErrorFrame};
use hubwire_core::websocket::UpgradeSettings;
use hubwire_core::Address;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::places::{Place, Places, MAX_ANSWERING};
use super::tls::PendingTls;
use super::websocket::PendingWebSocket;
use super::{Connection, ConnectionShared, Peer, SocketOptions, TransportStats};
use crate::supervisor::{ExitReporter, StopChild};
use hubwire_core::net::TlsSniff;

/// Turns an accepted socket into read and write halves on the thread that will own them.
pub(crate) type OpenStream = Box<
    dyn FnOnce() -> io::Result<(
            Box<dyn AsyncRead + Unpin + Send>,
            Box<dyn AsyncWrite + Unpin + Send>,
        )> + Send,
>;

/// A stream the listener accepted, before it is admitted or refused.
pub(crate) enum AcceptedStream {
    Tcp(tokio::net::TcpStream),
    Unix(tokio::net::UnixStream),
}

impl AcceptedStream {
    /// Moves the socket out of this thread's reactor, to be opened on its I/O thread. A TCP
    /// stream that starts with a TLS record fails its first read with `tls_on_plain`.
    fn into_open(self, tls_on_plain: String) -> io::Result<OpenStream> {
        Ok(match self {
            AcceptedStream::Tcp(stream) => {
                let std = stream.into_std()?;
                Box::new(move || {
                    let (rd, wr) = tokio::net::TcpStream::from_std(std)?.into_split();
                    let rd = TlsSniff::new(rd, tls_on_plain, true);
                    Ok((Box::new(rd) as _, Box::new(wr) as _))
                })
            }
            AcceptedStream::Unix(stream) => {
                let std = stream.into_std()?;
                Box::new(move || {
                    let (rd, wr) = tokio::net::UnixStream::from_std(std)?.into_split();
                    Ok((Box::new(rd) as _, Box::new(wr) as _))
                })
            }
        })
    }

    /// Sends one ERROR frame and closes, without holding up the listener.
    fn refuse(self, code: ErrorCode, message: String) {
        let frame = ErrorFrame::for_connection(code, message)
            .to_frame_bytes()
            .expect("an ERROR frame always encodes");
        actix::spawn(async move {
            let _ = match self {
                AcceptedStream::Tcp(mut s) => s.write_all(&frame).await.and(s.shutdown().await),
                AcceptedStream::Unix(mut s) => s.write_all(&frame).await.and(s.shutdown().await),
            };
        });
    }
}

/// A bound listening socket, before its actor starts.
#[derive(Debug)]
pub enum Bound {
    /// A TCP listener, with the options for accepted sockets.
    Tcp(tokio::net::TcpListener, SocketOptions),
    /// A Unix socket listener and its path (removed when the listener stops).
    Unix(tokio::net::UnixListener, std::path::PathBuf),
}

/// Binds `address` (an IP literal or a path; `tls://`, `ws://` and `wss://` bind TCP, their
/// listener does the TLS and the upgrade);
/// returns the socket and the address actually bound (port 0 resolved).
/// Unix socket files get permissions `mode`.
pub async fn bind(
    address: &Address,
    options: SocketOptions,
    mode: u32,
) -> io::Result<(Bound, Address)> {
    match address {
        Address::Tcp(hp)
        | Address::Tls(hp)
        | Address::Nats(hp)
        | Address::Ws { at: hp, .. }
        | Address::Wss { at: hp, .. } => {
            let addr = hp.socket_addr().ok_or_else(|| unresolved(address))?;
            let listener = tokio::net::TcpListener::bind(addr).await?;
            let local = listener.local_addr()?;
            Ok((
                Bound::Tcp(listener, options),
                address.with_socket_addr(local),
            ))
        }
        Address::Unix(path) => {
            let listener = tokio::net::UnixListener::bind(path)?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
            Ok((Bound::Unix(listener, path.clone()), address.clone()))
        }
        Address::Udp(_) => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "udp:// is not a stream transport",
        )),
    }
}

/// A host name reached a bind: names are resolved before (the server does it at start).
pub(crate) fn unresolved(address: &Address) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{address}: resolve the host name before binding"),
    )
}

fn accept_stream(bound: Bound) -> BoxStream<'static, io::Result<(AcceptedStream, Peer)>> {
    match bound {
        Bound::Tcp(listener, options) => stream::unfold(listener, move |listener| async move {
            let accepted = listener.accept().await.and_then(|(stream, addr)| {
                options.apply(&stream)?;
                Ok((AcceptedStream::Tcp(stream), Peer::Ip(addr)))
            });
            Some((accepted, listener))
        })
        .boxed(),
        Bound::Unix(listener, _) => stream::unfold(listener, |listener| async move {
            let accepted = listener.accept().await.map(|(stream, _)| {
                let uid = stream.peer_cred().ok().map(|cred| cred.uid());
                (AcceptedStream::Unix(stream), Peer::Unix { uid })
            });
            Some((accepted, listener))
        })
        .boxed(),
    }
}

/// How long after a burst of closes the allocator is trimmed.
const TRIM_DELAY: std::time::Duration = std::time::Duration::from_millis(500);

/// A connection of this listener has closed (so its place counts no more).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(crate) struct ConnectionClosed {
    pub(crate) ip: Option<IpAddr>,
}

/// Accepts streams on one address and starts a [`Connection`] for each admitted peer.
pub struct Listener {
    address: Address,
    bound: Option<Bound>,
    unix_path: Option<std::path::PathBuf>,
    io_threads: Vec<ArbiterHandle>,
    next: usize,
    shared: Arc<ConnectionShared>,
    stats: TransportStats,
    conns: OpenConnections,
    /// Set when supervised: how to tell the supervisor a stop was asked for.
    exit: Option<ExitReporter>,
    /// Set when supervised: where the counts go when this incarnation ends, for the next.
    handover: Option<Arc<Mutex<Option<OpenConnections>>>>,
    /// Where connections report that they closed (this incarnation, unless supervised).
    on_close: Option<Recipient<ConnectionClosed>>,
    /// When to give closed connections' memory back to the operating system.
    free_memory: hubwire_core::stream::FreeMemory,
    /// For `ws://` and `wss://`: what an upgrade request must satisfy.
    websocket: Option<Arc<UpgradeSettings>>,
    /// Refused peers still in the handshake that lets them read why.
    answering: Places,
}

/// The connections a listener has open, in all and per peer address (for its limits). They
/// outlive an incarnation of the listener, so a restarted one takes them over.
#[derive(Debug, Default)]
pub(crate) struct OpenConnections {
    open: usize,
    per_ip: HashMap<IpAddr, usize>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        // Runs also when the incarnation is killed: its successor must still count the
        // connections it leaves open.
        if let Some(slot) = &self.handover {
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(std::mem::take(&mut self.conns));
            }
        }
    }
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("address", &self.address)
            .field("open", &self.conns.open)
            .finish_non_exhaustive()
    }
}

impl Listener {
    /// A listener over an already-bound socket.
    pub fn new(
        address: Address,
        bound: Bound,
        io_threads: Vec<ArbiterHandle>,
        shared: Arc<ConnectionShared>,
    ) -> Self {
        let unix_path = match &bound {
            Bound::Unix(_, path) => Some(path.clone()),
            Bound::Tcp(..) => None,
        };
        let stats = shared.transport_stats(address.scheme());
        let websocket = address.web_path().map(|path| {
            Arc::new(UpgradeSettings {
                origins: shared.ws_origins.clone(),
                path: path.to_owned(),
                max_frame: shared.limits.max_frame,
            })
        });
        Listener {
            websocket,
            answering: Places::default(),
            address,
            bound: Some(bound),
            unix_path,
            io_threads,
            next: 0,
            shared,
            stats,
            conns: OpenConnections::default(),
            exit: None,
            handover: None,
            on_close: None,
            free_memory: Default::default(),
        }
    }

    /// A supervised listener: it takes over the counts its predecessor left in `handover` (and
    /// leaves its own there), and its connections report closing to `relay`, which reaches
    /// whichever incarnation is running then.
    pub(crate) fn handing_over(
        mut self,
        handover: Arc<Mutex<Option<OpenConnections>>>,
        relay: Recipient<ConnectionClosed>,
    ) -> Self {
        if let Some(conns) = handover.lock().ok().and_then(|mut slot| slot.take()) {
            self.conns = conns;
        }
        self.handover = Some(handover);
        self.on_close = Some(relay);
        self
    }

    /// A supervised listener: it reports a requested stop as a normal end.
    pub fn reporting_to(mut self, exit: ExitReporter) -> Self {
        self.exit = Some(exit);
        self
    }

    /// A place to tell a refused `peer` why, or `None` (its socket is just closed) when
    /// [`MAX_ANSWERING`] refusals are being answered.
    fn answer_place(&self, peer: &Peer) -> Option<Place> {
        let place = self.answering.take(MAX_ANSWERING);
        if place.is_none() {
            tracing::debug!(%peer, "refused peers answered at the bound: closed");
        }
        place
    }

    /// Why `peer` may not connect now, if it may not.
    fn refusal(&self, peer: &Peer) -> Option<(ErrorCode, String)> {
        if !peer.allowed_by(&self.shared.allow) {
            self.stats.denied.inc();
            tracing::warn!(address = %self.address, %peer, "peer denied by the allow-list");
            let message = format!("{peer} is not on this server's allow-list");
            return Some((ErrorCode::Denied, message));
        }
        let limits = &self.shared.limits;
        let per_ip = peer
            .ip()
            .map_or(0, |ip| self.conns.per_ip.get(&ip).copied().unwrap_or(0));
        let message = if self.conns.open >= limits.max_connections {
            format!(
                "this listener holds {} connections, the most allowed; try again later",
                self.conns.open
            )
        } else if per_ip >= limits.max_connections_per_peer {
            format!("{peer} already holds {per_ip} connections here, the most allowed per peer")
        } else {
            return None;
        };
        self.stats.refused.inc();
        tracing::warn!(address = %self.address, %peer, %message, "connection refused");
        Some((ErrorCode::Busy, message))
    }
}

impl Listener {
    /// Counts an admitted peer; the I/O thread its connection goes to, and where it reports
    /// closing.
    fn admit(
        &mut self,
        peer: &Peer,
        ctx: &mut Context<Self>,
    ) -> (ArbiterHandle, Recipient<ConnectionClosed>) {
        self.conns.open += 1;
        if let Some(ip) = peer.ip() {
            *self.conns.per_ip.entry(ip).or_default() += 1;
        }
        self.stats.accepted.inc();
        let thread = self.io_threads[self.next % self.io_threads.len()].clone();
        self.next = self.next.wrapping_add(1);
        let on_close = self
            .on_close
            .clone()
            .unwrap_or_else(|| ctx.address().recipient());
        (thread, on_close)
    }

    /// A socket of a `tls://` listener: refused or admitted as any other, on its address (a
    /// refused peer still gets a handshake, to read why), then its handshake runs on the
    /// connection's I/O thread.
    fn accept_tls(
        &mut self,
        socket: tokio::net::TcpStream,
        addr: std::net::SocketAddr,
        peer: Peer,
        ctx: &mut Context<Self>,
    ) {
        let pending = match PendingTls::new(socket, addr, &self.shared) {
            Ok(pending) => pending,
            Err(e) => return tracing::warn!(%peer, error = %e, "cannot hand over a stream"),
        };
        if let Some((code, message)) = self.refusal(&peer) {
            if let Some(place) = self.answer_place(&peer) {
                pending.refuse(code, message, place);
            }
            return;
        }
        let (thread, on_close) = self.admit(&peer, ctx);
        pending.start_on(&thread, self.shared.clone(), on_close, self.stats.clone());
    }
}

impl Listener {
    /// A socket of a `ws://` or `wss://` listener: refused or admitted as any other, on its
    /// address (a refused peer still gets the upgrade, to read why), then its upgrade runs on
    /// the connection's I/O thread.
    fn accept_websocket(
        &mut self,
        socket: tokio::net::TcpStream,
        addr: std::net::SocketAddr,
        peer: Peer,
        settings: Arc<UpgradeSettings>,
        ctx: &mut Context<Self>,
    ) {
        let tls = self.address.uses_tls();
        let pending = match PendingWebSocket::new(socket, addr, tls, settings, &self.shared) {
            Ok(pending) => pending,
            Err(e) => return tracing::warn!(%peer, error = %e, "cannot hand over a stream"),
        };
        if let Some((code, message)) = self.refusal(&peer) {
            if let Some(place) = self.answer_place(&peer) {
                pending.refuse(code, message, place);
            }
            return;
        }
        let (thread, on_close) = self.admit(&peer, ctx);
        pending.start_on(&thread, self.shared.clone(), on_close, self.stats.clone());
    }

    /// A socket of a `nats://` listener: refused with a NATS `-ERR`, or admitted as any other
    /// and served by a [`NatsConnection`](super::NatsConnection).
    fn accept_nats(&mut self, socket: tokio::net::TcpStream, peer: Peer, ctx: &mut Context<Self>) {
        if let Some((code, message)) = self.refusal(&peer) {
            let text = match code {
                ErrorCode::Denied => "Authorization Violation".to_owned(),
                _ => format!("maximum connections exceeded: {message}"),
            };
            let mut line = bytes::BytesMut::new();
            hubwire_core::nats::write_err(&mut line, &text);
            let mut socket = socket;
            actix::spawn(async move {
                let _ = socket.write_all(&line).await.and(socket.shutdown().await);
            });
            return;
        }
        let listening = match socket.local_addr() {
            Ok(addr) => addr,
            Err(e) => return tracing::warn!(%peer, error = %e, "cannot read a local address"),
        };
        if self.shared.nats.tls_required {
            let Peer::Ip(addr) = peer else {
                return tracing::warn!(%peer, "a nats:// peer without an address");
            };
            let pending =
                match super::nats::PendingNatsTls::new(socket, addr, listening, &self.shared) {
                    Ok(pending) => pending,
                    Err(e) => return tracing::warn!(%peer, error = %e, "cannot hand over a stream"),
                };
            let (thread, on_close) = self.admit(&peer, ctx);
            return pending.start_on(&thread, self.shared.clone(), on_close, self.stats.clone());
        }
        let open: OpenStream = match socket.into_std() {
            Ok(std) => Box::new(move || {
                let (rd, wr) = tokio::net::TcpStream::from_std(std)?.into_split();
                Ok((Box::new(rd) as _, Box::new(wr) as _))
            }),
            Err(e) => return tracing::warn!(%peer, error = %e, "cannot hand over a stream"),
        };
        let (thread, on_close) = self.admit(&peer, ctx);
        let stats = self.stats.clone();
        super::NatsConnection::start_on(
            &thread,
            peer,
            self.shared.clone(),
            open,
            on_close,
            stats,
            super::nats::Greeting::New { listening },
        );
    }
}

impl Actor for Listener {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if let Some(bound) = self.bound.take() {
            ctx.add_stream(accept_stream(bound));
        }
        tracing::info!(address = %self.address, "listening");
    }

    fn stopped(&mut self, _ctx: &mut Context<Self>) {
        if let Some(path) = &self.unix_path {
            let _ = std::fs::remove_file(path);
        }
        tracing::info!(address = %self.address, "stopped listening");
    }
}

impl StreamHandler<io::Result<(AcceptedStream, Peer)>> for Listener {
    fn handle(&mut self, accepted: io::Result<(AcceptedStream, Peer)>, ctx: &mut Context<Self>) {
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            // Accept errors (a peer that reset before accept, out of descriptors) concern one
            // peer or a moment; the listener carries on.
            Err(e) => return tracing::warn!(address = %self.address, error = %e, "accept failed"),
        };
        let stream = match (stream, &peer, &self.address) {
            (AcceptedStream::Tcp(socket), Peer::Ip(addr), Address::Tls(_)) => {
                let addr = *addr;
                return self.accept_tls(socket, addr, peer, ctx);
            }
            (AcceptedStream::Tcp(socket), Peer::Ip(addr), _) if self.websocket.is_some() => {
                let (addr, settings) = (*addr, self.websocket.clone().expect("checked"));
                return self.accept_websocket(socket, addr, peer, settings, ctx);
            }
            (AcceptedStream::Tcp(socket), Peer::Ip(_), Address::Nats(_)) => {
                return self.accept_nats(socket, peer, ctx);
            }
            (stream, ..) => stream,
        };
        if let Some((code, message)) = self.refusal(&peer) {
            return stream.refuse(code, message);
        }
        let tls_on_plain = format!(
            "a TLS handshake from {peer} reached the plain listener {}: the client dialled tls:// a tcp:// port (dial tcp://, or listen on tls://)",
            self.address
        );
        let open = match stream.into_open(tls_on_plain) {
            Ok(open) => open,
            Err(e) => return tracing::warn!(%peer, error = %e, "cannot hand over a stream"),
        };
        let (thread, on_close) = self.admit(&peer, ctx);
        let stats = self.stats.clone();
        Connection::start_on(
            &thread,
            peer,
            self.shared.clone(),
            open,
            on_close,
            stats,
            true,
        );
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

impl Handler<ConnectionClosed> for Listener {
    type Result = ();

    fn handle(&mut self, closed: ConnectionClosed, ctx: &mut Context<Self>) {
        if self.free_memory.closed() {
            // Once the burst has settled (its buffers freed on the I/O threads), on a thread
            // of its own: a trim takes milliseconds.
            ctx.run_later(TRIM_DELAY, |listener, _| {
                listener.free_memory.trimmed();
                std::thread::spawn(hubwire_core::stream::return_free_memory);
            });
        }
        self.conns.open = self.conns.open.saturating_sub(1);
        if let Some(ip) = closed.ip {
            if let Some(n) = self.conns.per_ip.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    self.conns.per_ip.remove(&ip);
                }
            }
        }
    }
}

impl Handler<StopChild> for Listener {
    type Result = ();

    /// Stopped by its supervisor: a normal end (the socket closes, a socket file is removed).
    fn handle(&mut self, _: StopChild, ctx: &mut Context<Self>) {
        if let Some(exit) = &self.exit {
            exit.finished();
        }
        ctx.stop();
    }
}
