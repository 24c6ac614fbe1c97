//! [`WireError`]: why a MessagePack payload could not be read.

use crate::pubsub::PatternError;

/// Why a payload is not the MessagePack its envelope expects (see the rules in the module
/// docs). The frame around it was read whole, so none of these loses the framing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The payload ends inside a value (a marker or the fixed-size number after one).
    #[error("the payload ends inside a value")]
    Truncated,
    /// A value of another MessagePack type than the field takes.
    #[error("expected {expected}, found marker {marker:#04x}")]
    WrongType {
        /// What the field takes (`"an array"`, `"str"`, `"a non-negative integer"`...).
        expected: &'static str,
        /// The marker byte found.
        marker: u8,
    },
    /// An array with more or fewer elements than the envelope has fields.
    #[error("an array of {got} elements where {expected} are expected")]
    ArrayLength {
        /// The fields of the envelope.
        expected: u32,
        /// The elements announced.
        got: u64,
    },
    /// A `str` or `bin` longer than the rest of the payload, or an array or map announcing more
    /// elements than the bytes left could hold.
    #[error("a declared length of {declared} is over the {remaining} bytes left in the payload")]
    LengthOverPayload {
        /// The length or element count announced.
        declared: u64,
        /// Bytes left in the payload after the header that announced it.
        remaining: usize,
    },
    /// A negative integer in a field that is never negative.
    #[error("a negative integer where a non-negative one is expected")]
    Negative,
    /// An integer over its field's range.
    #[error("{value} is over the field's maximum of {max}")]
    OutOfRange {
        /// The value read.
        value: u64,
        /// The largest value the field takes.
        max: u64,
    },
    /// A `bin` of fixed size (a nonce) with another length.
    #[error("a bin of {got} bytes where exactly {expected} are expected")]
    BinLength {
        /// The size the field has.
        expected: usize,
        /// The size found.
        got: usize,
    },
    /// Text that is not UTF-8.
    #[error("text is not UTF-8: {0}")]
    Utf8(#[from] std::str::Utf8Error),
    /// A bridge interest whose pattern does not parse (the pattern is part of the value's
    /// type there: the frame is refused as malformed, code 100).
    #[error("not a pattern: {0}")]
    Pattern(#[from] PatternError),
}
