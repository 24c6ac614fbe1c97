//! [`Reader`]: values taken off the front of a payload, text and bytes borrowed from it.

use super::super::headers::HeadersReader;
use super::super::{Headers, ProtocolError, DEADLINE_MS};
use super::write::NIL;
use super::WireError;

/// Which MessagePack types a text or bytes field may come in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Form {
    /// `str` only: the text of the pub/sub envelopes.
    Str,
    /// `bin` only: pub/sub bodies, nonces, MACs.
    Bin,
    /// `str` or `bin`: text of the call, control and bridge envelopes (as UTF-8, checked), and
    /// the bodies of REQUEST and RESPONSE (`docs/protocol.md`, section 9).
    StrOrBin,
}

impl Form {
    fn expected(self) -> &'static str {
        match self {
            Form::Str => "str",
            Form::Bin => "bin",
            Form::StrOrBin => "str or bin",
        }
    }
}

/// Takes values off the front of a payload.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(payload: &'a [u8]) -> Self {
        Reader { rest: payload }
    }

    /// Bytes not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.rest.len()
    }

    fn marker(&mut self) -> Result<u8, WireError> {
        let (&m, rest) = self.rest.split_first().ok_or(WireError::Truncated)?;
        self.rest = rest;
        Ok(m)
    }

    /// A big-endian unsigned number of `N` bytes (1, 2, 4 or 8).
    fn be<const N: usize>(&mut self) -> Result<u64, WireError> {
        let (bytes, rest) = self
            .rest
            .split_first_chunk::<N>()
            .ok_or(WireError::Truncated)?;
        self.rest = rest;
        Ok(bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    /// `len` bytes, checked against what is left before anything is taken.
    fn take(&mut self, len: u64) -> Result<&'a [u8], WireError> {
        let remaining = self.rest.len();
        let Some(len) = usize::try_from(len).ok().filter(|&len| len <= remaining) else {
            return Err(WireError::LengthOverPayload {
                declared: len,
                remaining,
            });
        };
        let (taken, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(taken)
    }

    fn array_header(&mut self) -> Result<u64, WireError> {
        match self.marker()? {
            m @ 0x90..=0x9f => Ok(u64::from(m & 0x0f)),
            0xdc => self.be::<2>(),
            0xdd => self.be::<4>(),
            marker => Err(WireError::WrongType {
                expected: "an array",
                marker,
            }),
        }
    }

    /// An array header that must announce exactly `expected` elements.
    pub(crate) fn array_of(&mut self, expected: u32) -> Result<(), WireError> {
        let got = self.array_header()?;
        if got != u64::from(expected) {
            return Err(WireError::ArrayLength { expected, got });
        }
        Ok(())
    }

    /// An array header, its count bounded by the bytes left (an element takes at least one).
    pub(crate) fn array_len(&mut self) -> Result<usize, WireError> {
        let declared = self.array_header()?;
        self.bounded_count(declared, 1)
    }

    /// A map header, its count bounded by the bytes left (an entry takes at least two).
    fn map_len(&mut self) -> Result<usize, WireError> {
        let declared = match self.marker()? {
            m @ 0x80..=0x8f => u64::from(m & 0x0f),
            0xde => self.be::<2>()?,
            0xdf => self.be::<4>()?,
            marker => {
                return Err(WireError::WrongType {
                    expected: "a map",
                    marker,
                })
            }
        };
        self.bounded_count(declared, 2)
    }

    fn bounded_count(&self, declared: u64, min_bytes: u64) -> Result<usize, WireError> {
        let remaining = self.rest.len();
        if declared.saturating_mul(min_bytes) > remaining as u64 {
            return Err(WireError::LengthOverPayload {
                declared,
                remaining,
            });
        }
        Ok(declared as usize)
    }

    /// A non-negative integer in any MessagePack integer form.
    pub(crate) fn uint(&mut self) -> Result<u64, WireError> {
        let signed = |n: i64| u64::try_from(n).map_err(|_| WireError::Negative);
        match self.marker()? {
            m @ 0x00..=0x7f => Ok(u64::from(m)),
            0xcc => self.be::<1>(),
            0xcd => self.be::<2>(),
            0xce => self.be::<4>(),
            0xcf => self.be::<8>(),
            0xd0 => signed(i64::from(self.be::<1>()? as u8 as i8)),
            0xd1 => signed(i64::from(self.be::<2>()? as u16 as i16)),
            0xd2 => signed(i64::from(self.be::<4>()? as u32 as i32)),
            0xd3 => signed(self.be::<8>()? as i64),
            0xe0..=0xff => Err(WireError::Negative),
            marker => Err(WireError::WrongType {
                expected: "a non-negative integer",
                marker,
            }),
        }
    }

    /// A non-negative integer up to `max`.
    pub(crate) fn uint_up_to(&mut self, max: u64) -> Result<u64, WireError> {
        let value = self.uint()?;
        if value > max {
            return Err(WireError::OutOfRange { value, max });
        }
        Ok(value)
    }

    pub(crate) fn u32(&mut self) -> Result<u32, WireError> {
        Ok(self.uint_up_to(u64::from(u32::MAX))? as u32)
    }

    pub(crate) fn u16(&mut self) -> Result<u16, WireError> {
        Ok(self.uint_up_to(u64::from(u16::MAX))? as u16)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.uint_up_to(u64::from(u8::MAX))? as u8)
    }

    /// Whether the next value is `nil`; if so, it is taken.
    pub(crate) fn nil(&mut self) -> bool {
        if let Some((&NIL, rest)) = self.rest.split_first() {
            self.rest = rest;
            return true;
        }
        false
    }

    pub(crate) fn opt_uint(&mut self) -> Result<Option<u64>, WireError> {
        if self.nil() {
            return Ok(None);
        }
        self.uint().map(Some)
    }

    pub(crate) fn bool(&mut self) -> Result<bool, WireError> {
        match self.marker()? {
            0xc2 => Ok(false),
            0xc3 => Ok(true),
            marker => Err(WireError::WrongType {
                expected: "a bool",
                marker,
            }),
        }
    }

    /// The bytes of a `str` or a `bin`, as `form` allows.
    pub(crate) fn bytes(&mut self, form: Form) -> Result<&'a [u8], WireError> {
        let marker = self.marker()?;
        let is_str = matches!(marker, 0xa0..=0xbf | 0xd9..=0xdb);
        let is_bin = matches!(marker, 0xc4..=0xc6);
        let allowed = match form {
            Form::Str => is_str,
            Form::Bin => is_bin,
            Form::StrOrBin => is_str || is_bin,
        };
        if !allowed {
            return Err(WireError::WrongType {
                expected: form.expected(),
                marker,
            });
        }
        let len = match marker {
            0xd9 | 0xc4 => self.be::<1>()?,
            0xda | 0xc5 => self.be::<2>()?,
            0xdb | 0xc6 => self.be::<4>()?,
            fixstr => u64::from(fixstr & 0x1f),
        };
        self.take(len)
    }

    /// UTF-8 text, in a `str` (or a `bin`, as `form` allows).
    pub(crate) fn text(&mut self, form: Form) -> Result<&'a str, WireError> {
        Ok(std::str::from_utf8(self.bytes(form)?)?)
    }

    pub(crate) fn opt_text(&mut self, form: Form) -> Result<Option<&'a str>, WireError> {
        if self.nil() {
            return Ok(None);
        }
        self.text(form).map(Some)
    }

    /// A map of text to text, keys and values in `form` (a repeated key's last value wins).
    pub(crate) fn headers(&mut self, form: Form) -> Result<Headers, WireError> {
        let mut headers = HeadersReader::default();
        for _ in 0..self.map_len()? {
            let key = self.bytes(form)?;
            // The key on every call, known by its bytes.
            let key = if key == DEADLINE_MS.as_bytes() {
                DEADLINE_MS
            } else {
                std::str::from_utf8(key)?
            };
            let value = self.text(form)?;
            headers.push_str(key, value);
        }
        Ok(headers.finish())
    }

    /// Checks that the payload was used whole.
    pub(crate) fn finish(self, kind: u16) -> Result<(), ProtocolError> {
        if !self.rest.is_empty() {
            return Err(ProtocolError::TrailingBytes {
                kind,
                count: self.rest.len(),
            });
        }
        Ok(())
    }
}
