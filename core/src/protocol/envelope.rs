//! The payload of every frame kind, and how each is written in MessagePack.
//!
//! Every envelope is a MessagePack array with its fields in the order given here (see
//! `docs/protocol.md`); bodies are `bin` and are sliced out of the frame without a copy.

use bytes::{BufMut, Bytes, BytesMut};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::frame::{HEADER_BYTES, LENGTH_BYTES};
use super::{kind, ErrorCode, Frame, Headers, ProtocolError};

/// The protocol version this code speaks, checked at connect.
pub const PROTOCOL_VERSION: u32 = 1;

/// A frame payload with a fixed kind.
pub trait Envelope: Sized {
    /// The frame kind this envelope travels in.
    const KIND: u16;

    /// Writes the payload's MessagePack bytes.
    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError>;

    /// Reads the payload; the whole payload must be used.
    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError>;

    /// Appends the whole frame (header and payload) to `out`.
    fn write_frame(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        let start = out.len();
        out.reserve(HEADER_BYTES + 64);
        out.put_u32(0);
        out.put_u16(Self::KIND);
        if let Err(e) = self.write_payload(out) {
            out.truncate(start);
            return Err(e);
        }
        let length = (out.len() - start - LENGTH_BYTES) as u32;
        out[start..start + LENGTH_BYTES].copy_from_slice(&length.to_be_bytes());
        Ok(())
    }

    /// The whole frame as one buffer.
    fn to_frame_bytes(&self) -> Result<Bytes, ProtocolError> {
        let mut out = BytesMut::new();
        self.write_frame(&mut out)?;
        Ok(out.freeze())
    }

    /// The envelope as a [`Frame`].
    fn to_frame(&self) -> Result<Frame, ProtocolError> {
        let mut out = BytesMut::new();
        self.write_payload(&mut out)?;
        Ok(Frame::new(Self::KIND, out.freeze()))
    }

    /// Reads the envelope from a frame, checking its kind.
    fn from_frame(frame: &Frame) -> Result<Self, ProtocolError> {
        if frame.kind != Self::KIND {
            return Err(ProtocolError::UnexpectedKind {
                expected: Self::KIND,
                got: frame.kind,
            });
        }
        Self::read_payload(&frame.payload)
    }
}

/// Writes any serializable value as MessagePack (structs as arrays).
fn write_msgpack<T: Serialize + ?Sized>(
    value: &T,
    out: &mut BytesMut,
) -> Result<(), ProtocolError> {
    let mut writer = out.writer();
    rmp_serde::encode::write(&mut writer, value).map_err(ProtocolError::Encode)
}

/// Reads a value that must use the payload exactly.
fn read_exact<T: DeserializeOwned>(kind: u16, payload: &[u8]) -> Result<T, ProtocolError> {
    let mut de = rmp_serde::Deserializer::new(std::io::Cursor::new(payload));
    let value = T::deserialize(&mut de).map_err(|source| ProtocolError::Decode { kind, source })?;
    let used = de.position() as usize;
    if used != payload.len() {
        return Err(ProtocolError::TrailingBytes {
            kind,
            count: payload.len() - used,
        });
    }
    Ok(value)
}

/// A body borrowed from `payload`, turned into a slice of it without a copy. The body is the last
/// field of its envelope, so it must end where the payload ends.
fn body_slice(kind: u16, payload: &Bytes, body: &[u8]) -> Result<Bytes, ProtocolError> {
    let end = body.as_ptr() as usize + body.len();
    let payload_end = payload.as_ptr() as usize + payload.len();
    if end != payload_end {
        return Err(ProtocolError::TrailingBytes {
            kind,
            count: payload_end.saturating_sub(end),
        });
    }
    Ok(payload.slice_ref(body))
}

macro_rules! plain_envelope {
    ($ty:ty, $kind:expr) => {
        impl Envelope for $ty {
            const KIND: u16 = $kind;

            fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
                write_msgpack(self, out)
            }

            fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
                read_exact(Self::KIND, payload)
            }
        }
    };
}

/// CONN: the first frame on a stream, from each side. `[version, agent, max_frame, max_in_flight]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// The protocol version the sender speaks ([`PROTOCOL_VERSION`]).
    pub version: u32,
    /// Who is speaking (`"hubwire-client/0.1.0"`), for logs.
    pub agent: String,
    /// The largest frame `length` the sender accepts.
    pub max_frame: u32,
    /// How many requests the sender accepts in flight on this connection (0 for a pure client).
    pub max_in_flight: u32,
}
plain_envelope!(Hello, kind::CONN);

/// DISCONN: the sender is closing the connection, and why. `[reason]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disconnect {
    /// A human-readable reason (`"shutting down"`).
    pub reason: String,
}
plain_envelope!(Disconnect, kind::DISCONN);

/// PING (and PONG, which echoes it). `[nonce]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ping {
    /// Chosen by the pinger, echoed by the ponger.
    pub nonce: u64,
}
plain_envelope!(Ping, kind::PING);

/// PONG: the answer to a PING with the same nonce. `[nonce]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pong {
    /// The nonce of the PING answered.
    pub nonce: u64,
}
plain_envelope!(Pong, kind::PONG);

/// CANCEL: the caller gave up on request `id`; the reply, if any, will be ignored. `[id]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancel {
    /// The request given up on.
    pub id: u64,
}
plain_envelope!(Cancel, kind::CANCEL);

/// ERROR: a request failed, or (with no id) the connection met an error. `[id|nil, code, message]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorFrame {
    /// The request this answers; `None` for an error about the connection itself.
    pub id: Option<u64>,
    /// What went wrong, from the stable table.
    pub code: ErrorCode,
    /// What went wrong, for a person: it says what to do where it can.
    pub message: String,
}
plain_envelope!(ErrorFrame, kind::ERROR);

impl ErrorFrame {
    /// An error answering request `id`.
    pub fn for_request(id: u64, code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorFrame {
            id: Some(id),
            code,
            message: message.into(),
        }
    }

    /// An error about the connection, not a request.
    pub fn for_connection(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorFrame {
            id: None,
            code,
            message: message.into(),
        }
    }
}

/// REQUEST: a call to a route. `[id, route, headers, body]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// Chosen by the caller, unique among its requests in flight on this connection.
    pub id: u64,
    /// The route key (`"dice.roll"`).
    pub route: String,
    /// Deadline, trace context, idempotency key and anything else.
    pub headers: Headers,
    /// The MessagePack-encoded request value, opaque to the protocol.
    pub body: Bytes,
}

#[derive(Serialize, Deserialize)]
struct RequestWire<'a> {
    id: u64,
    route: &'a str,
    headers: std::borrow::Cow<'a, Headers>,
    #[serde(with = "serde_bytes")]
    body: &'a [u8],
}

impl Envelope for Request {
    const KIND: u16 = kind::REQUEST;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        write_msgpack(
            &RequestWire {
                id: self.id,
                route: &self.route,
                headers: std::borrow::Cow::Borrowed(&self.headers),
                body: &self.body,
            },
            out,
        )
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        let wire: RequestWire<'_> =
            rmp_serde::from_slice(payload).map_err(|source| ProtocolError::Decode {
                kind: Self::KIND,
                source,
            })?;
        Ok(Request {
            id: wire.id,
            route: wire.route.to_owned(),
            headers: wire.headers.into_owned(),
            body: body_slice(Self::KIND, payload, wire.body)?,
        })
    }
}

/// RESPONSE: the successful reply to request `id`. `[id, headers, body]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The request this answers.
    pub id: u64,
    /// Anything the handler or the framework adds.
    pub headers: Headers,
    /// The MessagePack-encoded reply value, opaque to the protocol.
    pub body: Bytes,
}

#[derive(Serialize, Deserialize)]
struct ResponseWire<'a> {
    id: u64,
    headers: std::borrow::Cow<'a, Headers>,
    #[serde(with = "serde_bytes")]
    body: &'a [u8],
}

impl Envelope for Response {
    const KIND: u16 = kind::RESPONSE;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        write_msgpack(
            &ResponseWire {
                id: self.id,
                headers: std::borrow::Cow::Borrowed(&self.headers),
                body: &self.body,
            },
            out,
        )
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        let wire: ResponseWire<'_> =
            rmp_serde::from_slice(payload).map_err(|source| ProtocolError::Decode {
                kind: Self::KIND,
                source,
            })?;
        Ok(Response {
            id: wire.id,
            headers: wire.headers.into_owned(),
            body: body_slice(Self::KIND, payload, wire.body)?,
        })
    }
}

/// The id of a REQUEST whose payload could not be read whole, if its first field can be read:
/// the error reply can then name the request, so the caller's call fails instead of timing out.
pub fn peek_request_id(payload: &[u8]) -> Option<u64> {
    let mut rd = payload;
    let len = rmp::decode::read_array_len(&mut rd).ok()?;
    if len == 0 {
        return None;
    }
    rmp::decode::read_int(&mut rd).ok()
}
