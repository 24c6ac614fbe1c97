//! The floor: a bare tokio echo server and a bare pipelined client, with hubwire's framing
//! (`u32 BE length | u16 BE kind | payload`) and nothing else: no MessagePack, no actors, no
//! request ids. What hubwire costs is measured against this.
//!
//! The server has the same thread layout as a hubwire server: one accepting thread and
//! `threads` I/O threads (each a current-thread runtime), connections handed out round-robin.
//! Each connection reads whatever is there, and writes every whole frame of that read back
//! unchanged in one write.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use hubwire_core::protocol::{kind, HEADER_BYTES, LENGTH_BYTES};
use hubwire_core::Address;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::runtime::Handle;
use tokio::sync::watch;

use super::stats::{Sample, Window};

/// Bytes asked for per read at least (as hubwire's reader does).
const READ_CHUNK_BYTES: usize = 64 * 1024;

/// Why bytes are not frames.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct FramingLost {
    /// The length field read.
    pub length: usize,
}

/// The size (header included) of the whole frame at the start of `buf`, or `None` if it is not
/// all there yet. A length field under 2 or over `max_frame` loses the framing.
pub(crate) fn first_frame_len(buf: &[u8], max_frame: usize) -> Result<Option<usize>, FramingLost> {
    if buf.len() < LENGTH_BYTES {
        return Ok(None);
    }
    let length = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    if !(2..=max_frame).contains(&length) {
        return Err(FramingLost { length });
    }
    let whole = LENGTH_BYTES + length;
    Ok((buf.len() >= whole).then_some(whole))
}

/// The bytes taken by the whole frames at the start of `buf` (0 when the first is incomplete).
pub(crate) fn whole_frames_len(buf: &[u8], max_frame: usize) -> Result<usize, FramingLost> {
    let mut used = 0;
    while let Some(len) = first_frame_len(&buf[used..], max_frame)? {
        used += len;
    }
    Ok(used)
}

/// The frame the floor client sends: a REQUEST kind around `size` payload bytes.
pub(crate) fn floor_frame(size: usize) -> Bytes {
    let mut out = BytesMut::with_capacity(HEADER_BYTES + size);
    out.put_u32((2 + size) as u32);
    out.put_u16(kind::REQUEST);
    out.extend((0..size).map(|i| b'a' + (i % 26) as u8));
    out.freeze()
}

/// A stream socket of either transport.
pub(crate) enum Conn {
    Tcp(tokio::net::TcpStream),
    Unix(tokio::net::UnixStream),
}

impl Conn {
    /// Connects to `address` (TCP with TCP_NODELAY, as hubwire's client sets it).
    pub async fn connect(address: &Address) -> std::io::Result<Conn> {
        match address {
            Address::Tcp(_) | Address::Tls(_) => {
                let addr = address.socket_addr().ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::InvalidInput, "an IP literal address")
                })?;
                let stream = tokio::net::TcpStream::connect(addr).await?;
                stream.set_nodelay(true)?;
                Ok(Conn::Tcp(stream))
            }
            Address::Unix(path) => Ok(Conn::Unix(tokio::net::UnixStream::connect(path).await?)),
            Address::Udp(_) | Address::Nats(_) => Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "udp:// is not a stream transport",
            )),
            Address::Ws { .. } | Address::Wss { .. } => Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "the bare echo floor speaks tcp:// and unix:// only",
            )),
        }
    }
}

/// The bare echo server. Dropping it stops every thread and closes every socket.
pub(crate) struct FloorServer {
    /// Where it listens (port resolved).
    pub address: Address,
    stop: Option<watch::Sender<()>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for FloorServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FloorServer")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

enum FloorListener {
    Tcp(tokio::net::TcpListener),
    Unix(tokio::net::UnixListener),
}

impl FloorServer {
    /// Starts a server on `listen` (TCP on loopback or a Unix socket path) with `threads` I/O
    /// threads.
    pub fn start(
        listen: &Address,
        threads: usize,
        max_frame: usize,
    ) -> Result<FloorServer, String> {
        let (stop, stopped) = watch::channel(());
        // Built first, so a failure part way stops and joins what was started.
        let mut server = FloorServer {
            address: listen.clone(),
            stop: Some(stop),
            threads: Vec::new(),
        };
        let mut handles = Vec::new();
        for i in 0..threads.max(1) {
            let (handle_tx, handle_rx) = std::sync::mpsc::channel();
            let mut stopped = stopped.clone();
            let thread = std::thread::Builder::new()
                .name(format!("floor-io-{i}"))
                .spawn(move || {
                    let runtime = match current_thread_runtime() {
                        Ok(rt) => rt,
                        Err(e) => {
                            let _ = handle_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = handle_tx.send(Ok(runtime.handle().clone()));
                    // Dropping the runtime afterwards drops every connection task and socket.
                    runtime.block_on(async move {
                        let _ = stopped.changed().await;
                    });
                })
                .map_err(|e| format!("cannot start a floor server thread: {e}"))?;
            server.threads.push(thread);
            handles.push(
                handle_rx
                    .recv()
                    .map_err(|_| "a floor server thread died".to_owned())??,
            );
        }

        let (bound_tx, bound_rx) = std::sync::mpsc::channel();
        let listen = listen.clone();
        let mut stopped = stopped;
        let thread = std::thread::Builder::new()
            .name("floor-accept".into())
            .spawn(move || {
                let runtime = match current_thread_runtime() {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = bound_tx.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let (listener, address) = match bind(&listen) {
                        Ok(bound) => bound,
                        Err(e) => {
                            let _ = bound_tx.send(Err(format!("cannot listen on {listen}: {e}")));
                            return;
                        }
                    };
                    let _ = bound_tx.send(Ok(address));
                    tokio::select! {
                        () = accept_loop(listener, handles, max_frame) => {}
                        _ = stopped.changed() => {}
                    }
                });
            })
            .map_err(|e| format!("cannot start the floor accept thread: {e}"))?;
        server.threads.push(thread);
        server.address = bound_rx
            .recv()
            .map_err(|_| "the floor accept thread died".to_owned())??;
        Ok(server)
    }
}

impl Drop for FloorServer {
    fn drop(&mut self) {
        drop(self.stop.take());
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

fn current_thread_runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))
}

fn bind(listen: &Address) -> std::io::Result<(FloorListener, Address)> {
    match listen {
        Address::Tcp(_) | Address::Tls(_) => {
            let addr = listen.socket_addr().ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "an IP literal address")
            })?;
            let std = std::net::TcpListener::bind(addr)?;
            std.set_nonblocking(true)?;
            let listener = tokio::net::TcpListener::from_std(std)?;
            let local = listener.local_addr()?;
            Ok((FloorListener::Tcp(listener), Address::tcp(local)))
        }
        Address::Unix(path) => {
            let listener = tokio::net::UnixListener::bind(path)?;
            Ok((FloorListener::Unix(listener), listen.clone()))
        }
        Address::Udp(_) | Address::Nats(_) => Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "udp:// is not a stream transport",
        )),
        Address::Ws { .. } | Address::Wss { .. } => Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "the bare echo floor speaks tcp:// and unix:// only",
        )),
    }
}

/// Accepts connections and starts each on the next I/O thread (the socket moves between
/// runtimes as a std socket, as hubwire's listener does).
async fn accept_loop(listener: FloorListener, threads: Vec<Handle>, max_frame: usize) {
    let mut next = 0usize;
    loop {
        let thread = &threads[next % threads.len()];
        next = next.wrapping_add(1);
        let started = match &listener {
            FloorListener::Tcp(l) => l.accept().await.and_then(|(stream, _)| {
                stream.set_nodelay(true)?;
                let std = stream.into_std()?;
                thread.spawn(async move {
                    if let Ok(stream) = tokio::net::TcpStream::from_std(std) {
                        echo_frames(stream, max_frame).await;
                    }
                });
                Ok(())
            }),
            FloorListener::Unix(l) => l.accept().await.and_then(|(stream, _)| {
                let std = stream.into_std()?;
                thread.spawn(async move {
                    if let Ok(stream) = tokio::net::UnixStream::from_std(std) {
                        echo_frames(stream, max_frame).await;
                    }
                });
                Ok(())
            }),
        };
        if started.is_err() {
            // A peer that reset before accept, or no descriptors left: wait a moment.
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }
}

/// Reads frames and writes every whole frame of each read back unchanged, in one write.
async fn echo_frames<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, max_frame: usize) {
    let mut buf = BytesMut::with_capacity(READ_CHUNK_BYTES);
    loop {
        if buf.capacity() - buf.len() < READ_CHUNK_BYTES / 4 {
            buf.reserve(READ_CHUNK_BYTES);
        }
        match stream.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let Ok(whole) = whole_frames_len(&buf, max_frame) else {
            return;
        };
        if whole > 0 {
            if stream.write_all(&buf[..whole]).await.is_err() {
                return;
            }
            buf.advance(whole);
        }
    }
}

/// Drives one connection: `depth` frames in flight, each reply answered by the next frame at
/// once, until the window closes; then waits for the replies still due.
pub(crate) async fn drive(conn: Conn, frame: Bytes, depth: usize, window: Window) -> Sample {
    match conn {
        Conn::Tcp(stream) => drive_stream(stream, frame, depth, window).await,
        Conn::Unix(stream) => drive_stream(stream, frame, depth, window).await,
    }
}

async fn drive_stream<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    frame: Bytes,
    depth: usize,
    window: Window,
) -> Sample {
    let mut sample = Sample::default();
    // Replies come back in order, so the send times are a queue.
    let mut sent: VecDeque<Instant> = VecDeque::with_capacity(depth);
    let mut out = BytesMut::with_capacity(frame.len() * depth);
    let mut buf = BytesMut::with_capacity(READ_CHUNK_BYTES);
    let max_frame = frame.len();

    let now = Instant::now();
    if window.open(now) {
        for _ in 0..depth {
            out.extend_from_slice(&frame);
            sent.push_back(now);
        }
    }
    while !sent.is_empty() {
        if !out.is_empty() {
            if let Err(e) = stream.write_all(&out).await {
                sample.error(format!("write: {}", e.kind()), sent.len() as u64);
                return sample;
            }
            out.clear();
        }
        if buf.capacity() - buf.len() < READ_CHUNK_BYTES / 4 {
            buf.reserve(READ_CHUNK_BYTES);
        }
        match stream.read_buf(&mut buf).await {
            Ok(0) => {
                sample.error("connection closed", sent.len() as u64);
                return sample;
            }
            Err(e) => {
                sample.error(format!("read: {}", e.kind()), sent.len() as u64);
                return sample;
            }
            Ok(_) => {}
        }
        let now = Instant::now();
        loop {
            let len = match first_frame_len(&buf, max_frame) {
                Ok(Some(len)) => len,
                Ok(None) => break,
                Err(_) => {
                    sample.error("framing lost", sent.len() as u64);
                    return sample;
                }
            };
            let Some(at) = sent.pop_front() else {
                sample.error("unexpected frame", 1);
                return sample;
            };
            if buf[..len] == frame[..] {
                sample.success(&window, now, now - at);
            } else {
                sample.error("wrong reply", 1);
            }
            buf.advance(len);
            if window.open(now) {
                out.extend_from_slice(&frame);
                sent.push_back(now);
            }
        }
    }
    sample
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_frames_are_measured_and_partial_ones_wait() {
        let frame = floor_frame(3);
        assert_eq!(&frame[..], &[0, 0, 0, 5, 0, 16, b'a', b'b', b'c']);
        let mut two = frame.to_vec();
        two.extend_from_slice(&frame);
        assert_eq!(first_frame_len(&two, 1024), Ok(Some(9)));
        assert_eq!(whole_frames_len(&two, 1024), Ok(18));
        assert_eq!(whole_frames_len(&two[..17], 1024), Ok(9));
        assert_eq!(whole_frames_len(&two[..3], 1024), Ok(0));
        assert_eq!(
            first_frame_len(&[0, 0, 0, 1, 0], 1024),
            Err(FramingLost { length: 1 })
        );
        assert_eq!(
            first_frame_len(&[0, 0, 4, 1], 1024),
            Err(FramingLost { length: 1025 })
        );
    }
}
