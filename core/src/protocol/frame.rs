//! Framing: `length: u32 BE | kind: u16 BE | payload`, the same on every transport.
//!
//! `length` counts the bytes after itself (the kind and the payload), so it is at least 2. The
//! maximum frame size bounds `length`; a peer that announces more is cut off before a byte of the
//! payload is buffered.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::ProtocolError;

/// Bytes taken by the length field.
pub const LENGTH_BYTES: usize = 4;
/// Bytes taken by the kind field.
pub const KIND_BYTES: usize = 2;
/// Bytes before the payload.
pub const HEADER_BYTES: usize = LENGTH_BYTES + KIND_BYTES;

/// One frame: its kind and its undecoded payload (a slice of the read buffer, never a copy).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// What the payload is (see [`crate::protocol::kind`]).
    pub kind: u16,
    /// The MessagePack payload.
    pub payload: Bytes,
}

impl Frame {
    /// A frame of `kind` around `payload`.
    pub fn new(kind: u16, payload: impl Into<Bytes>) -> Self {
        Frame {
            kind,
            payload: payload.into(),
        }
    }

    /// The frame's bytes on the wire.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(HEADER_BYTES + self.payload.len());
        self.write_to(&mut out);
        out.freeze()
    }

    /// Appends the frame's bytes to `out`.
    pub fn write_to(&self, out: &mut BytesMut) {
        out.reserve(HEADER_BYTES + self.payload.len());
        out.put_u32((KIND_BYTES + self.payload.len()) as u32);
        out.put_u16(self.kind);
        out.extend_from_slice(&self.payload);
    }
}

/// Takes one whole frame off the front of `buf`, if one is there.
///
/// `Ok(None)` means more bytes are needed. An error means the framing is lost: the stream can no
/// longer be read and the connection must be closed (after an ERROR frame, where one can be sent).
pub fn decode_frame(buf: &mut BytesMut, max_frame: usize) -> Result<Option<Frame>, ProtocolError> {
    if buf.len() < LENGTH_BYTES {
        return Ok(None);
    }
    let length = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    if length < KIND_BYTES {
        return Err(ProtocolError::FrameTooShort { length });
    }
    if length > max_frame {
        return Err(ProtocolError::FrameTooLarge {
            length,
            max: max_frame,
        });
    }
    if buf.len() < LENGTH_BYTES + length {
        buf.reserve(LENGTH_BYTES + length - buf.len());
        return Ok(None);
    }
    buf.advance(LENGTH_BYTES);
    let mut body = buf.split_to(length).freeze();
    let kind = body.get_u16();
    Ok(Some(Frame {
        kind,
        payload: body,
    }))
}

/// Decodes exactly one frame from a datagram: the length must match the datagram's size.
pub fn decode_datagram(datagram: &[u8], max_frame: usize) -> Result<Frame, ProtocolError> {
    let mut buf = BytesMut::from(datagram);
    match decode_frame(&mut buf, max_frame)? {
        Some(frame) if buf.is_empty() => Ok(frame),
        Some(_) => Err(ProtocolError::DatagramLength {
            size: datagram.len(),
        }),
        None => Err(ProtocolError::DatagramLength {
            size: datagram.len(),
        }),
    }
}

/// A `tokio_util` codec for frames, for code that wants `Framed` streams.
#[derive(Clone, Copy, Debug)]
pub struct FrameCodec {
    /// The largest `length` accepted.
    pub max_frame: usize,
}

impl tokio_util::codec::Decoder for FrameCodec {
    type Item = Frame;
    type Error = ProtocolError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, ProtocolError> {
        decode_frame(src, self.max_frame)
    }
}

impl tokio_util::codec::Encoder<Frame> for FrameCodec {
    type Error = ProtocolError;

    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), ProtocolError> {
        frame.write_to(dst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_is_read_back_whole_and_only_when_complete() {
        let bytes = Frame::new(4, vec![0x91, 0x07]).to_bytes();
        assert_eq!(&bytes[..], &[0, 0, 0, 4, 0, 4, 0x91, 0x07]);
        for cut in 0..bytes.len() {
            let mut partial = BytesMut::from(&bytes[..cut]);
            assert_eq!(
                decode_frame(&mut partial, 1024).unwrap(),
                None,
                "cut at {cut}"
            );
        }
        let mut whole = BytesMut::from(&bytes[..]);
        let frame = decode_frame(&mut whole, 1024).unwrap().unwrap();
        assert_eq!(frame, Frame::new(4, vec![0x91, 0x07]));
        assert!(whole.is_empty());
    }

    #[test]
    fn lengths_outside_the_bounds_lose_the_framing() {
        let mut short = BytesMut::from(&[0u8, 0, 0, 1, 9][..]);
        assert!(matches!(
            decode_frame(&mut short, 1024),
            Err(ProtocolError::FrameTooShort { length: 1 })
        ));
        let mut long = BytesMut::from(&[0u8, 0, 4, 1][..]);
        assert!(matches!(
            decode_frame(&mut long, 1024),
            Err(ProtocolError::FrameTooLarge {
                length: 1025,
                max: 1024
            })
        ));
    }

    #[test]
    fn a_datagram_must_hold_exactly_one_frame() {
        let bytes = Frame::new(4, vec![0x91, 0x07]).to_bytes();
        assert!(decode_datagram(&bytes, 1024).is_ok());
        assert!(decode_datagram(&bytes[..bytes.len() - 1], 1024).is_err());
        let mut longer = bytes.to_vec();
        longer.push(0);
        assert!(decode_datagram(&longer, 1024).is_err());
    }
}
