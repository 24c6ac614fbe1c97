//! One live connection of a client: a writer task, a reader task, and the calls in flight.
//!
//! On a stream, calls encode their frames straight into the connection's outbound buffer and a
//! writer task writes everything queued in one go; over UDP each frame is a datagram of its own.
//! The reader matches replies to calls by id. When the connection ends every call in flight
//! fails with connection-lost, and the next call opens a new connection.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;

use super::pending::{Pending, ReplyReceiver};
use super::{CallError, ClientOptions};
use crate::Address;

/// The largest UDP payload over IPv4.
const MAX_DATAGRAM: usize = 65_507;
use crate::protocol::{
    decode_datagram, kind, Cancel, Disconnect, Envelope, ErrorCode, ErrorFrame, Frame, Headers,
    Hello, Ping, Pong, ProtocolError, Request, Response, LENGTH_BYTES, PROTOCOL_VERSION,
};
use crate::stream::{
    handshake, read_one_frame, HandshakeError, HandshakeOffer, Handshaken, Outbound,
};

/// Bytes read per read call at least.
const READ_CHUNK_BYTES: usize = 64 * 1024;

/// Where a connection's frames go.
enum Sink {
    /// A stream's outbound buffer (frames are encoded into it in place).
    Stream(Arc<Outbound>),
    /// A UDP socket's sender task: one frame per datagram.
    Datagram(mpsc::UnboundedSender<Bytes>),
}

impl Sink {
    fn is_closed(&self) -> bool {
        match self {
            Sink::Stream(outbound) => !outbound.is_open(),
            Sink::Datagram(writes) => writes.is_closed(),
        }
    }

    /// Queues an envelope that expects no reply.
    fn send_envelope(&self, envelope: &impl Envelope) {
        match self {
            Sink::Stream(outbound) => {
                let _ = outbound.lock().push_envelope(envelope);
            }
            Sink::Datagram(writes) => {
                if let Ok(frame) = envelope.to_frame_bytes() {
                    let _ = writes.send(frame);
                }
            }
        }
    }
}

/// A call on its way: where its reply arrives, and its frame if it may be sent again.
pub(crate) struct Sent {
    /// Completed by the reader.
    pub(crate) reply: ReplyReceiver,
    /// The whole frame, kept only for a resend over UDP.
    pub(crate) resend: Option<Bytes>,
}

/// A connection that finished its handshake.
pub(crate) struct Live {
    sink: Sink,
    pending: Arc<Pending>,
    /// What the server said in its CONN frame.
    pub(crate) server: Hello,
    reader: tokio::task::JoinHandle<()>,
    /// Times out the calls past their deadline.
    sweeper: tokio::task::JoinHandle<()>,
    /// Whether frames travel as datagrams (which may be lost, so idempotent calls are resent).
    pub(crate) datagram: bool,
}

impl Drop for Live {
    fn drop(&mut self) {
        self.reader.abort();
        self.sweeper.abort();
        if let Sink::Stream(outbound) = &self.sink {
            // The writer writes what is queued, then shuts the write side down.
            outbound.lock().close();
        }
        self.pending.close("client dropped the connection");
    }
}

impl Live {
    /// Whether the connection has ended (the next call must open a new one).
    pub(crate) fn is_closed(&self) -> bool {
        self.pending.is_closed() || self.sink.is_closed()
    }

    /// Registers call `id`, due by `deadline` (`timeout` after it was made), and queues its
    /// REQUEST frame; the frame is kept for resending only when `keep_frame` (and the transport
    /// is UDP).
    pub(crate) fn send(
        &self,
        id: u64,
        route: &str,
        headers: &Headers,
        body: &[u8],
        (deadline, timeout): (tokio::time::Instant, Duration),
        keep_frame: bool,
    ) -> Result<Sent, CallError> {
        let (reply, waiting) = self.pending.register(id, deadline, timeout)?;
        let max = self.server.max_frame as usize;
        // Encoded once, where it goes; one the server would refuse is taken back out.
        let write = |out: &mut BytesMut| -> Result<(), CallError> {
            let start = out.len();
            Request::write_frame_parts(out, id, route, headers, body)?;
            let length = out.len() - start - LENGTH_BYTES;
            if length > max {
                return Err(CallError::TooLarge { size: length, max });
            }
            Ok(())
        };
        let mut resend = None;
        let queued = match &self.sink {
            Sink::Stream(outbound) => {
                let mut queue = outbound.lock();
                let queued = queue.push_with(write);
                // The only call in flight (one synchronous caller): written now, sparing the
                // writer task a wake-up; calls made together still share the writer's write.
                if waiting == 1 {
                    queue.flush_now();
                }
                queued
            }
            Sink::Datagram(writes) => {
                let mut frame = BytesMut::new();
                write(&mut frame).map(|()| {
                    let frame = frame.freeze();
                    if keep_frame {
                        resend = Some(frame.clone());
                    }
                    writes.send(frame).is_ok()
                })
            }
        };
        match queued {
            Ok(true) => Ok(Sent { reply, resend }),
            Ok(false) => {
                self.pending.forget(id);
                Err(CallError::ConnectionLost {
                    reason: "the connection's writer has stopped".into(),
                })
            }
            Err(e) => {
                self.pending.forget(id);
                Err(e)
            }
        }
    }

    /// Sends a frame again (an idempotent call over UDP).
    pub(crate) fn resend(&self, frame: Bytes) {
        if let Sink::Datagram(writes) = &self.sink {
            let _ = writes.send(frame);
        }
    }

    /// Gives up on call `id`: its reply, if it comes, is dropped, and the server is told.
    pub(crate) fn cancel(&self, id: u64) {
        self.pending.forget(id);
        self.sink.send_envelope(&Cancel { id });
    }
}

/// Runs the CONN handshake over `stream`, connected to `address`, and starts its reader and
/// writer tasks.
pub(crate) async fn open<S>(
    stream: S,
    address: &Address,
    options: &ClientOptions,
) -> Result<Live, CallError>
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (rd, wr) = tokio::io::split(stream);
    let hello = Hello {
        version: PROTOCOL_VERSION,
        agent: options.agent.clone(),
        max_frame: options.max_frame as u32,
        max_in_flight: 0,
    };
    let offer = HandshakeOffer {
        credentials: options.credentials.as_ref(),
        compression: crate::compression::offer_for(address, &options.compression),
    };
    let Handshaken {
        hello: server,
        rd,
        wr,
        buf,
        ..
    } = handshake(rd, wr, &hello, offer, options.max_frame, "server")
        .await
        .map_err(|e| match e {
            HandshakeError::Refused { code, message } => CallError::Remote { code, message },
            // Not connected yet, so not sent: the same failure as a refused connect.
            HandshakeError::Lost(source) => CallError::Connect {
                address: address.clone(),
                source,
            },
            HandshakeError::Protocol(e) => CallError::from(e),
        })?;
    let pending = Arc::new(Pending::default());
    let outbound = Arc::new(Outbound::default());
    tokio::spawn(write_loop(wr, outbound.clone(), pending.clone()));
    let reader = tokio::spawn(read_loop(
        rd,
        buf,
        options.max_frame,
        pending.clone(),
        outbound.clone(),
    ));
    Ok(Live {
        sink: Sink::Stream(outbound),
        sweeper: spawn_sweeper(&pending),
        pending,
        server,
        reader,
        datagram: false,
    })
}

/// The connection's deadline sweeper, on the timer thread (so that the caller's event loop
/// carries no timer for its calls).
fn spawn_sweeper(pending: &Arc<Pending>) -> tokio::task::JoinHandle<()> {
    let pending = pending.clone();
    crate::stream::spawn_timer(async move { pending.sweep().await })
}

async fn write_loop<W>(wr: W, outbound: Arc<Outbound>, pending: Arc<Pending>)
where
    W: AsyncWrite + Send + Unpin + 'static,
{
    if let Err(e) = outbound.write_to(wr).await {
        pending.close(&format!("write failed: {e}"));
    }
}

/// Acts on one frame from the server; returns why the connection must end, if it must.
/// `pong` answers a PING.
fn on_frame(frame: Frame, pending: &Pending, pong: impl FnOnce(&Pong)) -> Option<String> {
    match frame.kind {
        kind::RESPONSE => match Response::from_frame(&frame) {
            Ok(resp) => pending.complete(resp.id, Ok(resp)),
            Err(e) => return Some(format!("unreadable RESPONSE: {e}")),
        },
        kind::ERROR => match ErrorFrame::from_frame(&frame) {
            Ok(ErrorFrame {
                id: Some(id),
                code,
                message,
            }) => pending.complete(id, Err(CallError::Remote { code, message })),
            // Refused (a peer that did not authenticate): the server closes next, and the
            // calls waiting fail with its words.
            Ok(err) if err.code == ErrorCode::Denied => {
                pending.refuse_all(err.code, &err.message);
                return Some(format!(
                    "the server refused the connection: {}",
                    err.message
                ));
            }
            // An error about the connection, not a call: if it lost the framing the server
            // closes next, and the close fails the calls; otherwise the connection carries on.
            Ok(err) => {
                tracing::warn!(code = %err.code, message = %err.message, "server reported a connection error")
            }
            Err(e) => return Some(format!("unreadable ERROR: {e}")),
        },
        kind::DISCONN => {
            let why = Disconnect::from_frame(&frame).map_or_else(|e| e.to_string(), |d| d.reason);
            return Some(format!("the server disconnected: {why}"));
        }
        kind::PING => {
            if let Ok(ping) = Ping::from_frame(&frame) {
                pong(&Pong { nonce: ping.nonce });
            }
        }
        // A client ignores kinds it does not know (a newer server's), as the protocol says.
        _ => {}
    }
    None
}

async fn read_loop<R: AsyncRead + Unpin>(
    mut rd: R,
    mut buf: BytesMut,
    max_frame: usize,
    pending: Arc<Pending>,
    outbound: Arc<Outbound>,
) {
    let reason = loop {
        let frame = match read_one_frame(&mut rd, &mut buf, max_frame, READ_CHUNK_BYTES).await {
            Ok(frame) => frame,
            Err(ProtocolError::Io(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break "the server closed the connection".to_owned()
            }
            Err(e) => break e.to_string(),
        };
        let pong = |pong: &Pong| {
            let _ = outbound.lock().push_envelope(pong);
        };
        if let Some(reason) = on_frame(frame, &pending, pong) {
            break reason;
        }
    };
    tracing::debug!(%reason, "client connection ended");
    pending.close(&reason);
}

/// Opens a UDP "connection": a connected socket, a CONN datagram answered by CONN (which checks
/// the version and that someone listens), then one datagram per frame each way.
pub(crate) async fn open_udp(
    server: std::net::SocketAddr,
    options: &ClientOptions,
) -> Result<Live, CallError> {
    let local: std::net::SocketAddr = if server.is_ipv6() {
        "[::]:0".parse().expect("an address")
    } else {
        "0.0.0.0:0".parse().expect("an address")
    };
    let io = |source| CallError::Connect {
        address: crate::Address::udp(server),
        source,
    };
    let socket = Arc::new(tokio::net::UdpSocket::bind(local).await.map_err(io)?);
    socket.connect(server).await.map_err(io)?;
    let hello = Hello {
        version: PROTOCOL_VERSION,
        agent: options.agent.clone(),
        max_frame: options.max_frame.min(MAX_DATAGRAM) as u32,
        max_in_flight: 0,
    };
    socket.send(&hello.to_frame_bytes()?).await.map_err(io)?;
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    let server_hello = loop {
        let n = socket.recv(&mut buf).await.map_err(io)?;
        let Ok(frame) = decode_datagram(&buf[..n], MAX_DATAGRAM) else {
            continue;
        };
        match frame.kind {
            kind::CONN => break checked_hello(Hello::from_frame(&frame)?)?,
            kind::ERROR => {
                let err = ErrorFrame::from_frame(&frame)?;
                return Err(CallError::Remote {
                    code: err.code,
                    message: err.message,
                });
            }
            _ => continue,
        }
    };
    let pending = Arc::new(Pending::default());
    let (writes, mut queued) = mpsc::unbounded_channel::<Bytes>();
    let sender = socket.clone();
    let writer_pending = pending.clone();
    tokio::spawn(async move {
        while let Some(frame) = queued.recv().await {
            if let Err(e) = sender.send(&frame).await {
                writer_pending.close(&format!("send failed: {e}"));
                return;
            }
        }
    });
    let weak = writes.downgrade();
    let reader_pending = pending.clone();
    let reader = tokio::spawn(async move {
        let reason = loop {
            let n = match socket.recv(&mut buf).await {
                Ok(n) => n,
                Err(e) => break format!("the server is unreachable: {e}"),
            };
            // A stray or damaged datagram is dropped; the calls it may have answered time out.
            let Ok(frame) = decode_datagram(&buf[..n], MAX_DATAGRAM) else {
                continue;
            };
            let pong = |pong: &Pong| {
                if let (Some(writes), Ok(frame)) = (weak.upgrade(), pong.to_frame_bytes()) {
                    let _ = writes.send(frame);
                }
            };
            if let Some(reason) = on_frame(frame, &reader_pending, pong) {
                break reason;
            }
        };
        reader_pending.close(&reason);
    });
    Ok(Live {
        sink: Sink::Datagram(writes),
        sweeper: spawn_sweeper(&pending),
        pending,
        server: server_hello,
        reader,
        datagram: true,
    })
}

/// The server's CONN, if it speaks this client's protocol version.
fn checked_hello(server: Hello) -> Result<Hello, CallError> {
    if server.version != PROTOCOL_VERSION {
        return Err(CallError::Remote {
            code: ErrorCode::VersionMismatch,
            message: format!(
                "the server speaks protocol version {} and this client {PROTOCOL_VERSION}: use a client and server of the same protocol version",
                server.version
            ),
        });
    }
    Ok(server)
}
