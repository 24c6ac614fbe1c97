//! Wire protocol v1: frames, envelopes, error codes (normative text: `docs/protocol.md`).
//!
//! # Layout
//! - `frame.rs`: framing, `length | kind | payload`, the same on every transport.
//! - `wire/`: the one MessagePack codec every envelope is read and written with, and its rules
//!   (exact arrays, integer ranges, checked UTF-8 and lengths, no trailing bytes).
//! - `envelope.rs`: the [`Envelope`] trait and the control envelopes (CONN, DISCONN, PING,
//!   PONG, CANCEL, ERROR); `call.rs`: REQUEST and RESPONSE, the hot path.
//! - `pubsub.rs`, `pubsub_message.rs`, `pubsub_rpc.rs`: the pub/sub envelopes and calls.
//! - `bridge.rs`: the envelopes between bridged hubs.
//! - `work.rs`: the network work queue's envelopes (STATUS, ENQUEUE, TAKE, DELIVER, ACK...).
//! - `headers.rs`, `error_code.rs`, `kind.rs`: the header map, the error codes, the kinds.

mod auth;
mod bridge;
mod call;
mod compress;
mod envelope;
mod error_code;
mod frame;
mod headers;
pub mod kind;
mod pubsub;
mod pubsub_message;
mod pubsub_rpc;
mod wire;
mod work;

pub use auth::{Auth, AuthOk};
pub use bridge::{
    write_bridge_frame, write_bridge_message, BridgeChallenge, BridgeHello, BridgeMessage,
    BridgeProof, BridgeResync, Nonce, MAX_HOPS, NONCE_BYTES,
};
pub use call::{peek_request_id, Request, Response};
pub use compress::Compress;
pub use envelope::{Cancel, Disconnect, Envelope, ErrorFrame, Hello, Ping, Pong, PROTOCOL_VERSION};
pub use error_code::ErrorCode;
pub use frame::{decode_datagram, decode_frame, Frame, FrameCodec, HEADER_BYTES, LENGTH_BYTES};
pub use headers::{Headers, DEADLINE_MS, IDEMPOTENCY_KEY, TRACEPARENT};
pub use pubsub::{
    peek_sid, InvalidField, Refused, Subscribe, SubscriptionFlags, Subscriptions, Unsubscribe,
    MAX_GROUP_BYTES,
};
pub use pubsub_message::{Message, MessageFlags, MessageTail, Publish};
pub use pubsub_rpc::{Inbox, ReplyError, INBOX_PREFIX};
pub use wire::WireError;
pub use work::{
    Ack, Deliver, Enqueue, Enqueued, Nack, Progress, Reject, Take, Taken, WorkStatus, BROADCAST,
    SEND_ALL,
};

/// Why bytes could not be read or written as protocol frames.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// The length field is under the two bytes of the kind: the framing is lost.
    #[error(
        "frame length {length} is shorter than the 2-byte kind; the stream cannot be read further"
    )]
    FrameTooShort {
        /// The length announced.
        length: usize,
    },
    /// The length field is over the maximum frame size.
    #[error("frame length {length} is over the maximum of {max} bytes (raise max_frame on both sides to send more)")]
    FrameTooLarge {
        /// The length announced.
        length: usize,
        /// The maximum accepted.
        max: usize,
    },
    /// A datagram did not hold exactly one frame.
    #[error("a datagram of {size} bytes does not hold exactly one frame (its length field disagrees with its size)")]
    DatagramLength {
        /// The datagram's size.
        size: usize,
    },
    /// The peer closed the stream in the middle of a frame.
    #[error(
        "the peer closed the stream in the middle of a frame ({buffered} bytes were buffered)"
    )]
    Truncated {
        /// Bytes of the unfinished frame.
        buffered: usize,
    },
    /// A payload is not the MessagePack its kind expects (see [`WireError`]).
    #[error("cannot decode {} payload: {source}", kind::name(*.kind))]
    Decode {
        /// The frame kind.
        kind: u16,
        /// What is wrong with it.
        source: WireError,
    },
    /// A payload has bytes after its value.
    #[error("{} payload has {count} unexpected bytes after its value", kind::name(*.kind))]
    TrailingBytes {
        /// The frame kind.
        kind: u16,
        /// How many bytes were left over.
        count: usize,
    },
    /// A frame of one kind arrived where another was expected.
    #[error("expected a {} frame, got {} ({got})", kind::name(*.expected), kind::name(*.got))]
    UnexpectedKind {
        /// The kind expected.
        expected: u16,
        /// The kind received.
        got: u16,
    },
    /// A pub/sub frame was read whole, but one of its fields breaks a rule (an invalid pattern
    /// or channel, flags that mean nothing); `sid` names the subscription where there is one.
    #[error("{} not applied{}: {field}", kind::name(*.kind), .sid.map(|s| format!(" (subscription {s})")).unwrap_or_default())]
    Invalid {
        /// The frame kind.
        kind: u16,
        /// The subscription the field belongs to.
        sid: Option<u64>,
        /// What is wrong.
        field: InvalidField,
    },
    /// A string, body or list is too long for MessagePack's 32-bit lengths.
    #[error("cannot encode payload: a value of {len} bytes or elements is too long for MessagePack (2^32 - 1 at most)")]
    TooLong {
        /// Its length.
        len: usize,
    },
    /// Reading or writing the transport failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

impl ProtocolError {
    /// The code an ERROR frame about this error carries.
    pub fn code(&self) -> ErrorCode {
        match self {
            ProtocolError::FrameTooLarge { .. } => ErrorCode::FrameTooLarge,
            ProtocolError::Invalid { field, .. } => field.code(),
            _ => ErrorCode::Protocol,
        }
    }

    /// Whether the stream can no longer be read after this error.
    pub fn loses_framing(&self) -> bool {
        matches!(
            self,
            ProtocolError::FrameTooShort { .. }
                | ProtocolError::FrameTooLarge { .. }
                | ProtocolError::Truncated { .. }
                | ProtocolError::Io(_)
        )
    }
}

#[cfg(test)]
mod call_tests;
#[cfg(test)]
mod envelope_samples;
#[cfg(test)]
mod envelope_tests;
#[cfg(test)]
mod headers_tests;
#[cfg(test)]
mod pubsub_tests;
#[cfg(test)]
mod strictness_tests;
