//! The work-queue envelopes: exact bytes, round trips, and the strict decoding rules.

use bytes::Bytes;

use super::*;
use crate::protocol::{Frame, WireError};

fn round_trip<E: Envelope + PartialEq + std::fmt::Debug>(value: E) {
    let frame = value.to_frame().unwrap();
    assert_eq!(E::from_frame(&frame).unwrap(), value);
}

fn decode_error<E: Envelope + std::fmt::Debug>(payload: &[u8]) -> ProtocolError {
    E::read_payload(&Bytes::copy_from_slice(payload)).unwrap_err()
}

#[test]
fn every_envelope_round_trips() {
    round_trip(WorkStatus {
        body: Bytes::from_static(&[0x81, 0xa4, b'b', b'u', b's', b'y', 0xc3]),
    });
    round_trip(Enqueue {
        reference: 7,
        queue: "mail.send".into(),
        flags: SEND_ALL,
        items: vec![Bytes::from_static(b"a"), Bytes::new()],
    });
    round_trip(Enqueued {
        reference: 7,
        ids: vec![1, 300, u64::MAX],
    });
    round_trip(Take {
        queues: vec!["a".into(), "b".into()],
        credit: 16,
    });
    round_trip(Taken { credit: 16 });
    round_trip(Deliver {
        lease: 9,
        queue: "a".into(),
        id: 42,
        delivery: 2,
        visibility_ms: 30_000,
        flags: BROADCAST,
        body: Bytes::from_static(b"job"),
    });
    round_trip(Ack { lease: 9 });
    round_trip(Nack {
        lease: 9,
        delay_ms: 500,
        reason: "db down".into(),
    });
    round_trip(Reject {
        lease: 9,
        reason: "bad input".into(),
    });
    round_trip(Progress {
        lease: 9,
        extend_ms: 0,
    });
}

#[test]
fn deliver_has_the_documented_bytes() {
    // docs/protocol.md section 12, the DELIVER example.
    let deliver = Deliver {
        lease: 5,
        queue: "jobs".into(),
        id: 42,
        delivery: 1,
        visibility_ms: 30_000,
        flags: 0,
        body: Bytes::from_static(b"hi"),
    };
    let hex: String = deliver
        .to_frame_bytes()
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(hex, "0000001300639705a46a6f62732a01cd753000c4026869");
}

#[test]
fn enqueue_bodies_are_slices_of_the_payload() {
    let frame = Enqueue {
        reference: 1,
        queue: "q".into(),
        flags: 0,
        items: vec![Bytes::from_static(b"body")],
    }
    .to_frame()
    .unwrap();
    let read = Enqueue::from_frame(&frame).unwrap();
    let start = frame.payload.as_ptr() as usize;
    let body = read.items[0].as_ptr() as usize;
    assert!(body > start && body < start + frame.payload.len());
}

#[test]
fn strict_decoding_refuses_with_typed_errors() {
    // Flags with an undefined bit.
    let bad_flags = decode_error::<Enqueue>(&[0x94, 0x01, 0xa1, b'q', 0x02, 0x90]);
    assert!(matches!(
        bad_flags,
        ProtocolError::Decode {
            source: WireError::OutOfRange { value: 2, max: 1 },
            ..
        }
    ));
    // A str where the body's bin belongs.
    let str_body = decode_error::<WorkStatus>(&[0x91, 0xa1, b'x']);
    assert!(matches!(
        str_body,
        ProtocolError::Decode {
            source: WireError::WrongType { .. },
            ..
        }
    ));
    // An array of items announcing more than the payload could hold.
    let huge =
        decode_error::<Enqueue>(&[0x94, 0x01, 0xa1, b'q', 0x00, 0xdd, 0xff, 0xff, 0xff, 0xff]);
    assert!(matches!(
        huge,
        ProtocolError::Decode {
            source: WireError::LengthOverPayload { .. },
            ..
        }
    ));
    // Bytes after the envelope.
    let trailing = decode_error::<Ack>(&[0x91, 0x01, 0x00]);
    assert!(matches!(
        trailing,
        ProtocolError::TrailingBytes { count: 1, .. }
    ));
    // A map where the array belongs, and a credit over 32 bits.
    assert!(decode_error::<Ack>(&[0x81, 0xa1, b'l', 0x01])
        .to_string()
        .contains("array"));
    let credit = decode_error::<Take>(&[0x92, 0x90, 0xcf, 0, 0, 0, 1, 0, 0, 0, 0]);
    assert!(matches!(
        credit,
        ProtocolError::Decode {
            source: WireError::OutOfRange { .. },
            ..
        }
    ));
    // Every such error is a payload error: code 100, framing kept.
    assert_eq!(credit.code(), crate::protocol::ErrorCode::Protocol);
}

#[test]
fn a_frame_of_another_kind_is_refused() {
    let frame = Frame::new(kind::WORK_ACK, Bytes::from_static(&[0x91, 0x01]));
    assert!(matches!(
        Nack::from_frame(&frame),
        Err(ProtocolError::UnexpectedKind { .. })
    ));
}
