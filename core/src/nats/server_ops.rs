//! What a NATS server sends: INFO, MSG, HMSG, PING, PONG, +OK and -ERR, written into a buffer.

use bytes::{BufMut, BytesMut};
use serde::Serialize;

/// The INFO a client gets on connecting (the fields clients rely on).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Info {
    /// A unique id of this server.
    pub server_id: String,
    /// Its name.
    pub server_name: String,
    /// Its version.
    pub version: String,
    /// 1: echo control is supported.
    pub proto: u32,
    /// Headers (HPUB, HMSG) are supported.
    pub headers: bool,
    /// The largest payload the server takes.
    pub max_payload: usize,
    /// The host it listens on.
    pub host: String,
    /// The port it listens on.
    pub port: u16,
    /// Whether CONNECT must carry credentials.
    pub auth_required: bool,
    /// Whether the client must upgrade to TLS right after this INFO (left out when not).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tls_required: bool,
}

/// `INFO {json}`.
pub fn write_info(out: &mut BytesMut, info: &Info) {
    out.put_slice(b"INFO ");
    let json = serde_json::to_vec(info).expect("INFO always serializes");
    out.put_slice(&json);
    out.put_slice(b"\r\n");
}

/// `MSG subject sid [reply] size`, or `HMSG ... header_size total_size` when there is a
/// header block, then the payload.
pub fn write_msg(
    out: &mut BytesMut,
    subject: &str,
    sid: &str,
    reply: Option<&str>,
    headers: Option<&[u8]>,
    payload: &[u8],
) {
    out.reserve(subject.len() + sid.len() + payload.len() + 48);
    out.put_slice(if headers.is_some() { b"HMSG " } else { b"MSG " });
    out.put_slice(subject.as_bytes());
    out.put_u8(b' ');
    out.put_slice(sid.as_bytes());
    if let Some(reply) = reply {
        out.put_u8(b' ');
        out.put_slice(reply.as_bytes());
    }
    let header_len = headers.map_or(0, <[u8]>::len);
    if headers.is_some() {
        put_number(out, header_len);
    }
    put_number(out, header_len + payload.len());
    out.put_slice(b"\r\n");
    if let Some(headers) = headers {
        out.put_slice(headers);
    }
    out.put_slice(payload);
    out.put_slice(b"\r\n");
}

/// `PING`.
pub fn write_ping(out: &mut BytesMut) {
    out.put_slice(b"PING\r\n");
}

/// `PONG`.
pub fn write_pong(out: &mut BytesMut) {
    out.put_slice(b"PONG\r\n");
}

/// `+OK` (to a verbose client).
pub fn write_ok(out: &mut BytesMut) {
    out.put_slice(b"+OK\r\n");
}

/// `-ERR 'text'`.
pub fn write_err(out: &mut BytesMut, text: &str) {
    out.put_slice(b"-ERR '");
    out.put_slice(text.replace(['\'', '\r', '\n'], " ").as_bytes());
    out.put_slice(b"'\r\n");
}

/// Appends a space and `n` in decimal: the sizes of MSG lines, without `fmt`'s machinery on
/// the path of every message.
pub(crate) fn put_number(out: &mut impl BufMut, n: usize) {
    // Most sizes are under a thousand: written without the loop.
    match n {
        0..=9 => out.put_slice(&[b' ', b'0' + n as u8]),
        10..=99 => out.put_slice(&[b' ', b'0' + (n / 10) as u8, b'0' + (n % 10) as u8]),
        100..=999 => out.put_slice(&[
            b' ',
            b'0' + (n / 100) as u8,
            b'0' + (n / 10 % 10) as u8,
            b'0' + (n % 10) as u8,
        ]),
        _ => {
            let mut digits = [0_u8; 20];
            let mut at = digits.len();
            let mut rest = n;
            while rest > 0 {
                at -= 1;
                digits[at] = b'0' + (rest % 10) as u8;
                rest /= 10;
            }
            out.put_u8(b' ');
            out.put_slice(&digits[at..]);
        }
    }
}
