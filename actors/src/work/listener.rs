//! The dispatcher's work listener: accepts stream connections (`tcp://`, `tls://`, `unix://`),
//! does the TLS handshake and the CONN handshake (with AUTH on a dispatcher with users, see
//! `security.rs`), and then hands every batch of frames to the dispatcher actor, waiting for it
//! to take each batch (so a flooding peer is read no faster than the dispatcher works).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::Addr;
use bytes::BytesMut;
use futures::{FutureExt, StreamExt};
use hubwire_core::protocol::{kind, AuthOk, Hello};
use hubwire_core::protocol::{Envelope, ErrorCode, ErrorFrame, Frame, FrameCodec, ProtocolError};
use hubwire_core::session::answer_hello;
use hubwire_core::stream::read_one_frame;
use hubwire_core::tls::ServerTls;
use hubwire_core::{Address, AllowList};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::FramedRead;

use super::dispatcher::{Dispatcher, Frames, Joined, Left};
use super::outbox::Outbox;
use super::security::{authenticate, need_tls, tls_handshake, PeerFacts};
use crate::auth::Authenticator;
use crate::transport::places::{Place, Places, MAX_ANSWERING};

/// Time a new connection has to send CONN.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Most frames handed to the dispatcher in one batch.
const MAX_BATCH: usize = 256;

/// What each connection needs to know.
#[derive(Debug, Clone)]
pub(crate) struct ConnSettings {
    pub(crate) agent: String,
    pub(crate) max_connections: usize,
    pub(crate) max_frame: usize,
    pub(crate) max_outbound_bytes: usize,
    /// On a dispatcher with users: the users and the gate that checks their AUTH.
    pub(crate) auth: Option<Authenticator>,
    /// Who may connect at all.
    pub(crate) allow: AllowList,
}

/// A listener bound but not yet serving.
#[derive(Debug)]
pub(crate) enum Bound {
    Tcp(std::net::TcpListener),
    Tls(std::net::TcpListener, Arc<ServerTls>),
    Unix(std::os::unix::net::UnixListener, Address),
}

fn bind_tcp(hp: &hubwire_core::address::HostPort) -> std::io::Result<std::net::TcpListener> {
    let listener = match hp.socket_addr() {
        Some(at) => std::net::TcpListener::bind(at)?,
        None => std::net::TcpListener::bind((hp.host_str(), hp.port))?,
    };
    listener.set_nonblocking(true)?;
    Ok(listener)
}

impl Bound {
    /// Whether only this machine can reach it: a loopback address, or a Unix socket.
    pub(crate) fn is_loopback(&self) -> bool {
        let local = |l: &std::net::TcpListener| l.local_addr().is_ok_and(|a| a.ip().is_loopback());
        match self {
            Bound::Tcp(listener) | Bound::Tls(listener, _) => local(listener),
            Bound::Unix(..) => true,
        }
    }
}

/// Binds `address` (`tcp://`, `tls://` with `tls`, or `unix://`) at once, so a bad address
/// fails the start.
pub(crate) fn bind(address: &Address, tls: Option<&Arc<ServerTls>>) -> std::io::Result<Bound> {
    match address {
        Address::Tcp(hp) => Ok(Bound::Tcp(bind_tcp(hp)?)),
        Address::Tls(hp) => {
            let tls = need_tls(tls)?;
            Ok(Bound::Tls(bind_tcp(hp)?, tls))
        }
        Address::Unix(path) => {
            let _ = std::fs::remove_file(path);
            let listener = std::os::unix::net::UnixListener::bind(path)?;
            listener.set_nonblocking(true)?;
            Ok(Bound::Unix(listener, address.clone()))
        }
        other => Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            format!("a work dispatcher listens on tcp://, tls:// or unix://, not {other}"),
        )),
    }
}

/// Serves a bound listener on the current runtime; the address bound (port 0 resolved).
pub(crate) fn serve_bound(
    bound: Bound,
    dispatcher: Addr<Dispatcher>,
    settings: ConnSettings,
) -> std::io::Result<Address> {
    let ids = Arc::new(AtomicU64::new(1));
    let open = Places::default();
    match bound {
        Bound::Tcp(listener) => {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            let at = listener.local_addr()?;
            tokio::spawn(async move {
                loop {
                    let Ok((stream, from)) = listener.accept().await else {
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let id = ids.fetch_add(1, Ordering::Relaxed);
                    let peer = PeerFacts {
                        ip: Some(from.ip()),
                        ..PeerFacts::default()
                    };
                    admit(
                        id,
                        stream,
                        peer,
                        &open,
                        dispatcher.clone(),
                        settings.clone(),
                    );
                }
            });
            Ok(format!("tcp://{at}")
                .parse()
                .expect("a socket address is an address"))
        }
        Bound::Tls(listener, tls) => {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            let answering = Places::default();
            let at = listener.local_addr()?;
            tokio::spawn(async move {
                loop {
                    let Ok((stream, from)) = listener.accept().await else {
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let id = ids.fetch_add(1, Ordering::Relaxed);
                    let peer = PeerFacts {
                        ip: Some(from.ip()),
                        ..PeerFacts::default()
                    };
                    // Admitted (or refused) on its address before the handshake, which then
                    // holds its connection slot: silent sockets cannot pile up past the bound.
                    let admitted = match admission(&peer, &open, &settings) {
                        Ok(slot) => Ok(slot),
                        // A refused peer gets the handshake to read why, within a bound.
                        Err(refusal) => match answering.take(MAX_ANSWERING) {
                            Some(answering) => Err((refusal, answering)),
                            None => continue,
                        },
                    };
                    let (tls, dispatcher, settings) =
                        (tls.clone(), dispatcher.clone(), settings.clone());
                    // The handshake on its own task: a silent peer holds up no one else.
                    tokio::spawn(async move {
                        let (mut stream, identity) = match tls_handshake(
                            stream,
                            &tls,
                            HANDSHAKE_TIMEOUT,
                        )
                        .await
                        {
                            Ok(done) => done,
                            Err(e) => {
                                return tracing::warn!(peer = %from, error = %e, "work listener: TLS handshake failed");
                            }
                        };
                        let peer = PeerFacts { identity, ..peer };
                        match admitted {
                            Ok(slot) => serve_in(slot, id, stream, peer, dispatcher, settings),
                            Err(((code, message), answering)) => {
                                refuse(&mut stream, code, message).await;
                                drop(answering);
                            }
                        }
                    });
                }
            });
            Ok(format!("tls://{at}")
                .parse()
                .expect("a socket address is an address"))
        }
        Bound::Unix(listener, address) => {
            let listener = tokio::net::UnixListener::from_std(listener)?;
            tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let id = ids.fetch_add(1, Ordering::Relaxed);
                    let peer = PeerFacts {
                        uid: stream.peer_cred().ok().map(|cred| cred.uid()),
                        ..PeerFacts::default()
                    };
                    admit(
                        id,
                        stream,
                        peer,
                        &open,
                        dispatcher.clone(),
                        settings.clone(),
                    );
                }
            });
            Ok(address)
        }
    }
}

/// Whether `peer` may connect now: its place among `max_connections`, or why not (not on the
/// allow-list; ERROR 500 `busy` over `max_connections`).
fn admission(
    peer: &PeerFacts,
    open: &Places,
    settings: &ConnSettings,
) -> Result<Place, (ErrorCode, String)> {
    if !peer.allowed_by(&settings.allow) {
        tracing::warn!(peer = %peer, "work listener: peer denied by the allow-list");
        let message = format!("{peer} is not on this dispatcher's allow-list");
        return Err((ErrorCode::Denied, message));
    }
    open.take(settings.max_connections).ok_or_else(|| {
        let message = format!(
            "this dispatcher holds its maximum of {} connections; try again later",
            settings.max_connections
        );
        (ErrorCode::Busy, message)
    })
}

/// Serves a new connection, or refuses it.
fn admit<S>(
    id: u64,
    stream: S,
    peer: PeerFacts,
    open: &Places,
    dispatcher: Addr<Dispatcher>,
    settings: ConnSettings,
) where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    match admission(&peer, open, &settings) {
        Ok(slot) => serve_in(slot, id, stream, peer, dispatcher, settings),
        Err((code, message)) => refuse_in(stream, code, message),
    }
}

/// Serves an admitted connection on its own task, holding its slot until it ends.
fn serve_in<S>(
    slot: Place,
    id: u64,
    stream: S,
    peer: PeerFacts,
    dispatcher: Addr<Dispatcher>,
    settings: ConnSettings,
) where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (rd, wr) = tokio::io::split(stream);
    tokio::spawn(async move {
        serve(id, peer, rd, wr, dispatcher, settings).await;
        drop(slot);
    });
}

/// Answers a refused connection with its ERROR, then closes it.
fn refuse_in<S>(stream: S, code: ErrorCode, message: String)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (_, mut wr) = tokio::io::split(stream);
    tokio::spawn(async move { refuse(&mut wr, code, message).await });
}

async fn refuse<W: AsyncWrite + Unpin>(wr: &mut W, code: ErrorCode, message: String) {
    let error = ErrorFrame {
        id: None,
        code,
        message,
    };
    if let Ok(bytes) = error.to_frame_bytes() {
        let _ = wr.write_all(&bytes).await;
    }
    let _ = wr.shutdown().await;
}

/// One connection: the handshake, then batches of frames to the dispatcher until the end.
async fn serve<R, W>(
    id: u64,
    peer: PeerFacts,
    mut rd: R,
    mut wr: W,
    dispatcher: Addr<Dispatcher>,
    settings: ConnSettings,
) where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let mut buf = BytesMut::new();
    let first = tokio::time::timeout(
        HANDSHAKE_TIMEOUT,
        read_one_frame(&mut rd, &mut buf, settings.max_frame, 64 * 1024),
    )
    .await;
    let first = match first {
        Ok(Ok(frame)) => frame,
        Ok(Err(e)) => return refuse(&mut wr, e.code(), e.to_string()).await,
        Err(_) => {
            let message = format!("no CONN frame within {HANDSHAKE_TIMEOUT:?}");
            return refuse(&mut wr, ErrorCode::Timeout, message).await;
        }
    };
    if first.kind != kind::CONN {
        let message = format!(
            "expected CONN as the first frame, got {}",
            kind::name(first.kind)
        );
        return refuse(&mut wr, ErrorCode::Protocol, message).await;
    }
    let hello = match Hello::from_frame(&first) {
        Ok(hello) => hello,
        Err(e) => return refuse(&mut wr, ErrorCode::Protocol, format!("bad CONN: {e}")).await,
    };
    match answer_hello(&hello, &settings.agent, settings.max_frame, 0) {
        Ok(ours) => {
            let Ok(bytes) = ours.to_frame_bytes() else {
                return;
            };
            if wr.write_all(&bytes).await.is_err() {
                return;
            }
        }
        Err((code, message)) => return refuse(&mut wr, code, message).await,
    }
    let auth = settings.auth.as_ref();
    let max_frame = settings.max_frame;
    let authenticated = authenticate(
        auth,
        &peer,
        &mut rd,
        &mut wr,
        &mut buf,
        max_frame,
        HANDSHAKE_TIMEOUT,
    )
    .await;
    if let Err((code, message)) = authenticated {
        return refuse(&mut wr, code, message).await;
    }
    let outbox = Outbox::start(wr, settings.max_outbound_bytes);
    let closed = outbox.closed.clone();
    let joined = Joined {
        conn: id,
        name: hello.agent,
        outbox: outbox.clone(),
    };
    if dispatcher.send(joined).await.is_err() {
        return;
    }
    let mut reader = FramedRead::new(
        rd,
        FrameCodec {
            max_frame: settings.max_frame,
        },
    );
    // Whole frames that came with the CONN go first: FramedRead reads the socket before it
    // decodes what it was given, so only a partial frame may be handed to it.
    let mut early = Vec::new();
    loop {
        match hubwire_core::protocol::decode_frame(&mut buf, settings.max_frame) {
            Ok(Some(frame)) => {
                if !answered_auth(&frame, &outbox, settings.auth.is_some()) {
                    early.push(frame);
                }
            }
            Ok(None) => break,
            Err(e) => {
                lost_framing(&outbox, &e);
                dispatcher.do_send(Left { conn: id });
                return;
            }
        }
    }
    reader.read_buffer_mut().extend_from_slice(&buf);
    if !early.is_empty()
        && dispatcher
            .send(Frames {
                conn: id,
                frames: early,
            })
            .await
            .is_err()
    {
        return;
    }
    loop {
        let first = tokio::select! {
            next = reader.next() => next,
            _ = closed.notified() => break,
        };
        let frame = match first {
            Some(Ok(frame)) => frame,
            Some(Err(e)) => {
                lost_framing(&outbox, &e);
                break;
            }
            None => break,
        };
        let has_users = settings.auth.is_some();
        let mut frames: Vec<Frame> = Vec::new();
        if !answered_auth(&frame, &outbox, has_users) {
            frames.push(frame);
        }
        let mut lost = false;
        while frames.len() < MAX_BATCH {
            match reader.next().now_or_never() {
                Some(Some(Ok(frame))) => {
                    if !answered_auth(&frame, &outbox, has_users) {
                        frames.push(frame);
                    }
                }
                Some(Some(Err(e))) => {
                    lost_framing(&outbox, &e);
                    lost = true;
                    break;
                }
                _ => break,
            }
        }
        if frames.is_empty() && !lost {
            continue;
        }
        if dispatcher.send(Frames { conn: id, frames }).await.is_err() || lost {
            break;
        }
    }
    dispatcher.do_send(Left { conn: id });
}

/// An AUTH after the handshake is answered here: on a dispatcher without users it is
/// accepted as it is (AUTH_OK, no user), as the app's listeners do; with users the connection
/// authenticated already, and a second AUTH is a protocol error. True when `frame` was one.
fn answered_auth(frame: &Frame, outbox: &Outbox, has_users: bool) -> bool {
    if frame.kind != kind::AUTH {
        return false;
    }
    if has_users {
        outbox.push(&ErrorFrame {
            id: None,
            code: ErrorCode::Protocol,
            message: "AUTH after the handshake: this connection is authenticated already".into(),
        });
    } else {
        outbox.push(&AuthOk {
            user: String::new(),
        });
    }
    true
}

/// The framing is lost: say why where possible, then close.
fn lost_framing(outbox: &Outbox, e: &ProtocolError) {
    outbox.push(&ErrorFrame {
        id: None,
        code: e.code(),
        message: e.to_string(),
    });
    outbox.close();
}
