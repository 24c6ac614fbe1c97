//! The [`Envelope`] trait every frame payload implements, and the control envelopes: CONN,
//! DISCONN, PING, PONG, CANCEL and ERROR (REQUEST and RESPONSE are in `call.rs`).
//!
//! Every envelope is a MessagePack array with its fields in the order given here (see
//! `docs/protocol.md`), read and written with the one codec in `wire/`.

use bytes::{BufMut, Bytes, BytesMut};

use super::frame::{HEADER_BYTES, LENGTH_BYTES};
use super::wire::{self, read_whole, Form};
use super::{kind, ErrorCode, Frame, ProtocolError};

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

/// CONN: the first frame on a stream, from each side. `[version, agent, max_frame, max_in_flight]`.
#[derive(Clone, Debug, PartialEq, Eq)]
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

impl Envelope for Hello {
    const KIND: u16 = kind::CONN;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        out.put_u8(0x94);
        wire::put_uint(out, u64::from(self.version));
        wire::put_str(out, &self.agent)?;
        wire::put_uint(out, u64::from(self.max_frame));
        wire::put_uint(out, u64::from(self.max_in_flight));
        Ok(())
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        read_whole(Self::KIND, payload, |rd| {
            rd.array_of(4)?;
            Ok(Hello {
                version: rd.u32()?,
                agent: rd.text(Form::StrOrBin)?.to_owned(),
                max_frame: rd.u32()?,
                max_in_flight: rd.u32()?,
            })
        })
    }

    fn payload_size_hint(&self) -> usize {
        16 + wire::str_len(self.agent.len())
    }
}

/// DISCONN: the sender is closing the connection, and why. `[reason]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disconnect {
    /// A human-readable reason (`"shutting down"`).
    pub reason: String,
}

impl Envelope for Disconnect {
    const KIND: u16 = kind::DISCONN;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        out.put_u8(0x91);
        wire::put_str(out, &self.reason)
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        read_whole(Self::KIND, payload, |rd| {
            rd.array_of(1)?;
            let reason = rd.text(Form::StrOrBin)?.to_owned();
            Ok(Disconnect { reason })
        })
    }

    fn payload_size_hint(&self) -> usize {
        1 + wire::str_len(self.reason.len())
    }
}

/// The envelopes that are one number, `[n]`: PING, PONG, CANCEL.
macro_rules! one_number_envelope {
    ($(#[$doc:meta])* $name:ident, $kind:expr, $(#[$field_doc:meta])* $field:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name {
            $(#[$field_doc])*
            pub $field: u64,
        }

        impl Envelope for $name {
            const KIND: u16 = $kind;

            fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
                out.put_u8(0x91);
                wire::put_uint(out, self.$field);
                Ok(())
            }

            fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
                read_whole(Self::KIND, payload, |rd| {
                    rd.array_of(1)?;
                    Ok($name { $field: rd.uint()? })
                })
            }

            fn payload_size_hint(&self) -> usize {
                1 + wire::uint_len(self.$field)
            }
        }
    };
}

one_number_envelope!(
    /// PING (and PONG, which echoes it). `[nonce]`.
    Ping,
    kind::PING,
    /// Chosen by the pinger, echoed by the ponger.
    nonce
);

one_number_envelope!(
    /// PONG: the answer to a PING with the same nonce. `[nonce]`.
    Pong,
    kind::PONG,
    /// The nonce of the PING answered.
    nonce
);

one_number_envelope!(
    /// CANCEL: the caller gave up on request `id`; the reply, if any, will be ignored. `[id]`.
    Cancel,
    kind::CANCEL,
    /// The request given up on.
    id
);

/// ERROR: a request failed, or (with no id) the connection met an error. `[id|nil, code, message]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorFrame {
    /// The request this answers; `None` for an error about the connection itself.
    pub id: Option<u64>,
    /// What went wrong, from the stable table.
    pub code: ErrorCode,
    /// What went wrong, for a person: it says what to do where it can.
    pub message: String,
}

impl Envelope for ErrorFrame {
    const KIND: u16 = kind::ERROR;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        out.put_u8(0x93);
        wire::put_opt_uint(out, self.id);
        wire::put_uint(out, u64::from(self.code.as_u16()));
        wire::put_str(out, &self.message)
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        read_whole(Self::KIND, payload, |rd| {
            rd.array_of(3)?;
            Ok(ErrorFrame {
                id: rd.opt_uint()?,
                code: ErrorCode::from(rd.u16()?),
                message: rd.text(Form::StrOrBin)?.to_owned(),
            })
        })
    }

    fn payload_size_hint(&self) -> usize {
        13 + wire::str_len(self.message.len())
    }
}

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
