//! The host, port and path of a WebSocket address (`ws://HOST:PORT/PATH`).

use super::{parse_host_port, AddressError, HostPort};

/// Splits `rest` (what follows `ws://`) into the host and port, and the path (`""` when none
/// was written). The path must be a plain request path: no query, no fragment, no spaces.
pub(super) fn split(raw: &str, rest: &str) -> Result<(HostPort, String), AddressError> {
    let (host_port, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    if !path.bytes().all(is_path_byte) {
        return Err(AddressError::BadWebPath(raw.to_owned()));
    }
    Ok((parse_host_port(raw, host_port)?, path.to_owned()))
}

/// A byte a request path may hold as it is (RFC 3986 `pchar` and `/`, with `%` escapes).
fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@%/".contains(&b)
}
