//! The writer: every integer and length in its smallest MessagePack form, and the exact size
//! of each value, so that a frame is sized before it is written.
//!
//! Functions take any [`BufMut`], so the call path can build a frame's prefix on the stack.

use bytes::BufMut;

use super::super::{Headers, ProtocolError};

/// The MessagePack `nil` marker.
pub(crate) const NIL: u8 = 0xc0;
/// The largest `bin` header: the marker and a 32-bit length.
pub(crate) const MAX_BIN_HEADER: usize = 5;

/// A length MessagePack can carry (32 bits), or the error that says it cannot.
pub(crate) fn len32(len: usize) -> Result<u32, ProtocolError> {
    u32::try_from(len).map_err(|_| too_long(len))
}

#[cold]
fn too_long(len: usize) -> ProtocolError {
    ProtocolError::TooLong { len }
}

/// The encoded size of the non-negative integer `n`.
pub(crate) fn uint_len(n: u64) -> usize {
    match n {
        0..=0x7f => 1,
        0x80..=0xff => 2,
        0x100..=0xffff => 3,
        0x1_0000..=0xffff_ffff => 5,
        _ => 9,
    }
}

pub(crate) fn put_uint(out: &mut impl BufMut, n: u64) {
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

/// Bytes [`put_array_len`] writes for `len` (when it fits 32 bits).
pub(crate) fn array_len_len(len: usize) -> usize {
    match len {
        0..=15 => 1,
        16..=0xffff => 3,
        _ => 5,
    }
}

pub(crate) fn put_opt_uint(out: &mut impl BufMut, n: Option<u64>) {
    match n {
        Some(n) => put_uint(out, n),
        None => out.put_u8(NIL),
    }
}

pub(crate) fn put_bool(out: &mut impl BufMut, b: bool) {
    out.put_u8(if b { 0xc3 } else { 0xc2 });
}

/// The encoded size of a `str` of `len` bytes, header included.
pub(crate) fn str_len(len: usize) -> usize {
    len + match len {
        0..=31 => 1,
        32..=0xff => 2,
        0x100..=0xffff => 3,
        _ => 5,
    }
}

pub(crate) fn put_str(out: &mut impl BufMut, s: &str) -> Result<(), ProtocolError> {
    let len = len32(s.len())?;
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
            out.put_u32(len);
        }
    }
    out.put_slice(s.as_bytes());
    Ok(())
}

pub(crate) fn put_opt_str(out: &mut impl BufMut, s: Option<&str>) -> Result<(), ProtocolError> {
    match s {
        Some(s) => put_str(out, s),
        None => {
            out.put_u8(NIL);
            Ok(())
        }
    }
}

/// The size of the `bin` header of a body of `len` bytes.
pub(crate) fn bin_header_len(len: usize) -> usize {
    match len {
        0..=0xff => 2,
        0x100..=0xffff => 3,
        _ => 5,
    }
}

/// The `bin` header of a body of `len` bytes, and how many of its bytes are used.
pub(crate) fn bin_header(len: usize) -> Result<([u8; MAX_BIN_HEADER], usize), ProtocolError> {
    let len = len32(len)?;
    let mut h = [0; MAX_BIN_HEADER];
    Ok(match len {
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
            h[1..5].copy_from_slice(&len.to_be_bytes());
            (h, 5)
        }
    })
}

/// The header of a `bin` of `len` bytes, whose bytes the caller appends.
pub(crate) fn put_bin_header(out: &mut impl BufMut, len: usize) -> Result<(), ProtocolError> {
    let (header, used) = bin_header(len)?;
    out.put_slice(&header[..used]);
    Ok(())
}

pub(crate) fn put_bin(out: &mut impl BufMut, bytes: &[u8]) -> Result<(), ProtocolError> {
    put_bin_header(out, bytes.len())?;
    out.put_slice(bytes);
    Ok(())
}

/// The header of an array of `len` elements (fixed-size envelopes write their `0x9n` marker
/// directly).
pub(crate) fn put_array_len(out: &mut impl BufMut, len: usize) -> Result<(), ProtocolError> {
    let len = len32(len)?;
    match len {
        0..=15 => out.put_u8(0x90 | len as u8),
        16..=0xffff => {
            out.put_u8(0xdc);
            out.put_u16(len as u16);
        }
        _ => {
            out.put_u8(0xdd);
            out.put_u32(len);
        }
    }
    Ok(())
}

/// The encoded size of `headers`, a map of `str` to `str`.
pub(crate) fn headers_len(headers: &Headers) -> usize {
    let marker = match headers.len() {
        0..=15 => 1,
        16..=0xffff => 3,
        _ => 5,
    };
    let mut len = marker;
    headers.for_each(|k, v| len += str_len(k.len()) + str_len(v.len()));
    len
}

/// `headers` as a map of `str` to `str`, keys in byte order.
pub(crate) fn put_headers(out: &mut impl BufMut, headers: &Headers) -> Result<(), ProtocolError> {
    let n = len32(headers.len())?;
    match n {
        0..=15 => out.put_u8(0x80 | n as u8),
        16..=0xffff => {
            out.put_u8(0xde);
            out.put_u16(n as u16);
        }
        _ => {
            out.put_u8(0xdf);
            out.put_u32(n);
        }
    }
    let mut result = Ok(());
    headers.for_each(|key, value| {
        if result.is_ok() {
            result = put_str(out, key).and_then(|()| put_str(out, value));
        }
    });
    result
}
