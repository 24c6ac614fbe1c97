//! [`on_datagram`]: what a server does with the frame of one datagram. A datagram carries no
//! connection, so there is no handshake state and nothing to close: each CONN is answered (or
//! refused) on its own, a PING is answered at once, a REQUEST is handed on, and every kind the
//! server does not serve gets the same answer as on a stream.

use bytes::{Bytes, BytesMut};

use super::server::{answer_hello, unknown_kind, Step};
use crate::protocol::{kind, Envelope, ErrorCode, ErrorFrame, Frame, Hello, Ping, Pong};

fn encode(envelope: &impl Envelope) -> Bytes {
    let mut out = BytesMut::new();
    envelope
        .write_frame(&mut out)
        .expect("a datagram's answer always encodes");
    out.freeze()
}

fn error(code: ErrorCode, message: String) -> Step {
    Step::Send(encode(&ErrorFrame {
        id: None,
        code,
        message,
    }))
}

/// The step for `frame`, read from one datagram by a server named `agent` that accepts
/// frames of `max_frame` and `max_in_flight` requests: [`Step::Send`] (an answer to the
/// sender), [`Step::Request`], or [`Step::Nothing`].
pub fn on_datagram(frame: Frame, agent: &str, max_frame: usize, max_in_flight: usize) -> Step {
    match frame.kind {
        kind::REQUEST => Step::Request(frame),
        kind::CONN => match Hello::from_frame(&frame) {
            Ok(hello) => match answer_hello(&hello, agent, max_frame, max_in_flight) {
                Ok(ours) => Step::Send(encode(&ours)),
                // A datagram peer is not closed: it is told, and may try again.
                Err((code, message)) => error(code, message),
            },
            Err(e) => error(ErrorCode::Protocol, format!("bad CONN: {e}")),
        },
        kind::PING => match Ping::from_frame(&frame) {
            Ok(Ping { nonce }) => Step::Send(encode(&Pong { nonce })),
            Err(e) => error(e.code(), e.to_string()),
        },
        // A reply, an error, a cancel or a goodbye needs no answer over datagrams.
        kind::PONG | kind::ERROR | kind::CANCEL | kind::DISCONN => Step::Nothing,
        other => Step::Send(encode(&unknown_kind(other))),
    }
}
