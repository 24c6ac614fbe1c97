//! The lean raw-frame client of the pub/sub benches: a TCP connection to a hub that speaks the
//! CONN handshake, SUBSCRIBE, PING and PUBLISH frames and counts what comes back, with no
//! actors and no typed client in the way.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use hubwire_core::compression::Algorithm;
use hubwire_core::net::DialOptions;
use hubwire_core::protocol::{
    decode_frame, kind, Envelope, Frame, Hello, Ping, Subscribe, PROTOCOL_VERSION,
};
use hubwire_core::pubsub::Pattern;
use hubwire_core::stream::{handshake, HandshakeOffer};
use hubwire_core::tls::TlsClient;
use hubwire_core::Address;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::side_by_side::PATIENCE;
use super::{Failure, EXIT_CANNOT_CONNECT};

/// Bytes a subscriber asks the socket for at once.
const READ_CHUNK: usize = 256 * 1024;

/// A connection's byte stream: a TCP socket, or TLS, compression or both over one.
pub(super) trait Link: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Link for T {}

/// How a bench client reaches the hub beyond a plain TCP socket.
#[derive(Debug, Clone, Default)]
pub(super) struct Over {
    /// Compression to offer (the hub allows the same).
    pub compression: Vec<Algorithm>,
    /// TLS, trusting this (the hub is dialled as `tls://localhost:PORT`).
    pub tls: Option<TlsClient>,
}

/// One raw-frame connection to the hub: a socket and what has been read but not yet decoded.
pub(super) struct Conn {
    /// Written to directly: publishers batch frames into one buffer per write.
    pub stream: Box<dyn Link>,
    buf: BytesMut,
}

impl Conn {
    /// Connects over `over` and completes the CONN handshake (and COMPRESS, if asked for).
    pub async fn connect_over(addr: SocketAddr, over: &Over) -> std::io::Result<Conn> {
        if over.compression.is_empty() && over.tls.is_none() {
            return Conn::connect(addr).await;
        }
        let address: Address = match &over.tls {
            Some(_) => format!("tls://localhost:{}", addr.port()),
            None => format!("tcp://{addr}"),
        }
        .parse()
        .map_err(std::io::Error::other)?;
        let dial = DialOptions {
            connect_timeout: PATIENCE,
            tls: over.tls.clone(),
            ..DialOptions::default()
        };
        let stream = hubwire_core::net::dial(&address, &dial)
            .await
            .map_err(|e| e.into_io())?;
        let (rd, wr) = tokio::io::split(stream);
        let hello = hello();
        let offer = HandshakeOffer {
            credentials: None,
            compression: &over.compression,
        };
        let done = tokio::time::timeout(PATIENCE, handshake(rd, wr, &hello, offer, 1 << 24, "hub"))
            .await
            .map_err(|_| std::io::Error::other("handshake timed out"))?
            .map_err(|e| std::io::Error::other(format!("{e:?}")))?;
        if done.compression.is_none() && !over.compression.is_empty() {
            return Err(std::io::Error::other(
                "the hub did not agree to compression",
            ));
        }
        let mut buf = done.buf;
        buf.reserve(READ_CHUNK);
        Ok(Conn {
            stream: Box::new(tokio::io::join(done.rd, done.wr)),
            buf,
        })
    }

    /// Connects and completes the CONN handshake.
    pub async fn connect(addr: SocketAddr) -> std::io::Result<Conn> {
        let stream = tokio::time::timeout(PATIENCE, TcpStream::connect(addr))
            .await
            .map_err(|_| std::io::Error::other("connect timed out"))??;
        stream.set_nodelay(true)?;
        let mut conn = Conn {
            stream: Box::new(stream),
            buf: BytesMut::with_capacity(READ_CHUNK),
        };
        conn.send_envelope(&hello()).await?;
        match conn.next_frame(PATIENCE).await? {
            Some(frame) if frame.kind == kind::CONN => Ok(conn),
            other => Err(std::io::Error::other(format!("no CONN answer: {other:?}"))),
        }
    }

    pub async fn send_envelope(&mut self, envelope: &impl Envelope) -> std::io::Result<()> {
        let mut out = BytesMut::new();
        envelope
            .write_frame(&mut out)
            .map_err(std::io::Error::other)?;
        self.stream.write_all(&out).await
    }

    /// The next whole frame, reading if needed; `None` when the hub closed the connection.
    pub async fn next_frame(&mut self, patience: Duration) -> std::io::Result<Option<Frame>> {
        loop {
            if let Some(frame) = self.decoded()? {
                return Ok(Some(frame));
            }
            if self.fill(patience).await? == 0 {
                return Ok(None);
            }
        }
    }

    /// The next whole frame already read, if any.
    pub fn decoded(&mut self) -> std::io::Result<Option<Frame>> {
        decode_frame(&mut self.buf, usize::MAX).map_err(std::io::Error::other)
    }

    /// Reads what the socket has (0: closed), waiting at most `patience`.
    pub async fn fill(&mut self, patience: Duration) -> std::io::Result<usize> {
        fill_from(&mut self.stream, &mut self.buf, patience).await
    }

    /// Subscribes (sid 1) and waits for the PONG that says the hub applied it.
    pub async fn subscribe(&mut self, pattern: Pattern) -> std::io::Result<()> {
        self.subscribe_as(1, pattern).await
    }

    /// Subscribes as `sid` and waits for the PONG that says the hub applied it.
    pub async fn subscribe_as(&mut self, sid: u64, pattern: Pattern) -> std::io::Result<()> {
        self.send_envelope(&Subscribe::new(sid, pattern)).await?;
        self.pinged("closed before the subscription was applied")
            .await
    }

    /// Sends a PING and reads up to its PONG (what came before it is passed over): the hub
    /// has applied everything sent before. `closed`: the error if the hub closes first.
    pub async fn pinged(&mut self, closed: &str) -> std::io::Result<()> {
        self.send_envelope(&Ping { nonce: 0 }).await?;
        while let Some(frame) = self.next_frame(PATIENCE).await? {
            if frame.kind == kind::PONG {
                return Ok(());
            }
        }
        Err(std::io::Error::other(closed.to_owned()))
    }
}

fn hello() -> Hello {
    Hello {
        version: PROTOCOL_VERSION,
        agent: "hubwire-bench".into(),
        max_frame: 1 << 24,
        max_in_flight: 0,
    }
}

/// A pattern of the bench's own channels (always valid).
pub(super) fn pattern(channel: &str) -> Result<Pattern, Failure> {
    Pattern::parse(channel).map_err(|e| Failure::new(1, format!("pattern {channel}: {e}")))
}

/// Reads what `stream` has onto `buf` (0: closed), waiting at most `patience`; `buf` grows by
/// [`READ_CHUNK`] when less than a quarter of that is free. Shared by the bench's lean clients.
pub(super) async fn fill_from(
    stream: &mut (impl AsyncRead + Unpin + ?Sized),
    buf: &mut BytesMut,
    patience: Duration,
) -> std::io::Result<usize> {
    if buf.capacity() - buf.len() < READ_CHUNK / 4 {
        buf.reserve(READ_CHUNK);
    }
    tokio::time::timeout(patience, stream.read_buf(buf))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "nothing to read"))?
}

pub(super) fn cannot_connect(e: std::io::Error) -> Failure {
    Failure::new(EXIT_CANNOT_CONNECT, format!("the hub: {e}"))
}

/// Waits for PONGs; returns how many came (at least one).
pub(super) async fn pongs(conn: &mut Conn) -> std::io::Result<usize> {
    let mut count = 0;
    while count == 0 {
        if conn.fill(PATIENCE).await? == 0 {
            return Err(std::io::Error::other("the hub closed the publisher"));
        }
        while let Some(frame) = conn.decoded()? {
            count += usize::from(frame.kind == kind::PONG);
        }
    }
    Ok(count)
}
