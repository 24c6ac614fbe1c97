//! The one MessagePack codec every envelope is read and written with, by hand.
//!
//! # Layout
//! - `write.rs`: the writer. Every integer and length in its smallest form (what rmp-serde
//!   wrote, what the protocol vectors check), and the exact size of what it writes, so a frame
//!   is sized before a byte of it is written.
//! - `read.rs`: [`Reader`], which takes values off the front of a payload, borrowing text and
//!   bytes from it.
//! - `error.rs`: [`WireError`], why a payload could not be read.
//!
//! # The rules, the same for every envelope
//! - An envelope is an array of exactly its fields (a map is refused), and the payload ends with
//!   it: bytes after the value are [`ProtocolError::TrailingBytes`](super::ProtocolError).
//! - An integer field takes any MessagePack integer form whose value is not negative and fits
//!   the field's range (a version in 32 bits, a code in 16, hops in 8); anything else is refused.
//! - Text is UTF-8, checked. Where `docs/protocol.md` (section 9) allows it, a text field may
//!   come as `bin` and a body as `str` ([`Form::StrOrBin`]); the pub/sub fields take
//!   only their own type ([`Form::Str`], [`Form::Bin`]).
//! - A declared length or element count is checked against the bytes left in the payload before
//!   anything is taken or allocated, so a few bytes can never make the reader reserve megabytes.
//! - Every failure is a typed [`WireError`]; no input panics.

mod error;
mod read;
mod write;

pub use error::WireError;
pub(crate) use read::{Form, Reader};
pub(crate) use write::*;

use super::ProtocolError;

/// Reads a whole payload of frame `kind` with `read`, which takes the fields off the front:
/// a wire error and bytes left after the value are the frame's decode errors.
pub(crate) fn read_whole<'a, T>(
    kind: u16,
    payload: &'a [u8],
    read: impl FnOnce(&mut Reader<'a>) -> Result<T, WireError>,
) -> Result<T, ProtocolError> {
    let mut rd = Reader::new(payload);
    let value = read(&mut rd).map_err(|source| ProtocolError::Decode { kind, source })?;
    rd.finish(kind)?;
    Ok(value)
}

#[cfg(test)]
mod tests;
