//! The client side of the CONN handshake, shared by the typed client and spokes: send our
//! CONN, read the peer's first frame, and accept only a CONN of our protocol version.

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::protocol::{
    decode_frame, kind, Disconnect, Envelope, ErrorCode, ErrorFrame, Frame, Hello, ProtocolError,
    PROTOCOL_VERSION,
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
    wr.write_all(&ours.to_frame_bytes()?)
        .await
        .map_err(HandshakeError::Lost)?;
    let mut buf = BytesMut::with_capacity(READ_CHUNK_BYTES);
    let first = read_one_frame(rd, &mut buf, max_frame, READ_CHUNK_BYTES).await?;
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
