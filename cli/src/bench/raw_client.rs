//! The lean raw-frame client of the pub/sub benches: a TCP connection to a hub that speaks the
//! CONN handshake, SUBSCRIBE, PING and PUBLISH frames and counts what comes back, with no
//! actors and no typed client in the way.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use hubwire_core::protocol::{
    decode_frame, kind, Envelope, Frame, Hello, Ping, Subscribe, PROTOCOL_VERSION,
};
use hubwire_core::pubsub::Pattern;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::side_by_side::PATIENCE;
use super::{Failure, EXIT_CANNOT_CONNECT};

/// Bytes a subscriber asks the socket for at once.
const READ_CHUNK: usize = 256 * 1024;

/// One raw-frame connection to the hub: a socket and what has been read but not yet decoded.
pub(super) struct Conn {
    /// Written to directly: publishers batch frames into one buffer per write.
    pub stream: TcpStream,
    buf: BytesMut,
}

impl Conn {
    /// Connects and completes the CONN handshake.
    pub async fn connect(addr: SocketAddr) -> std::io::Result<Conn> {
        let stream = tokio::time::timeout(PATIENCE, TcpStream::connect(addr))
            .await
            .map_err(|_| std::io::Error::other("connect timed out"))??;
        stream.set_nodelay(true)?;
        let mut conn = Conn {
            stream,
            buf: BytesMut::with_capacity(READ_CHUNK),
        };
        let hello = Hello {
            version: PROTOCOL_VERSION,
            agent: "hubwire-bench".into(),
            max_frame: 1 << 24,
            max_in_flight: 0,
        };
        conn.send_envelope(&hello).await?;
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
        if self.buf.capacity() - self.buf.len() < READ_CHUNK / 4 {
            self.buf.reserve(READ_CHUNK);
        }
        tokio::time::timeout(patience, self.stream.read_buf(&mut self.buf))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "nothing to read"))?
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

/// A pattern of the bench's own channels (always valid).
pub(super) fn pattern(channel: &str) -> Result<Pattern, Failure> {
    Pattern::parse(channel).map_err(|e| Failure::new(1, format!("pattern {channel}: {e}")))
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
