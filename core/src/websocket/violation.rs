//! What a WebSocket peer can do wrong at the message level, with the hubwire error code its
//! ERROR frame carries and the WebSocket close code that follows.

use std::io;

use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::protocol::ErrorCode;

/// A message that breaks the rule "one protocol frame per binary message", or the WebSocket
/// protocol itself. The connection answers with an ERROR frame and closes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebSocketViolation {
    /// A text message: hubwire frames are binary.
    #[error("a text WebSocket message of {size} bytes was sent: hubwire takes binary messages only, one protocol frame each")]
    TextMessage {
        /// Its size.
        size: usize,
    },
    /// A binary message whose size disagrees with the length of the frame it starts with.
    #[error("a binary WebSocket message of {size} bytes does not hold exactly one frame (its first 4 bytes announce {announced}): send one whole frame per message")]
    NotOneFrame {
        /// Its size.
        size: usize,
        /// The frame size its length field announces (with the field), if it has one.
        announced: String,
    },
    /// A message over the largest frame (and its length field).
    #[error("a WebSocket message of {size} bytes or more is over the maximum of {max} bytes (one frame of max_frame and its 4-byte length; raise max_frame on both sides to send more)")]
    TooLarge {
        /// Its size, as far as it was read.
        size: usize,
        /// The most allowed.
        max: usize,
    },
    /// The WebSocket protocol was broken (an unmasked client frame, a bad opcode, ...).
    #[error("the WebSocket protocol was broken: {0}")]
    Protocol(String),
}

impl WebSocketViolation {
    /// The code of the ERROR frame sent before closing.
    pub fn code(&self) -> ErrorCode {
        match self {
            WebSocketViolation::TooLarge { .. } => ErrorCode::FrameTooLarge,
            _ => ErrorCode::Protocol,
        }
    }

    /// The WebSocket close code that ends the connection: 1003 for text, 1007 for a message
    /// that is not one frame, 1009 for one too large, 1002 for a broken WebSocket protocol.
    pub fn close_code(&self) -> u16 {
        match self {
            WebSocketViolation::TextMessage { .. } => CloseCode::Unsupported.into(),
            WebSocketViolation::NotOneFrame { .. } => CloseCode::Invalid.into(),
            WebSocketViolation::TooLarge { .. } => CloseCode::Size.into(),
            WebSocketViolation::Protocol(_) => CloseCode::Protocol.into(),
        }
    }

    /// The violation an I/O error from a [`WebSocketBytes`](super::WebSocketBytes) read
    /// carries, if it is one.
    pub fn in_io(error: &io::Error) -> Option<&WebSocketViolation> {
        error.get_ref()?.downcast_ref()
    }

    /// As an I/O error, which is what a byte stream's reader can return.
    pub(super) fn into_io(self) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, self)
    }

    /// Checks that `message` is exactly one frame: its length field plus 4 is its size.
    pub(super) fn check_one_frame(message: &[u8]) -> Result<(), WebSocketViolation> {
        let announced = message
            .first_chunk::<4>()
            .map(|len| u64::from(u32::from_be_bytes(*len)) + 4);
        match announced {
            Some(announced) if announced == message.len() as u64 => Ok(()),
            announced => Err(WebSocketViolation::NotOneFrame {
                size: message.len(),
                announced: announced.map_or_else(
                    || "nothing: it is shorter than the length field".to_owned(),
                    |n| format!("{n} bytes"),
                ),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Envelope, Ping};
    use proptest::prelude::*;

    #[test]
    fn a_whole_frame_passes_and_anything_else_is_named() {
        let frame = Ping { nonce: 7 }.to_frame_bytes().unwrap();
        assert_eq!(WebSocketViolation::check_one_frame(&frame), Ok(()));
        let two: Vec<u8> = frame.iter().chain(frame.iter()).copied().collect();
        let err = WebSocketViolation::check_one_frame(&two).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Protocol);
        assert_eq!(err.close_code(), 1007);
        assert!(err.to_string().contains("exactly one frame"), "{err}");
        let short = WebSocketViolation::check_one_frame(&[0, 0]).unwrap_err();
        assert!(short.to_string().contains("shorter"), "{short}");
        assert!(WebSocketViolation::check_one_frame(&frame[..frame.len() - 1]).is_err());
    }

    #[test]
    fn codes_follow_the_table_of_the_docs() {
        let text = WebSocketViolation::TextMessage { size: 3 };
        assert_eq!(
            (text.code(), text.close_code()),
            (ErrorCode::Protocol, 1003)
        );
        let big = WebSocketViolation::TooLarge { size: 9, max: 8 };
        assert_eq!(
            (big.code(), big.close_code()),
            (ErrorCode::FrameTooLarge, 1009)
        );
        let broken = WebSocketViolation::Protocol("unmasked".into());
        assert_eq!(broken.close_code(), 1002);
        let io = big.clone().into_io();
        assert_eq!(WebSocketViolation::in_io(&io), Some(&big));
        assert_eq!(WebSocketViolation::in_io(&io::Error::other("x")), None);
    }

    proptest! {
        /// The check never panics, and passes exactly the messages whose length field matches.
        #[test]
        fn the_one_frame_check_agrees_with_the_length_field(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let ok = WebSocketViolation::check_one_frame(&bytes).is_ok();
            let expected = bytes.len() >= 4
                && u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize + 4 == bytes.len();
            prop_assert_eq!(ok, expected);
        }
    }
}
