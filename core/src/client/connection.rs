//! One live stream connection of a client: a writer task, a reader task, and the calls in flight.
//!
//! Calls hand encoded frames to the writer, which writes everything queued in one go; the reader
//! matches replies to calls by id. When the stream ends every call in flight fails with
//! connection-lost, and the next call opens a new connection.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

use super::{CallError, ClientOptions};

/// The largest UDP payload over IPv4.
const MAX_DATAGRAM: usize = 65_507;
use crate::protocol::{
    decode_datagram, decode_frame, kind, Disconnect, Envelope, ErrorCode, ErrorFrame, Frame, Hello,
    Ping, Pong, ProtocolError, Response, PROTOCOL_VERSION,
};

/// Bytes read per read call at least.
const READ_CHUNK_BYTES: usize = 64 * 1024;

type ReplySender = oneshot::Sender<Result<Response, CallError>>;

/// The calls waiting for replies, and whether the connection has ended.
#[derive(Default)]
struct PendingCalls {
    calls: HashMap<u64, ReplySender>,
    closed: Option<String>,
}

/// Shared by the calls (which register) and the reader (which completes). Plain client code,
/// not actors, so a short-held mutex is the simple, fast choice.
#[derive(Default)]
pub(crate) struct Pending(Mutex<PendingCalls>);

impl Pending {
    fn register(
        &self,
        id: u64,
    ) -> Result<oneshot::Receiver<Result<Response, CallError>>, CallError> {
        let mut state = self.0.lock().expect("pending calls lock");
        if let Some(reason) = &state.closed {
            return Err(CallError::ConnectionLost {
                reason: reason.clone(),
            });
        }
        let (tx, rx) = oneshot::channel();
        state.calls.insert(id, tx);
        Ok(rx)
    }

    fn complete(&self, id: u64, result: Result<Response, CallError>) {
        let sender = self.0.lock().expect("pending calls lock").calls.remove(&id);
        if let Some(sender) = sender {
            let _ = sender.send(result);
        }
    }

    pub(crate) fn forget(&self, id: u64) {
        self.0.lock().expect("pending calls lock").calls.remove(&id);
    }

    fn close(&self, reason: &str) {
        let calls = {
            let mut state = self.0.lock().expect("pending calls lock");
            state.closed.get_or_insert_with(|| reason.to_owned());
            std::mem::take(&mut state.calls)
        };
        for (_, sender) in calls {
            let _ = sender.send(Err(CallError::ConnectionLost {
                reason: reason.to_owned(),
            }));
        }
    }

    fn is_closed(&self) -> bool {
        self.0.lock().expect("pending calls lock").closed.is_some()
    }
}

/// A connection that finished its handshake.
pub(crate) struct Live {
    writes: mpsc::UnboundedSender<Bytes>,
    pending: Arc<Pending>,
    /// What the server said in its CONN frame.
    pub(crate) server: Hello,
    reader: tokio::task::JoinHandle<()>,
    /// Whether frames travel as datagrams (which may be lost, so idempotent calls are resent).
    pub(crate) datagram: bool,
}

impl Drop for Live {
    fn drop(&mut self) {
        self.reader.abort();
        self.pending.close("client dropped the connection");
    }
}

impl Live {
    /// Whether the connection has ended (the next call must open a new one).
    pub(crate) fn is_closed(&self) -> bool {
        self.pending.is_closed() || self.writes.is_closed()
    }

    /// Registers call `id` and queues its frame; the receiver gets the reply.
    pub(crate) fn send(
        &self,
        id: u64,
        frame: Bytes,
    ) -> Result<oneshot::Receiver<Result<Response, CallError>>, CallError> {
        let rx = self.pending.register(id)?;
        if self.writes.send(frame).is_err() {
            self.pending.forget(id);
            return Err(CallError::ConnectionLost {
                reason: "the connection's writer has stopped".into(),
            });
        }
        Ok(rx)
    }

    /// Queues a frame that expects no reply (CANCEL).
    pub(crate) fn send_untracked(&self, frame: Bytes) {
        let _ = self.writes.send(frame);
    }

    pub(crate) fn forget(&self, id: u64) {
        self.pending.forget(id);
    }
}

/// Reads until one whole frame is in `buf`.
async fn read_one_frame<R: AsyncRead + Unpin>(
    rd: &mut R,
    buf: &mut BytesMut,
    max_frame: usize,
) -> Result<Frame, ProtocolError> {
    loop {
        if let Some(frame) = decode_frame(buf, max_frame)? {
            return Ok(frame);
        }
        buf.reserve(READ_CHUNK_BYTES);
        if rd.read_buf(buf).await? == 0 {
            return Err(ProtocolError::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
    }
}

/// Runs the CONN handshake over `stream` and starts its reader and writer tasks.
pub(crate) async fn open<S>(stream: S, options: &ClientOptions) -> Result<Live, CallError>
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (mut rd, mut wr) = tokio::io::split(stream);
    let hello = Hello {
        version: PROTOCOL_VERSION,
        agent: options.agent.clone(),
        max_frame: options.max_frame as u32,
        max_in_flight: 0,
    };
    wr.write_all(&hello.to_frame_bytes()?)
        .await
        .map_err(ProtocolError::Io)?;
    let mut buf = BytesMut::with_capacity(READ_CHUNK_BYTES);
    let first = read_one_frame(&mut rd, &mut buf, options.max_frame).await?;
    let server = match first.kind {
        kind::CONN => checked_hello(Hello::from_frame(&first)?)?,
        kind::ERROR => {
            let err = ErrorFrame::from_frame(&first)?;
            return Err(CallError::Remote {
                code: err.code,
                message: err.message,
            });
        }
        _ => {
            return Err(ProtocolError::UnexpectedKind {
                expected: kind::CONN,
                got: first.kind,
            }
            .into())
        }
    };
    let pending = Arc::new(Pending::default());
    let (writes, queued) = mpsc::unbounded_channel();
    tokio::spawn(write_loop(wr, queued, pending.clone()));
    let reader = tokio::spawn(read_loop(
        rd,
        buf,
        options.max_frame,
        pending.clone(),
        writes.downgrade(),
    ));
    Ok(Live {
        writes,
        pending,
        server,
        reader,
        datagram: false,
    })
}

async fn write_loop<W: AsyncWrite + Unpin>(
    wr: W,
    queued: mpsc::UnboundedReceiver<Bytes>,
    pending: Arc<Pending>,
) {
    if let Err(e) = crate::stream::write_queued(wr, queued).await {
        pending.close(&format!("write failed: {e}"));
    }
}

/// Acts on one frame from the server; returns why the connection must end, if it must.
fn on_frame(
    frame: Frame,
    pending: &Pending,
    writes: &mpsc::WeakUnboundedSender<Bytes>,
) -> Option<String> {
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
            if let (Ok(ping), Some(writes)) = (Ping::from_frame(&frame), writes.upgrade()) {
                if let Ok(pong) = (Pong { nonce: ping.nonce }).to_frame_bytes() {
                    let _ = writes.send(pong);
                }
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
    writes: mpsc::WeakUnboundedSender<Bytes>,
) {
    let reason = loop {
        let frame = match read_one_frame(&mut rd, &mut buf, max_frame).await {
            Ok(frame) => frame,
            Err(ProtocolError::Io(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break "the server closed the connection".to_owned()
            }
            Err(e) => break e.to_string(),
        };
        if let Some(reason) = on_frame(frame, &pending, &writes) {
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
        address: crate::Address::Udp(server),
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
            if let Some(reason) = on_frame(frame, &reader_pending, &weak) {
                break reason;
            }
        };
        reader_pending.close(&reason);
    });
    Ok(Live {
        writes,
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
