//! The payload of every frame kind, and how each is written in MessagePack.
//!
//! Every envelope is a MessagePack array with its fields in the order given here (see
//! `docs/protocol.md`); bodies are `bin` and are sliced out of the frame without a copy.

use bytes::{BufMut, Bytes, BytesMut};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::frame::{HEADER_BYTES, KIND_BYTES, LENGTH_BYTES};
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

    /// About how many bytes the payload takes (exactly, where that is cheap to know), so that a
    /// frame is written into one allocation without growing it.
    fn payload_size_hint(&self) -> usize {
        64
    }

    /// Appends the whole frame (header and payload) to `out`.
    fn write_frame(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        let start = out.len();
        out.reserve(HEADER_BYTES + self.payload_size_hint());
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
        let mut out = BytesMut::with_capacity(HEADER_BYTES + self.payload_size_hint());
        self.write_frame(&mut out)?;
        Ok(out.freeze())
    }

    /// The envelope as a [`Frame`].
    fn to_frame(&self) -> Result<Frame, ProtocolError> {
        let mut out = BytesMut::with_capacity(self.payload_size_hint());
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
pub(super) fn write_msgpack<T: Serialize + ?Sized>(
    value: &T,
    out: &mut BytesMut,
) -> Result<(), ProtocolError> {
    let mut writer = out.writer();
    rmp_serde::encode::write(&mut writer, value).map_err(ProtocolError::Encode)
}

/// Reads a value that must use the payload exactly.
pub(super) fn read_exact<T: DeserializeOwned>(
    kind: u16,
    payload: &[u8],
) -> Result<T, ProtocolError> {
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

macro_rules! plain_envelope {
    ($ty:ty, $kind:expr) => {
        plain_envelope!($ty, $kind, |_e: &$ty| 16);
    };
    ($ty:ty, $kind:expr, $hint:expr) => {
        impl Envelope for $ty {
            const KIND: u16 = $kind;

            fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
                write_msgpack(self, out)
            }

            fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
                read_exact(Self::KIND, payload)
            }

            fn payload_size_hint(&self) -> usize {
                ($hint)(self)
            }
        }
    };
}
pub(super) use plain_envelope;

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
plain_envelope!(Hello, kind::CONN, |h: &Hello| 24 + h.agent.len());

/// DISCONN: the sender is closing the connection, and why. `[reason]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disconnect {
    /// A human-readable reason (`"shutting down"`).
    pub reason: String,
}
plain_envelope!(Disconnect, kind::DISCONN, |d: &Disconnect| 8 + d
    .reason
    .len());

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
plain_envelope!(ErrorFrame, kind::ERROR, |e: &ErrorFrame| 20
    + e.message.len());

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

/// A REQUEST read in place: the route borrows the payload and the body is a slice of it, so
/// reading one allocates nothing (a server needs the route only to look it up).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestView<'a> {
    /// Chosen by the caller, unique among its requests in flight on this connection.
    pub id: u64,
    /// The route key, borrowed from the payload.
    pub route: &'a str,
    /// Deadline, trace context, idempotency key and anything else.
    pub headers: Headers,
    /// The MessagePack-encoded request value, a slice of the payload.
    pub body: Bytes,
}

impl Request {
    /// The `length` field of a REQUEST frame of these fields (kind and payload), to check
    /// against the peer's maximum before anything is written.
    pub fn frame_length(id: u64, route: &str, headers: &Headers, body: &[u8]) -> usize {
        KIND_BYTES + request_payload_len(id, route, headers, body)
    }

    /// Appends a whole REQUEST frame of these fields to `out`, sized up front, without building
    /// a [`Request`] (so the route need not be an owned `String`).
    pub fn write_frame_parts(
        out: &mut BytesMut,
        id: u64,
        route: &str,
        headers: &Headers,
        body: &[u8],
    ) -> Result<(), ProtocolError> {
        let length = Request::frame_length(id, route, headers, body);
        let length = u32::try_from(length).map_err(|_| msgpack::too_long(length))?;
        msgpack::check_len(route.len())?;
        msgpack::check_len(body.len())?;
        let prefix_len = LENGTH_BYTES + length as usize - body.len();
        out.reserve(prefix_len + body.len());
        if prefix_len <= SHORT_PREFIX {
            // Everything before the body, built on the stack and appended in one copy (the
            // usual case: a short route and a deadline).
            let mut prefix = [0u8; SHORT_PREFIX];
            let mut at = &mut prefix[..];
            at.put_u32(length);
            at.put_u16(Self::KIND);
            write_request_prefix(&mut at, id, route, headers, body.len())?;
            out.extend_from_slice(&prefix[..prefix_len]);
        } else {
            out.put_u32(length);
            out.put_u16(Self::KIND);
            write_request_prefix(out, id, route, headers, body.len())?;
        }
        out.extend_from_slice(body);
        Ok(())
    }

    /// Reads a REQUEST payload in place (see `RequestView`).
    pub fn view(payload: &Bytes) -> Result<RequestView<'_>, ProtocolError> {
        let decode = |source| ProtocolError::Decode {
            kind: Self::KIND,
            source,
        };
        let mut rd = msgpack::Reader::new(payload);
        rd.array_of(4).map_err(decode)?;
        let id = rd.uint().map_err(decode)?;
        let route = rd.text().map_err(decode)?;
        let headers = rd.headers().map_err(decode)?;
        let body = rd.raw().map_err(decode)?;
        rd.finish(Self::KIND)?;
        Ok(RequestView {
            id,
            route,
            headers,
            body: payload.slice_ref(body),
        })
    }
}

fn request_payload_len(id: u64, route: &str, headers: &Headers, body: &[u8]) -> usize {
    1 + msgpack::uint_len(id)
        + msgpack::str_len(route.len())
        + msgpack::headers_len(headers)
        + msgpack::bin_header_len(body.len())
        + body.len()
}

/// The longest frame prefix (header and fields before the body) built on the stack.
const SHORT_PREFIX: usize = 256;

/// A REQUEST payload up to its body's bytes (the body's `bin` header included).
fn write_request_prefix(
    out: &mut impl BufMut,
    id: u64,
    route: &str,
    headers: &Headers,
    body_len: usize,
) -> Result<(), ProtocolError> {
    out.put_u8(0x94);
    msgpack::put_uint(out, id);
    msgpack::put_str(out, route);
    msgpack::put_headers(out, headers)?;
    msgpack::put_bin_header(out, body_len);
    Ok(())
}

fn write_request_payload(
    out: &mut BytesMut,
    id: u64,
    route: &str,
    headers: &Headers,
    body: &[u8],
) -> Result<(), ProtocolError> {
    msgpack::check_len(route.len())?;
    msgpack::check_len(body.len())?;
    write_request_prefix(out, id, route, headers, body.len())?;
    out.extend_from_slice(body);
    Ok(())
}

impl Envelope for Request {
    const KIND: u16 = kind::REQUEST;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        out.reserve(self.payload_size_hint());
        write_request_payload(out, self.id, &self.route, &self.headers, &self.body)
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        let view = Request::view(payload)?;
        Ok(Request {
            id: view.id,
            route: view.route.to_owned(),
            headers: view.headers,
            body: view.body,
        })
    }

    fn payload_size_hint(&self) -> usize {
        request_payload_len(self.id, &self.route, &self.headers, &self.body)
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

impl Response {
    /// Appends a whole RESPONSE frame to `out` whose body `write_body` appends in place, so a
    /// reply value is encoded straight into its frame instead of into a buffer of its own first.
    /// On an error nothing is left appended.
    pub fn write_frame_with<E>(
        out: &mut BytesMut,
        id: u64,
        headers: &Headers,
        write_body: impl FnOnce(&mut BytesMut) -> Result<(), E>,
    ) -> Result<(), E>
    where
        E: From<ProtocolError>,
    {
        let start = out.len();
        out.reserve(HEADER_BYTES + 1 + msgpack::uint_len(id) + msgpack::headers_len(headers) + 64);
        out.put_u32(0);
        out.put_u16(Self::KIND);
        out.put_u8(0x93);
        msgpack::put_uint(out, id);
        if let Err(e) = msgpack::put_headers(out, headers) {
            out.truncate(start);
            return Err(e.into());
        }
        // Room for the largest bin header; the body is moved back over what is not needed.
        let gap = out.len();
        out.put_bytes(0, msgpack::MAX_BIN_HEADER);
        let body_start = out.len();
        if let Err(e) = write_body(out) {
            out.truncate(start);
            return Err(e);
        }
        let body_len = out.len() - body_start;
        if let Err(e) = msgpack::check_len(body_len) {
            out.truncate(start);
            return Err(e.into());
        }
        let (header, used) = msgpack::bin_header(body_len);
        out[gap..gap + used].copy_from_slice(&header[..used]);
        let end = out.len();
        out.copy_within(body_start..end, gap + used);
        out.truncate(end - (msgpack::MAX_BIN_HEADER - used));
        let length = (out.len() - start - LENGTH_BYTES) as u32;
        out[start..start + LENGTH_BYTES].copy_from_slice(&length.to_be_bytes());
        Ok(())
    }
}

fn response_payload_len(id: u64, headers: &Headers, body: &[u8]) -> usize {
    1 + msgpack::uint_len(id)
        + msgpack::headers_len(headers)
        + msgpack::bin_header_len(body.len())
        + body.len()
}

impl Envelope for Response {
    const KIND: u16 = kind::RESPONSE;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        msgpack::check_len(self.body.len())?;
        out.reserve(self.payload_size_hint());
        out.put_u8(0x93);
        msgpack::put_uint(out, self.id);
        msgpack::put_headers(out, &self.headers)?;
        msgpack::put_bin_header(out, self.body.len());
        out.extend_from_slice(&self.body);
        Ok(())
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        let decode = |source| ProtocolError::Decode {
            kind: Self::KIND,
            source,
        };
        let mut rd = msgpack::Reader::new(payload);
        rd.array_of(3).map_err(decode)?;
        let id = rd.uint().map_err(decode)?;
        let headers = rd.headers().map_err(decode)?;
        let body = rd.raw().map_err(decode)?;
        rd.finish(Self::KIND)?;
        Ok(Response {
            id,
            headers,
            body: payload.slice_ref(body),
        })
    }

    fn payload_size_hint(&self) -> usize {
        response_payload_len(self.id, &self.headers, &self.body)
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

/// MessagePack written and read by hand for the envelopes of every call, REQUEST and RESPONSE
/// (rmp-serde's generic path costs several times as much, and allocates for the headers).
///
/// The bytes written are the ones rmp-serde writes (every length and integer in its smallest
/// form), which the protocol vectors check. Reading accepts what the serde decoder accepted for
/// these fields: any integer form of a non-negative id, and `str` or `bin` for text and bodies.
mod msgpack {
    use std::io;

    use bytes::BufMut;
    use rmp::Marker;
    use rmp_serde::decode::Error;

    use super::super::headers::HeadersReader;
    use super::super::{Headers, ProtocolError, DEADLINE_MS};

    /// The largest `bin` header: the marker and a 32-bit length.
    pub(super) const MAX_BIN_HEADER: usize = 5;

    /// A string or body too long for a 32-bit MessagePack length.
    #[cold]
    pub(super) fn too_long(len: usize) -> ProtocolError {
        ProtocolError::Encode(rmp_serde::encode::Error::Syntax(format!(
            "a value of {len} bytes is too long for MessagePack"
        )))
    }

    pub(super) fn check_len(len: usize) -> Result<(), ProtocolError> {
        if u32::try_from(len).is_err() {
            return Err(too_long(len));
        }
        Ok(())
    }

    pub(super) fn uint_len(n: u64) -> usize {
        match n {
            0..=0x7f => 1,
            0x80..=0xff => 2,
            0x100..=0xffff => 3,
            0x1_0000..=0xffff_ffff => 5,
            _ => 9,
        }
    }

    pub(super) fn put_uint(out: &mut impl BufMut, n: u64) {
        match n {
            0..=0x7f => out.put_u8(n as u8),
            0x80..=0xff => {
                out.put_u8(0xcc);
                out.put_u8(n as u8);
            }
            0x100..=0xffff => {
                out.put_u8(0xcd);
                out.put_u16(n as u16);
            }
            0x1_0000..=0xffff_ffff => {
                out.put_u8(0xce);
                out.put_u32(n as u32);
            }
            _ => {
                out.put_u8(0xcf);
                out.put_u64(n);
            }
        }
    }

    /// The whole encoded size of a `str` of `len` bytes.
    pub(super) fn str_len(len: usize) -> usize {
        len + match len {
            0..=31 => 1,
            32..=0xff => 2,
            0x100..=0xffff => 3,
            _ => 5,
        }
    }

    /// Callers check the length with [`check_len`] first.
    pub(super) fn put_str(out: &mut impl BufMut, s: &str) {
        let len = s.len();
        match len {
            0..=31 => out.put_u8(0xa0 | len as u8),
            32..=0xff => {
                out.put_u8(0xd9);
                out.put_u8(len as u8);
            }
            0x100..=0xffff => {
                out.put_u8(0xda);
                out.put_u16(len as u16);
            }
            _ => {
                out.put_u8(0xdb);
                out.put_u32(len as u32);
            }
        }
        out.put_slice(s.as_bytes());
    }

    pub(super) fn bin_header_len(len: usize) -> usize {
        match len {
            0..=0xff => 2,
            0x100..=0xffff => 3,
            _ => 5,
        }
    }

    /// The `bin` header of a body of `len` bytes, and how many of its bytes are used (callers
    /// check the length first).
    pub(super) fn bin_header(len: usize) -> ([u8; MAX_BIN_HEADER], usize) {
        let mut h = [0; MAX_BIN_HEADER];
        match len {
            0..=0xff => {
                h[..2].copy_from_slice(&[0xc4, len as u8]);
                (h, 2)
            }
            0x100..=0xffff => {
                h[0] = 0xc5;
                h[1..3].copy_from_slice(&(len as u16).to_be_bytes());
                (h, 3)
            }
            _ => {
                h[0] = 0xc6;
                h[1..5].copy_from_slice(&(len as u32).to_be_bytes());
                (h, 5)
            }
        }
    }

    pub(super) fn put_bin_header(out: &mut impl BufMut, len: usize) {
        let (header, used) = bin_header(len);
        out.put_slice(&header[..used]);
    }

    pub(super) fn headers_len(headers: &Headers) -> usize {
        let n = headers.len();
        let marker = match n {
            0..=15 => 1,
            16..=0xffff => 3,
            _ => 5,
        };
        let mut len = marker;
        headers.for_each(|k, v| len += str_len(k.len()) + str_len(v.len()));
        len
    }

    pub(super) fn put_headers(
        out: &mut impl BufMut,
        headers: &Headers,
    ) -> Result<(), ProtocolError> {
        let n = headers.len();
        match n {
            0..=15 => out.put_u8(0x80 | n as u8),
            16..=0xffff => {
                out.put_u8(0xde);
                out.put_u16(n as u16);
            }
            _ => {
                check_len(n)?;
                out.put_u8(0xdf);
                out.put_u32(n as u32);
            }
        }
        let mut result = Ok(());
        headers.for_each(|key, value| {
            if result.is_ok() {
                result = check_len(key.len()).and_then(|()| check_len(value.len()));
            }
            put_str(out, key);
            put_str(out, value);
        });
        result
    }

    /// `bytes` as text, if UTF-8. Route keys and header values are short and ASCII, which is
    /// checked several times faster than UTF-8 in general.
    fn utf8(bytes: &[u8]) -> Result<&str, Error> {
        if bytes.is_ascii() {
            // SAFETY: ASCII is UTF-8.
            return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
        }
        Ok(std::str::from_utf8(bytes)?)
    }

    fn eof() -> io::Error {
        io::ErrorKind::UnexpectedEof.into()
    }

    /// Reads values off the front of a payload.
    pub(super) struct Reader<'a> {
        rest: &'a [u8],
    }

    impl<'a> Reader<'a> {
        pub(super) fn new(payload: &'a [u8]) -> Self {
            Reader { rest: payload }
        }

        fn marker(&mut self) -> Result<u8, Error> {
            let (&m, rest) = self
                .rest
                .split_first()
                .ok_or_else(|| Error::InvalidMarkerRead(eof()))?;
            self.rest = rest;
            Ok(m)
        }

        fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
            if self.rest.len() < n {
                return Err(Error::InvalidDataRead(eof()));
            }
            let (taken, rest) = self.rest.split_at(n);
            self.rest = rest;
            Ok(taken)
        }

        /// A big-endian unsigned number of `n` bytes.
        fn be(&mut self, n: usize) -> Result<u64, Error> {
            Ok(self
                .take(n)?
                .iter()
                .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
        }

        /// An array header, which must announce `expected` elements.
        pub(super) fn array_of(&mut self, expected: u32) -> Result<(), Error> {
            let len = match self.marker()? {
                m @ 0x90..=0x9f => u64::from(m & 0x0f),
                0xdc => self.be(2)?,
                0xdd => self.be(4)?,
                m => return Err(Error::TypeMismatch(Marker::from_u8(m))),
            };
            if len != u64::from(expected) {
                return Err(Error::LengthMismatch(expected));
            }
            Ok(())
        }

        fn map_len(&mut self) -> Result<u64, Error> {
            match self.marker()? {
                m @ 0x80..=0x8f => Ok(u64::from(m & 0x0f)),
                0xde => self.be(2),
                0xdf => self.be(4),
                m => Err(Error::TypeMismatch(Marker::from_u8(m))),
            }
        }

        /// A non-negative integer in any MessagePack integer form.
        pub(super) fn uint(&mut self) -> Result<u64, Error> {
            let signed = |n: i64| u64::try_from(n).map_err(|_| Error::OutOfRange);
            match self.marker()? {
                m @ 0x00..=0x7f => Ok(u64::from(m)),
                0xcc => self.be(1),
                0xcd => self.be(2),
                0xce => self.be(4),
                0xcf => self.be(8),
                0xd0 => signed(i64::from(self.be(1)? as u8 as i8)),
                0xd1 => signed(i64::from(self.be(2)? as u16 as i16)),
                0xd2 => signed(i64::from(self.be(4)? as u32 as i32)),
                0xd3 => signed(self.be(8)? as i64),
                0xe0..=0xff => Err(Error::OutOfRange),
                m => Err(Error::TypeMismatch(Marker::from_u8(m))),
            }
        }

        /// The bytes of a `str` or a `bin`.
        pub(super) fn raw(&mut self) -> Result<&'a [u8], Error> {
            let len = match self.marker()? {
                m @ 0xa0..=0xbf => u64::from(m & 0x1f),
                0xd9 | 0xc4 => self.be(1)?,
                0xda | 0xc5 => self.be(2)?,
                0xdb | 0xc6 => self.be(4)?,
                m => return Err(Error::TypeMismatch(Marker::from_u8(m))),
            };
            self.take(len as usize)
        }

        /// UTF-8 text in a `str` (or a `bin`).
        pub(super) fn text(&mut self) -> Result<&'a str, Error> {
            utf8(self.raw()?)
        }

        /// A map of text to text.
        pub(super) fn headers(&mut self) -> Result<Headers, Error> {
            let mut headers = HeadersReader::default();
            for _ in 0..self.map_len()? {
                let key = self.raw()?;
                // The key on every call, known by its bytes.
                let key = if key == DEADLINE_MS.as_bytes() {
                    DEADLINE_MS
                } else {
                    utf8(key)?
                };
                let value = self.text()?;
                headers.push_str(key, value);
            }
            Ok(headers.finish())
        }

        /// Checks that the payload was used whole.
        pub(super) fn finish(self, kind: u16) -> Result<(), ProtocolError> {
            if !self.rest.is_empty() {
                return Err(ProtocolError::TrailingBytes {
                    kind,
                    count: self.rest.len(),
                });
            }
            Ok(())
        }
    }
}

/// The hand-written REQUEST and RESPONSE codec against rmp-serde's, which wrote these envelopes
/// before (and which the protocol vectors were checked against).
#[cfg(test)]
mod by_hand_tests {
    use proptest::prelude::*;

    use super::*;

    #[derive(Serialize)]
    struct RequestWire<'a> {
        id: u64,
        route: &'a str,
        headers: &'a Headers,
        #[serde(with = "serde_bytes")]
        body: &'a [u8],
    }

    #[derive(Serialize)]
    struct ResponseWire<'a> {
        id: u64,
        headers: &'a Headers,
        #[serde(with = "serde_bytes")]
        body: &'a [u8],
    }

    fn rmp_serde_bytes<T: Serialize>(value: &T) -> Vec<u8> {
        rmp_serde::to_vec(value).unwrap()
    }

    fn arb_headers() -> impl Strategy<Value = Headers> {
        let key = prop_oneof![Just(super::super::DEADLINE_MS.to_owned()), "[a-z-]{1,40}"];
        proptest::collection::btree_map(key, ".{0,40}", 0..20).prop_map(|m| {
            let mut h = Headers::new();
            for (k, v) in m {
                h.insert(k, v);
            }
            h
        })
    }

    fn arb_id() -> impl Strategy<Value = u64> {
        prop_oneof![0u64..300, 60_000u64..70_000, any::<u64>()]
    }

    proptest! {
        #[test]
        fn requests_are_written_as_rmp_serde_writes_them(
            id in arb_id(), route in ".{0,300}", headers in arb_headers(),
            body in proptest::collection::vec(any::<u8>(), 0..70_000)) {
            let expected = rmp_serde_bytes(&RequestWire { id, route: &route, headers: &headers, body: &body });
            let request = Request { id, route: route.clone(), headers: headers.clone(), body: Bytes::from(body.clone()) };
            let frame = request.to_frame().unwrap();
            prop_assert_eq!(&frame.payload[..], &expected[..]);
            let mut parts = BytesMut::new();
            Request::write_frame_parts(&mut parts, id, &route, &headers, &body).unwrap();
            prop_assert_eq!(&parts[..], &request.to_frame_bytes().unwrap()[..]);
            prop_assert_eq!(
                Request::frame_length(id, &route, &headers, &body),
                parts.len() - LENGTH_BYTES
            );
            let view = Request::view(&frame.payload).unwrap();
            prop_assert_eq!((view.id, view.route, &view.headers, &view.body[..]), (id, &route[..], &headers, &body[..]));
        }

        #[test]
        fn responses_are_written_as_rmp_serde_writes_them(
            id in arb_id(), headers in arb_headers(),
            body in proptest::collection::vec(any::<u8>(), 0..70_000)) {
            let expected = rmp_serde_bytes(&ResponseWire { id, headers: &headers, body: &body });
            let response = Response { id, headers: headers.clone(), body: Bytes::from(body.clone()) };
            prop_assert_eq!(&response.to_frame().unwrap().payload[..], &expected[..]);
            let mut with = BytesMut::from(&b"before"[..]);
            Response::write_frame_with(&mut with, id, &headers, |out| {
                out.extend_from_slice(&body);
                Ok::<(), ProtocolError>(())
            })
            .unwrap();
            prop_assert_eq!(&with[..6], b"before");
            prop_assert_eq!(&with[6..], &response.to_frame_bytes().unwrap()[..]);
        }
    }

    #[test]
    fn a_failed_body_leaves_nothing_behind() {
        let mut out = BytesMut::from(&b"kept"[..]);
        let err = Response::write_frame_with(&mut out, 1, &Headers::new(), |out| {
            out.extend_from_slice(b"partial");
            Err(ProtocolError::TrailingBytes { kind: 0, count: 0 })
        });
        assert!(err.is_err());
        assert_eq!(&out[..], b"kept");
    }

    #[test]
    fn ids_in_any_integer_form_are_read_and_negative_ones_refused() {
        // [id, "r", {}, bin ""] with the id as int8 5, uint16 5, and int8 -1.
        for (id, expected) in [
            (&[0xd0, 5][..], Some(5)),
            (&[0xcd, 0, 5][..], Some(5)),
            (&[0xd3, 0, 0, 0, 0, 0, 0, 0, 9][..], Some(9)),
            (&[0xd0, 0xff][..], None),
            (&[0xff][..], None),
            (&[0xc0][..], None),
        ] {
            let mut payload = vec![0x94];
            payload.extend_from_slice(id);
            payload.extend_from_slice(&[0xa1, b'r', 0x80, 0xc4, 0]);
            let read = Request::read_payload(&Bytes::from(payload))
                .ok()
                .map(|r| r.id);
            assert_eq!(read, expected, "{id:x?}");
        }
    }

    #[test]
    fn text_may_come_as_bin_and_bodies_as_str_as_before() {
        // [1, bin "r", {str "a": bin "b"}, str "x"]
        let payload = [
            0x94, 1, 0xc4, 1, b'r', 0x81, 0xa1, b'a', 0xc4, 1, b'b', 0xa1, b'x',
        ];
        let request = Request::read_payload(&Bytes::copy_from_slice(&payload)).unwrap();
        assert_eq!(request.route, "r");
        assert_eq!(request.headers.get("a"), Some("b"));
        assert_eq!(&request.body[..], b"x");
        // A route that is not UTF-8 is refused.
        let bad = [0x94, 1, 0xc4, 1, 0xff, 0x80, 0xc4, 0];
        assert!(Request::read_payload(&Bytes::copy_from_slice(&bad)).is_err());
    }
}
