//! MessagePack for the pub/sub envelopes, written and read with `rmp`'s value functions.
//!
//! Writing uses the smallest form of every length and integer (what the protocol text and the
//! vectors require). Reading is strict about types: text is `str`, bodies are `bin`, optional
//! values are `nil` or their type; integers may come in any form that holds a non-negative value
//! (as for every other envelope). Slices borrow the payload, so bodies are never copied.

use bytes::{BufMut, BytesMut};
use rmp_serde::decode::Error;

use super::headers::HeadersReader;
use super::{Headers, ProtocolError};

/// The MessagePack `nil` marker.
const NIL: u8 = 0xc0;

fn write_error(e: rmp::encode::ValueWriteError) -> ProtocolError {
    ProtocolError::Encode(rmp_serde::encode::Error::InvalidValueWrite(e))
}

/// A length that MessagePack can carry (32 bits).
pub(super) fn len32(len: usize) -> Result<u32, ProtocolError> {
    u32::try_from(len).map_err(|_| {
        ProtocolError::Encode(rmp_serde::encode::Error::Syntax(format!(
            "a value of {len} bytes or elements is too long for MessagePack"
        )))
    })
}

pub(super) fn put_array_len(out: &mut BytesMut, len: usize) -> Result<(), ProtocolError> {
    let len = len32(len)?;
    rmp::encode::write_array_len(&mut out.writer(), len).map_err(write_error)?;
    Ok(())
}

pub(super) fn put_uint(out: &mut BytesMut, n: u64) -> Result<(), ProtocolError> {
    rmp::encode::write_uint(&mut out.writer(), n).map_err(write_error)?;
    Ok(())
}

pub(super) fn put_str(out: &mut BytesMut, s: &str) -> Result<(), ProtocolError> {
    let len = len32(s.len())?;
    rmp::encode::write_str_len(&mut out.writer(), len).map_err(write_error)?;
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

pub(super) fn put_opt_str(out: &mut BytesMut, s: Option<&str>) -> Result<(), ProtocolError> {
    match s {
        Some(s) => put_str(out, s),
        None => {
            out.put_u8(NIL);
            Ok(())
        }
    }
}

pub(super) fn put_opt_uint(out: &mut BytesMut, n: Option<u64>) -> Result<(), ProtocolError> {
    match n {
        Some(n) => put_uint(out, n),
        None => {
            out.put_u8(NIL);
            Ok(())
        }
    }
}

/// The `bin` header of a body of `len` bytes (the body's bytes follow).
pub(super) fn put_bin_header(out: &mut BytesMut, len: usize) -> Result<(), ProtocolError> {
    let len = len32(len)?;
    rmp::encode::write_bin_len(&mut out.writer(), len).map_err(write_error)?;
    Ok(())
}

/// Headers as a map of `str` to `str`, in key order.
pub(super) fn put_headers(out: &mut BytesMut, headers: &Headers) -> Result<(), ProtocolError> {
    let len = len32(headers.len())?;
    rmp::encode::write_map_len(&mut out.writer(), len).map_err(write_error)?;
    let mut result = Ok(());
    headers.for_each(|key, value| {
        if result.is_ok() {
            result = put_str(out, key).and_then(|()| put_str(out, value));
        }
    });
    result
}

/// Reads values off the front of a payload.
pub(super) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(super) fn new(payload: &'a [u8]) -> Self {
        Reader { rest: payload }
    }

    /// How many bytes are left; a count read from the payload is never trusted beyond this.
    pub(super) fn remaining(&self) -> usize {
        self.rest.len()
    }

    fn take(&mut self, len: u32) -> Result<&'a [u8], Error> {
        let len = len as usize;
        if self.rest.len() < len {
            return Err(Error::InvalidDataRead(
                std::io::ErrorKind::UnexpectedEof.into(),
            ));
        }
        let (taken, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(taken)
    }

    /// Whether the next value is `nil`; if so, it is consumed.
    fn nil(&mut self) -> bool {
        if self.rest.first() == Some(&NIL) {
            self.rest = &self.rest[1..];
            return true;
        }
        false
    }

    /// An array header, returning its length.
    pub(super) fn array_len(&mut self) -> Result<u32, Error> {
        Ok(rmp::decode::read_array_len(&mut self.rest)?)
    }

    /// An array header that must announce `expected` elements.
    pub(super) fn array_of(&mut self, expected: u32) -> Result<(), Error> {
        if self.array_len()? != expected {
            return Err(Error::LengthMismatch(expected));
        }
        Ok(())
    }

    /// A non-negative integer in any MessagePack integer form.
    pub(super) fn uint(&mut self) -> Result<u64, Error> {
        Ok(rmp::decode::read_int::<u64, _>(&mut self.rest)?)
    }

    pub(super) fn opt_uint(&mut self) -> Result<Option<u64>, Error> {
        if self.nil() {
            return Ok(None);
        }
        self.uint().map(Some)
    }

    /// UTF-8 text in a `str`.
    pub(super) fn str(&mut self) -> Result<&'a str, Error> {
        let len = rmp::decode::read_str_len(&mut self.rest)?;
        Ok(std::str::from_utf8(self.take(len)?)?)
    }

    pub(super) fn opt_str(&mut self) -> Result<Option<&'a str>, Error> {
        if self.nil() {
            return Ok(None);
        }
        self.str().map(Some)
    }

    /// The bytes of a `bin`, borrowed from the payload.
    pub(super) fn bin(&mut self) -> Result<&'a [u8], Error> {
        let len = rmp::decode::read_bin_len(&mut self.rest)?;
        self.take(len)
    }

    /// A map of `str` to `str` (a repeated key: the last value wins, as for REQUEST).
    pub(super) fn headers(&mut self) -> Result<Headers, Error> {
        let mut headers = HeadersReader::default();
        for _ in 0..rmp::decode::read_map_len(&mut self.rest)? {
            let key = self.str()?;
            let value = self.str()?;
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
