//! The lean NATS client of `hubwire bench pubsub --via-nats` and `bench rpc --via-nats`: a TCP
//! connection that speaks CONNECT, SUB, PUB, PING and PONG and reads MSG and HMSG in place,
//! with no client library in the way, the NATS counterpart of `raw_client.rs`.
//!
//! Why: on a 2-core machine the `async-nats` client spends about 0.46 µs per message it
//! receives, four fifths of the CPU of a pub/sub row; the server, hub or nats-server, gets the
//! rest. Rows measured with it say how fast that client is. With this one the servers are what
//! is measured, as `nats bench` (the Go client) measures nats-server.

use std::ops::Range;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::raw_client::fill_from;
use super::side_by_side::PATIENCE;

/// The longest control line read (nats-server's default `max_control_line`).
const MAX_LINE: usize = 4096;

/// What the client says in CONNECT: no +OK, no headers asked for (so no no-responders
/// status messages either), its own messages echoed as a NATS client's are by default.
const CONNECT: &[u8] = b"CONNECT {\"verbose\":false,\"pedantic\":false,\"lang\":\"hubwire-bench\",\
\"version\":\"1\",\"protocol\":1,\"echo\":true}\r\nPING\r\n";

/// One operation the server sent, as ranges of the connection's buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Op {
    /// MSG or HMSG: the subscription it is for, its reply subject and its payload (headers
    /// included for HMSG).
    Msg {
        sid: u64,
        reply: Option<Range<usize>>,
        payload: Range<usize>,
    },
    Ping,
    Pong,
    Ok,
    /// `-ERR` with its text.
    Err(String),
    /// INFO (the server's, or an update): passed over.
    Info,
}

/// An operation whole in the buffer, and the bytes it takes there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Parsed {
    pub op: Op,
    pub len: usize,
}

/// Reads the operation at the start of `buf`: `None` if it is not all there yet; an error for
/// what no server sends.
pub(super) fn parse(buf: &[u8]) -> std::io::Result<Option<Parsed>> {
    let Some(end) = buf.iter().take(MAX_LINE).position(|&b| b == b'\n') else {
        return match buf.len() >= MAX_LINE {
            true => Err(bad("a control line longer than 4096 bytes")),
            false => Ok(None),
        };
    };
    let line = buf[..end].strip_suffix(b"\r").unwrap_or(&buf[..end]);
    let after = end + 1;
    let op = match line.split(|&b| b == b' ').next().unwrap_or_default() {
        b"MSG" => return message(buf, line, after, false),
        b"HMSG" => return message(buf, line, after, true),
        b"PING" => Op::Ping,
        b"PONG" => Op::Pong,
        b"+OK" => Op::Ok,
        b"-ERR" => Op::Err(String::from_utf8_lossy(&line[4..]).trim().to_owned()),
        b"INFO" => Op::Info,
        _ => return Err(bad("an operation no NATS server sends")),
    };
    Ok(Some(Parsed { op, len: after }))
}

/// `MSG <subject> <sid> [reply] <size>` or `HMSG <subject> <sid> [reply] <hsize> <size>`, with
/// the payload and its CRLF after the line.
fn message(
    buf: &[u8],
    line: &[u8],
    after: usize,
    headers: bool,
) -> std::io::Result<Option<Parsed>> {
    let mut fields = [(0, 0); 6];
    let mut count = 0;
    let mut start = 0;
    for (at, &b) in line.iter().chain([&b' ']).enumerate() {
        if b == b' ' || b == b'\t' {
            if at > start {
                *fields.get_mut(count).ok_or_else(|| bad("a MSG line"))? = (start, at);
                count += 1;
            }
            start = at + 1;
        }
    }
    let sizes = 1 + usize::from(headers);
    if count < 3 + sizes || count > 4 + sizes {
        return Err(bad("a MSG line"));
    }
    let field = |n: usize| &line[fields[n].0..fields[n].1];
    let sid = number(field(2))?;
    let reply = (count == 4 + sizes).then(|| fields[3].0..fields[3].1);
    let size = number(field(count - 1))? as usize;
    if headers && number(field(count - 2))? > size as u64 {
        return Err(bad("headers longer than the message"));
    }
    let end = after + size;
    if buf.len() < end + 2 {
        return Ok(None);
    }
    if &buf[end..end + 2] != b"\r\n" {
        return Err(bad("a payload not ended by CRLF"));
    }
    Ok(Some(Parsed {
        op: Op::Msg {
            sid,
            reply,
            payload: after..end,
        },
        len: end + 2,
    }))
}

fn number(digits: &[u8]) -> std::io::Result<u64> {
    if digits.is_empty() || digits.len() > 18 {
        return Err(bad("a number"));
    }
    digits.iter().try_fold(0u64, |n, &d| match d {
        b'0'..=b'9' => Ok(n * 10 + u64::from(d - b'0')),
        _ => Err(bad("a number")),
    })
}

fn bad(what: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("the server sent {what}"),
    )
}

/// One connection: the socket and what has been read but not yet taken.
pub(super) struct LeanNats {
    stream: TcpStream,
    buf: BytesMut,
}

impl LeanNats {
    /// Connects to `url` (`nats://HOST:PORT`), reads INFO, sends CONNECT and waits for the PONG
    /// that says the server took it.
    pub async fn connect(url: &str) -> std::io::Result<LeanNats> {
        let Some(at) = url.strip_prefix("nats://") else {
            return Err(std::io::Error::other(format!(
                "the lean NATS client dials nats://HOST:PORT only, not {url}"
            )));
        };
        let stream = tokio::time::timeout(PATIENCE, TcpStream::connect(at))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect"))??;
        stream.set_nodelay(true)?;
        let mut conn = LeanNats {
            stream,
            buf: BytesMut::new(),
        };
        match conn.next(PATIENCE).await? {
            Some(Op::Info) => {}
            _ => return Err(std::io::Error::other("the server sent no INFO")),
        }
        conn.send(CONNECT).await?;
        conn.until_pong().await?;
        Ok(conn)
    }

    /// Writes `bytes` whole.
    pub async fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes).await
    }

    /// Subscribes to `subject` as `sid` and waits for the PONG that says the server applied it.
    pub async fn subscribe(&mut self, subject: &str, sid: u64) -> std::io::Result<()> {
        self.send(format!("SUB {subject} {sid}\r\nPING\r\n").as_bytes())
            .await?;
        self.until_pong().await
    }

    /// Reads up to the next PONG, answering PINGs; an -ERR or the end of the stream first is
    /// an error.
    async fn until_pong(&mut self) -> std::io::Result<()> {
        loop {
            match self.next(PATIENCE).await? {
                Some(Op::Pong) => return Ok(()),
                Some(Op::Err(text)) => return Err(std::io::Error::other(format!("-ERR {text}"))),
                None => return Err(std::io::Error::other("the server closed the connection")),
                Some(_) => {}
            }
        }
    }

    /// The next operation, reading for at most `patience` at a time; `None` when the server
    /// closed. PINGs are answered, MSG payloads are passed over (use [`Self::parsed`] to read
    /// them).
    async fn next(&mut self, patience: Duration) -> std::io::Result<Option<Op>> {
        loop {
            if let Some(parsed) = self.parsed()? {
                self.consume(&parsed);
                if parsed.op == Op::Ping {
                    self.send(b"PONG\r\n").await?;
                }
                return Ok(Some(parsed.op));
            }
            if self.fill(patience).await? == 0 {
                return Ok(None);
            }
        }
    }

    /// The next whole operation already read, left in the buffer.
    pub fn parsed(&self) -> std::io::Result<Option<Parsed>> {
        parse(&self.buf)
    }

    /// The bytes of `range` of the buffer (a range of the last [`Parsed`], before it is
    /// consumed).
    pub fn bytes(&self, range: Range<usize>) -> &[u8] {
        &self.buf[range]
    }

    /// Takes `parsed` out of the buffer.
    pub fn consume(&mut self, parsed: &Parsed) {
        self.buf.advance(parsed.len);
    }

    /// Reads what the socket has (0: closed), waiting at most `patience`.
    pub async fn fill(&mut self, patience: Duration) -> std::io::Result<usize> {
        fill_from(&mut self.stream, &mut self.buf, patience).await
    }
}

#[cfg(test)]
#[path = "lean_nats_tests.rs"]
mod tests;
