//! The client side of the CONN handshake, shared by the typed client and spokes: send our
//! CONN, read the peer's first frame, and accept only a CONN of our protocol version.

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::auth::Credentials;
use crate::compression::{Algorithm, CompressingWriter, DecompressingReader, Switch};
use crate::protocol::{
    decode_frame, kind, Auth, AuthOk, Compress, Disconnect, Envelope, ErrorCode, ErrorFrame, Frame,
    Hello, ProtocolError, PROTOCOL_VERSION,
};

/// Bytes read at a time while waiting for the peer's CONN.
const READ_CHUNK_BYTES: usize = 8 * 1024;

/// Why a handshake failed.
#[derive(Debug)]
pub enum HandshakeError {
    /// The peer answered with an ERROR frame (denied, busy, ...), or speaks another protocol
    /// version (code `version-mismatch`, the message naming both).
    Refused {
        /// The code.
        code: ErrorCode,
        /// The message.
        message: String,
    },
    /// The connection broke before the peer's CONN came: reset, closed, a broken pipe, or a
    /// DISCONN where the CONN should be (a server shutting down says so to connections still in
    /// their handshake). A failure to connect like a refused one: nothing but our CONN was
    /// sent, and the peer may soon be back.
    Lost(std::io::Error),
    /// The bytes were not a handshake.
    Protocol(ProtocolError),
}

impl From<ProtocolError> for HandshakeError {
    /// A failed read or write is the connection's failure, not the peer's bytes'.
    fn from(e: ProtocolError) -> Self {
        match e {
            ProtocolError::Io(e) => HandshakeError::Lost(e),
            e => HandshakeError::Protocol(e),
        }
    }
}

/// Reads into `buf` (`chunk` bytes of room at a time) until a whole frame is there; the
/// bytes after it stay in `buf`.
pub async fn read_one_frame<R: AsyncRead + Unpin>(
    rd: &mut R,
    buf: &mut BytesMut,
    max_frame: usize,
    chunk: usize,
) -> Result<Frame, ProtocolError> {
    loop {
        if let Some(frame) = decode_frame(buf, max_frame)? {
            return Ok(frame);
        }
        // Only when room runs short: the frames handed out still share the buffer, and a
        // reserve then would allocate a fresh one on every read.
        if buf.capacity() - buf.len() < chunk / 4 {
            buf.reserve(chunk);
        }
        if rd.read_buf(buf).await? == 0 {
            return Err(ProtocolError::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
    }
}

/// The most of a text answer quoted in an error.
const QUOTED_TEXT_CHARS: usize = 60;

/// If `first` (the peer's first bytes, which did not make a frame) is text, the error that says
/// the peer is not a hubwire `peer`, quoting its first line: an HTTP server answers
/// "HTTP/1.1 400 ...", a NATS server "INFO {...}". A hubwire frame starts with a length under
/// the maximum, whose first byte is 0 for any frame under 16 MiB, never printable.
fn not_hubwire(first: &[u8], peer: &str) -> Option<std::io::Error> {
    let head = &first[..first.len().min(4)];
    let printable = |b: &u8| b.is_ascii_graphic() || matches!(b, b' ' | b'\r' | b'\n' | b'\t');
    if head.len() < 4 || !head.iter().all(printable) {
        return None;
    }
    let line = first
        .split(|&b| b == b'\r' || b == b'\n')
        .next()
        .unwrap_or(first);
    let mut quoted: String = String::from_utf8_lossy(line)
        .chars()
        .take(QUOTED_TEXT_CHARS)
        .collect();
    if quoted.len() < line.len() {
        quoted.push_str("...");
    }
    let guess = if line.starts_with(b"HTTP/") {
        " (an HTTP server)"
    } else if line.starts_with(b"INFO ") {
        " (a NATS server)"
    } else {
        ""
    };
    let message = format!(
        "the peer is not a hubwire {peer}: it answered in text, {quoted:?}{guess}; check the \
         address and port"
    );
    Some(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        message,
    ))
}

/// Sends `ours`, then reads the peer's CONN (which `peer` names in messages: "server",
/// "hub"); answers it and the read buffer, which may already hold the frames after it.
pub async fn exchange_hello<R, W>(
    rd: &mut R,
    wr: &mut W,
    ours: &Hello,
    max_frame: usize,
    peer: &str,
) -> Result<(Hello, BytesMut), HandshakeError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    exchange_hello_as(rd, wr, ours, None, max_frame, peer).await
}

/// [`exchange_hello`], authenticating with `credentials` when given: AUTH goes out with CONN
/// in one write, and after the peer's CONN its AUTH_OK is read (an ERROR there, `denied`, is
/// the refusal). Answers the peer's CONN and the read buffer.
pub async fn exchange_hello_as<R, W>(
    rd: &mut R,
    wr: &mut W,
    ours: &Hello,
    credentials: Option<&Credentials>,
    max_frame: usize,
    peer: &str,
) -> Result<(Hello, BytesMut), HandshakeError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let offer = HandshakeOffer {
        credentials,
        compression: &[],
    };
    // Without compression the halves pass bytes through and hold none of their own.
    let done = handshake(rd, wr, ours, offer, max_frame, peer).await?;
    Ok((done.hello, done.buf))
}

/// What a client asks for in its handshake beyond its CONN.
#[derive(Debug, Clone, Copy, Default)]
pub struct HandshakeOffer<'a> {
    /// Credentials for an AUTH.
    pub credentials: Option<&'a Credentials>,
    /// The compression algorithms to offer, in this side's order of preference (empty: none
    /// is asked for, and no COMPRESS is sent).
    pub compression: &'a [Algorithm],
}

/// A client's finished handshake.
#[derive(Debug)]
pub struct Handshaken<R, W> {
    /// The peer's CONN.
    pub hello: Hello,
    /// The read half: decompressing if compression was agreed.
    pub rd: DecompressingReader<R>,
    /// The write half: compressing if compression was agreed.
    pub wr: CompressingWriter<W>,
    /// Bytes already read from `rd` after the handshake (frames to handle first).
    pub buf: BytesMut,
    /// The algorithm agreed on, if any.
    pub compression: Option<Algorithm>,
}

/// The client side of the handshake (protocol.md section 5): CONN, then COMPRESS when
/// `offer` has algorithms (its answer read before anything else is sent, since the bytes after
/// it are compressed), then AUTH when it has credentials.
pub async fn handshake<R, W>(
    mut rd: R,
    mut wr: W,
    ours: &Hello,
    offer: HandshakeOffer<'_>,
    max_frame: usize,
    peer: &str,
) -> Result<Handshaken<R, W>, HandshakeError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let offers = !offer.compression.is_empty();
    let auth = offer.credentials.map(|credentials| Auth {
        credentials: credentials.clone(),
    });
    let mut first_write = BytesMut::new();
    ours.write_frame(&mut first_write)?;
    if offers {
        Compress {
            algorithms: offer
                .compression
                .iter()
                .map(|a| a.name().to_owned())
                .collect(),
        }
        .write_frame(&mut first_write)?;
    } else if let Some(auth) = &auth {
        auth.write_frame(&mut first_write)?;
    }
    wr.write_all(&first_write)
        .await
        .map_err(HandshakeError::Lost)?;
    let (hello, mut buf) = read_hello(&mut rd, max_frame, peer).await?;
    let compression = if offers {
        let answer = read_one_frame(&mut rd, &mut buf, max_frame, READ_CHUNK_BYTES).await?;
        read_choice(&answer, offer.compression, peer)?
    } else {
        None
    };
    let (mut rd, mut wr) = match compression {
        Some(algorithm) => {
            let compressed = |e: crate::compression::CompressionError| {
                HandshakeError::Protocol(ProtocolError::Io(e.into_io()))
            };
            // What was read after the answer is the first of the compressed stream.
            let rd = DecompressingReader::compressed(rd, algorithm, &buf).map_err(compressed)?;
            buf.clear();
            let wr = CompressingWriter::compressed(wr, algorithm).map_err(compressed)?;
            (rd, wr)
        }
        None => (
            DecompressingReader::new(rd, Switch::new()),
            CompressingWriter::new(wr, Switch::new()),
        ),
    };
    if let Some(auth) = &auth {
        if offers {
            let mut frame = BytesMut::new();
            auth.write_frame(&mut frame)?;
            wr.write_all(&frame).await.map_err(HandshakeError::Lost)?;
        }
        let answer = read_one_frame(&mut rd, &mut buf, max_frame, READ_CHUNK_BYTES).await?;
        match answer.kind {
            kind::AUTH_OK => {
                let AuthOk { user } = AuthOk::from_frame(&answer)?;
                tracing::debug!(%user, "authenticated");
            }
            kind::ERROR => {
                let err = ErrorFrame::from_frame(&answer)?;
                return Err(HandshakeError::Refused {
                    code: err.code,
                    message: err.message,
                });
            }
            got => {
                return Err(ProtocolError::UnexpectedKind {
                    expected: kind::AUTH_OK,
                    got,
                }
                .into())
            }
        }
    }
    Ok(Handshaken {
        hello,
        rd,
        wr,
        buf,
        compression,
    })
}

/// The peer's answer to a COMPRESS: the algorithm it chose (one of ours) or none. A server
/// that does not know COMPRESS answers ERROR 103 `unknown-kind`, which is none too.
fn read_choice(
    answer: &Frame,
    offered: &[Algorithm],
    peer: &str,
) -> Result<Option<Algorithm>, HandshakeError> {
    match answer.kind {
        kind::COMPRESS => {
            let Compress { algorithms } = Compress::from_frame(answer)?;
            match algorithms.as_slice() {
                [] => Ok(None),
                [name] => match Algorithm::from_name(name).filter(|a| offered.contains(a)) {
                    Some(algorithm) => Ok(Some(algorithm)),
                    None => Err(HandshakeError::Refused {
                        code: ErrorCode::Protocol,
                        message: format!(
                            "the {peer} chose compression {name:?}, which was not offered"
                        ),
                    }),
                },
                more => Err(HandshakeError::Refused {
                    code: ErrorCode::Protocol,
                    message: format!(
                        "the {peer} answered COMPRESS with {} algorithms instead of one or none",
                        more.len()
                    ),
                }),
            }
        }
        kind::ERROR => {
            let err = ErrorFrame::from_frame(answer)?;
            if err.code == ErrorCode::UnknownKind && err.id.is_none() {
                return Ok(None);
            }
            Err(HandshakeError::Refused {
                code: err.code,
                message: err.message,
            })
        }
        got => Err(ProtocolError::UnexpectedKind {
            expected: kind::COMPRESS,
            got,
        }
        .into()),
    }
}

/// Reads the peer's first frame, which must be a CONN of our protocol version.
async fn read_hello<R: AsyncRead + Unpin>(
    rd: &mut R,
    max_frame: usize,
    peer: &str,
) -> Result<(Hello, BytesMut), HandshakeError> {
    let mut buf = BytesMut::with_capacity(READ_CHUNK_BYTES);
    let first = match read_one_frame(rd, &mut buf, max_frame, READ_CHUNK_BYTES).await {
        Ok(frame) => frame,
        // Text where a frame should be: name the peer rather than the length its bytes make.
        Err(e) => match not_hubwire(&buf, peer) {
            Some(named) => return Err(HandshakeError::Lost(named)),
            None => return Err(e.into()),
        },
    };
    let theirs = match first.kind {
        kind::CONN => Hello::from_frame(&first)?,
        kind::ERROR => {
            let err = ErrorFrame::from_frame(&first)?;
            return Err(HandshakeError::Refused {
                code: err.code,
                message: err.message,
            });
        }
        kind::DISCONN => {
            let why = Disconnect::from_frame(&first)?.reason;
            let message = format!("the {peer} said DISCONN instead of CONN: {why}");
            let aborted = std::io::Error::new(std::io::ErrorKind::ConnectionAborted, message);
            return Err(HandshakeError::Lost(aborted));
        }
        got => {
            return Err(ProtocolError::UnexpectedKind {
                expected: kind::CONN,
                got,
            }
            .into())
        }
    };
    if theirs.version != PROTOCOL_VERSION {
        return Err(HandshakeError::Refused {
            code: ErrorCode::VersionMismatch,
            message: format!(
                "the {peer} speaks protocol version {} and this side {PROTOCOL_VERSION}: use \
                 both ends of the same protocol version",
                theirs.version
            ),
        });
    }
    Ok((theirs, buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_answers_are_named_and_frames_are_not() {
        let http = not_hubwire(
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
            "server",
        )
        .expect("HTTP is text")
        .to_string();
        assert!(http.contains("not a hubwire server"), "{http}");
        assert!(http.contains("\"HTTP/1.1 400 Bad Request\""), "{http}");
        assert!(http.contains("an HTTP server"), "{http}");
        let nats = not_hubwire(b"INFO {\"server_id\":\"x\"}\r\n", "hub")
            .unwrap()
            .to_string();
        assert!(nats.contains("a NATS server"), "{nats}");
        // A frame's length starts with a zero byte; short answers are not judged.
        assert!(not_hubwire(&[0, 0, 0, 9, 0, 1], "server").is_none());
        assert!(not_hubwire(b"HT", "server").is_none());
    }
}
