//! The round trip every envelope target runs: a value that decodes must encode, and decode
//! back to itself. A decoder that accepts what its encoder cannot write, or reads a field
//! differently from how it is written, then fails loudly instead of corrupting a message.

use std::fmt::Debug;

use bytes::{Bytes, BytesMut};
use hubwire_core::protocol::{decode_frame, Envelope, Frame, ProtocolError, LENGTH_BYTES};

/// Decodes `payload` as an `E` (its kind checked by `from_frame`); when that works, checks the
/// round trip and returns the value, otherwise exercises the error and returns `None`.
pub fn round_trip<E>(kind: u16, payload: &Bytes) -> Option<E>
where
    E: Envelope + PartialEq + Debug,
{
    let frame = Frame::new(kind, payload.clone());
    let value = match E::from_frame(&frame) {
        Ok(value) => value,
        Err(e) => {
            check_error(&e);
            return None;
        }
    };
    let bytes = value
        .to_frame_bytes()
        .unwrap_or_else(|e| panic!("{value:?} decoded but does not encode: {e}"));
    let again = read_back(&bytes);
    let decoded = E::from_frame(&again)
        .unwrap_or_else(|e| panic!("{value:?} encodes to bytes it cannot decode: {e}"));
    assert_eq!(value, decoded, "the round trip changed the value");
    // The two ways to write a frame agree.
    let framed = value.to_frame().expect("to_frame_bytes worked");
    assert_eq!(framed, again, "to_frame and to_frame_bytes disagree");
    Some(value)
}

/// The one whole frame in `bytes`, which an encoder wrote.
pub(crate) fn read_back(bytes: &[u8]) -> Frame {
    let mut buf = BytesMut::from(bytes);
    let frame = decode_frame(&mut buf, usize::MAX)
        .expect("an encoded frame is well framed")
        .expect("an encoded frame is whole");
    assert!(buf.is_empty(), "an encoder wrote bytes after its frame");
    assert!(frame.payload.len() + 2 + LENGTH_BYTES == bytes.len());
    frame
}

/// Everything a server does with a decode error: its message, its code, whether the stream is
/// lost. None of it may panic, whatever the error holds.
pub fn check_error(e: &ProtocolError) {
    let _ = e.to_string();
    let _ = e.code();
    let _ = e.loses_framing();
    // Decode errors of a payload never lose the framing: the frame was read whole.
    if matches!(
        e,
        ProtocolError::Decode { .. }
            | ProtocolError::TrailingBytes { .. }
            | ProtocolError::Invalid { .. }
    ) {
        assert!(!e.loses_framing(), "a payload error lost the framing: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hubwire_core::protocol::Ping;

    #[test]
    fn a_ping_survives_the_round_trip() {
        let payload = Bytes::from_static(&[0x91, 0x2a]);
        let ping: Ping = round_trip(4, &payload).unwrap();
        assert_eq!(ping.nonce, 42);
        assert!(round_trip::<Ping>(5, &payload).is_none());
    }
}
