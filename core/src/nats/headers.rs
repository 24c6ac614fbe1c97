//! NATS header blocks (`NATS/1.0[ status[ description]]\r\n`, then `Key: Value\r\n` lines and
//! an empty line) and hubwire [`Headers`]. A key given twice keeps its last value, as hubwire
//! headers hold one value per key.

use bytes::{BufMut, BytesMut};

use crate::protocol::Headers;

/// A header block read from an HPUB.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HeaderBlock {
    /// The status code on the first line (`503` for no responders), if any.
    pub status: Option<u16>,
    /// The headers.
    pub headers: Headers,
}

/// Why a header block cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// It does not start with `NATS/1.0`.
    #[error("a header block starts with NATS/1.0")]
    Version,
    /// A line that is not `Key: Value`, or text that is not UTF-8.
    #[error("a header line is not `Key: Value`: {0:?}")]
    Line(String),
}

/// Reads the header block of an HPUB.
pub fn read_headers(block: &[u8]) -> Result<HeaderBlock, HeaderError> {
    let text = std::str::from_utf8(block).map_err(|_| HeaderError::Line("not UTF-8".into()))?;
    let mut lines = text.split("\r\n");
    let first = lines.next().unwrap_or("");
    let rest = first.strip_prefix("NATS/1.0").ok_or(HeaderError::Version)?;
    let status = rest.split_whitespace().next().and_then(|s| s.parse().ok());
    let mut headers = Headers::new();
    for line in lines.filter(|line| !line.is_empty()) {
        let (key, value) = line
            .split_once(':')
            .filter(|_| !line.contains(['\r', '\n']))
            .filter(|(key, _)| !key.is_empty() && !key.contains(char::is_whitespace))
            .ok_or_else(|| HeaderError::Line(line.chars().take(64).collect()))?;
        headers.insert(key, value.trim());
    }
    Ok(HeaderBlock { status, headers })
}

/// Writes a header block: the status line (with `status` and its description, if any), then
/// each header whose key and value can be written on one line.
pub fn write_headers(out: &mut BytesMut, status: Option<(u16, &str)>, headers: &Headers) {
    out.put_slice(b"NATS/1.0");
    if let Some((code, description)) = status {
        out.put_slice(format!(" {code}").as_bytes());
        if !description.is_empty() {
            out.put_u8(b' ');
            out.put_slice(description.as_bytes());
        }
    }
    out.put_slice(b"\r\n");
    let one_line = |s: &str| !s.contains(['\r', '\n']);
    for (key, value) in headers.iter() {
        if one_line(key) && one_line(value) && !key.contains([':', ' ']) && !key.is_empty() {
            out.put_slice(key.as_bytes());
            out.put_slice(b": ");
            out.put_slice(value.as_bytes());
            out.put_slice(b"\r\n");
        }
    }
    out.put_slice(b"\r\n");
}
