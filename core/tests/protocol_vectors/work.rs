//! The work-queue kinds of section 12 against their vectors: STATUS, ENQUEUE and kinds 96-103.

use bytes::Bytes;
use hubwire_core::protocol::{
    kind, Ack, Deliver, Enqueue, Enqueued, Envelope, Frame, Nack, Progress, ProtocolError, Reject,
    Take, Taken, WorkStatus,
};

use super::{decode_and_encode, Obj};

/// The work kinds, each of which needs at least one valid vector.
pub(super) const WORK_KINDS: [u16; 10] = [
    kind::STATUS,
    kind::ENQUEUE,
    kind::WORK_ENQUEUED,
    kind::WORK_TAKE,
    kind::WORK_TAKEN,
    kind::WORK_DELIVER,
    kind::WORK_ACK,
    kind::WORK_NACK,
    kind::WORK_REJECT,
    kind::WORK_PROGRESS,
];

fn bin(f: &Obj<'_>, key: &str) -> Bytes {
    Bytes::from(f.hex(key))
}

fn u64s(f: &Obj<'_>, key: &str) -> Vec<u64> {
    f.array(key)
        .iter()
        .map(|v| v.as_u64().expect("an id is an unsigned integer"))
        .collect()
}

/// Decodes a work frame against the vector's fields; the envelope encoded again.
pub(super) fn check_work_fields(f: &Obj<'_>, frame: &Frame) -> Bytes {
    let name = f.vector;
    match frame.kind {
        kind::STATUS => {
            f.has_exactly(&["body_hex"]);
            let body = bin(f, "body_hex");
            decode_and_encode(name, frame, WorkStatus { body })
        }
        kind::ENQUEUE => {
            f.has_exactly(&["reference", "queue", "flags", "items_hex"]);
            let items = f
                .array("items_hex")
                .iter()
                .map(|v| Bytes::from(hex::decode(v.as_str().expect("hex")).expect("hex")))
                .collect();
            let expected = Enqueue {
                reference: f.u64("reference"),
                queue: f.str("queue").to_owned(),
                flags: f.u8("flags"),
                items,
            };
            decode_and_encode(name, frame, expected)
        }
        kind::WORK_ENQUEUED => {
            f.has_exactly(&["reference", "ids"]);
            let expected = Enqueued {
                reference: f.u64("reference"),
                ids: u64s(f, "ids"),
            };
            decode_and_encode(name, frame, expected)
        }
        kind::WORK_TAKE => {
            f.has_exactly(&["queues", "credit"]);
            let queues = f
                .array("queues")
                .iter()
                .map(|v| v.as_str().expect("a queue is a string").to_owned())
                .collect();
            let expected = Take {
                queues,
                credit: f.u32("credit"),
            };
            decode_and_encode(name, frame, expected)
        }
        kind::WORK_TAKEN => {
            f.has_exactly(&["credit"]);
            let credit = f.u32("credit");
            decode_and_encode(name, frame, Taken { credit })
        }
        kind::WORK_DELIVER => {
            f.has_exactly(&[
                "lease",
                "queue",
                "id",
                "delivery",
                "visibility_ms",
                "flags",
                "body_hex",
            ]);
            let expected = Deliver {
                lease: f.u64("lease"),
                queue: f.str("queue").to_owned(),
                id: f.u64("id"),
                delivery: f.u32("delivery"),
                visibility_ms: f.u64("visibility_ms"),
                flags: f.u8("flags"),
                body: bin(f, "body_hex"),
            };
            decode_and_encode(name, frame, expected)
        }
        kind::WORK_ACK => {
            f.has_exactly(&["lease"]);
            let lease = f.u64("lease");
            decode_and_encode(name, frame, Ack { lease })
        }
        kind::WORK_NACK => {
            f.has_exactly(&["lease", "delay_ms", "reason"]);
            let expected = Nack {
                lease: f.u64("lease"),
                delay_ms: f.u64("delay_ms"),
                reason: f.str("reason").to_owned(),
            };
            decode_and_encode(name, frame, expected)
        }
        kind::WORK_REJECT => {
            f.has_exactly(&["lease", "reason"]);
            let expected = Reject {
                lease: f.u64("lease"),
                reason: f.str("reason").to_owned(),
            };
            decode_and_encode(name, frame, expected)
        }
        kind::WORK_PROGRESS => {
            f.has_exactly(&["lease", "extend_ms"]);
            let expected = Progress {
                lease: f.u64("lease"),
                extend_ms: f.u64("extend_ms"),
            };
            decode_and_encode(name, frame, expected)
        }
        other => panic!("{name}: kind {other} is not a work kind"),
    }
}

/// Reads a work frame's payload with its envelope.
pub(super) fn read_work_payload(frame: &Frame) -> Result<(), ProtocolError> {
    match frame.kind {
        kind::STATUS => WorkStatus::from_frame(frame).map(drop),
        kind::ENQUEUE => Enqueue::from_frame(frame).map(drop),
        kind::WORK_ENQUEUED => Enqueued::from_frame(frame).map(drop),
        kind::WORK_TAKE => Take::from_frame(frame).map(drop),
        kind::WORK_TAKEN => Taken::from_frame(frame).map(drop),
        kind::WORK_DELIVER => Deliver::from_frame(frame).map(drop),
        kind::WORK_ACK => Ack::from_frame(frame).map(drop),
        kind::WORK_NACK => Nack::from_frame(frame).map(drop),
        kind::WORK_REJECT => Reject::from_frame(frame).map(drop),
        kind::WORK_PROGRESS => Progress::from_frame(frame).map(drop),
        other => panic!("kind {other} is not a work kind"),
    }
}
