//! The envelopes of every call, REQUEST and RESPONSE: the hot path, so written and read with
//! care. A frame is sized before it is written (a short prefix is built on the stack and
//! appended in one copy), a reply body is encoded in place, and reading borrows the route and
//! slices the body out of the payload.

use bytes::{BufMut, Bytes, BytesMut};

use super::envelope::Envelope;
use super::frame::{HEADER_BYTES, KIND_BYTES, LENGTH_BYTES};
use super::wire::{self, read_whole, Form, Reader};
use super::{kind, Headers, ProtocolError};

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
        let length = wire::len32(length)?;
        wire::len32(route.len())?;
        wire::len32(body.len())?;
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
        let (id, route, headers, body) = read_whole(Self::KIND, payload, |rd| {
            rd.array_of(4)?;
            Ok((
                rd.uint()?,
                rd.text(Form::StrOrBin)?,
                rd.headers(Form::StrOrBin)?,
                rd.bytes(Form::StrOrBin)?,
            ))
        })?;
        Ok(RequestView {
            id,
            route,
            headers,
            body: payload.slice_ref(body),
        })
    }
}

fn request_payload_len(id: u64, route: &str, headers: &Headers, body: &[u8]) -> usize {
    1 + wire::uint_len(id)
        + wire::str_len(route.len())
        + wire::headers_len(headers)
        + wire::bin_header_len(body.len())
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
    wire::put_uint(out, id);
    wire::put_str(out, route)?;
    wire::put_headers(out, headers)?;
    wire::put_bin_header(out, body_len)?;
    Ok(())
}

fn write_request_payload(
    out: &mut BytesMut,
    id: u64,
    route: &str,
    headers: &Headers,
    body: &[u8],
) -> Result<(), ProtocolError> {
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
        out.reserve(HEADER_BYTES + 1 + wire::uint_len(id) + wire::headers_len(headers) + 64);
        out.put_u32(0);
        out.put_u16(Self::KIND);
        out.put_u8(0x93);
        wire::put_uint(out, id);
        if let Err(e) = wire::put_headers(out, headers) {
            out.truncate(start);
            return Err(e.into());
        }
        // Room for the largest bin header; the body is moved back over what is not needed.
        let gap = out.len();
        out.put_bytes(0, wire::MAX_BIN_HEADER);
        let body_start = out.len();
        if let Err(e) = write_body(out) {
            out.truncate(start);
            return Err(e);
        }
        let body_len = out.len() - body_start;
        let (header, used) = match wire::bin_header(body_len) {
            Ok(header) => header,
            Err(e) => {
                out.truncate(start);
                return Err(e.into());
            }
        };
        out[gap..gap + used].copy_from_slice(&header[..used]);
        let end = out.len();
        out.copy_within(body_start..end, gap + used);
        out.truncate(end - (wire::MAX_BIN_HEADER - used));
        let length = (out.len() - start - LENGTH_BYTES) as u32;
        out[start..start + LENGTH_BYTES].copy_from_slice(&length.to_be_bytes());
        Ok(())
    }
}

fn response_payload_len(id: u64, headers: &Headers, body: &[u8]) -> usize {
    1 + wire::uint_len(id)
        + wire::headers_len(headers)
        + wire::bin_header_len(body.len())
        + body.len()
}

impl Envelope for Response {
    const KIND: u16 = kind::RESPONSE;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        out.reserve(self.payload_size_hint());
        out.put_u8(0x93);
        wire::put_uint(out, self.id);
        wire::put_headers(out, &self.headers)?;
        wire::put_bin_header(out, self.body.len())?;
        out.extend_from_slice(&self.body);
        Ok(())
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        let (id, headers, body) = read_whole(Self::KIND, payload, |rd| {
            rd.array_of(3)?;
            Ok((
                rd.uint()?,
                rd.headers(Form::StrOrBin)?,
                rd.bytes(Form::StrOrBin)?,
            ))
        })?;
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
    let mut rd = Reader::new(payload);
    match rd.array_len() {
        Ok(len) if len > 0 => rd.uint().ok(),
        _ => None,
    }
}
