//! The network work queue's envelopes: STATUS, ENQUEUE, ENQUEUED, TAKE, TAKEN, DELIVER, ACK,
//! NACK, REJECT and PROGRESS, each decoded and round-tripped.
//!
//! Input: `kind: u16 BE | payload`. A kind this target does not know has its payload tried on
//! every decoder here.
#![no_main]

use bytes::Bytes;
use hubwire_core::protocol::{
    kind, Ack, Deliver, Enqueue, Enqueued, Nack, Progress, Reject, Take, Taken, WorkStatus,
};
use hubwire_fuzz::round_trip;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((kind, payload)) = data.split_first_chunk::<2>() else {
        return;
    };
    let payload = Bytes::copy_from_slice(payload);
    let all = [
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
    let kind = u16::from_be_bytes(*kind);
    if all.contains(&kind) {
        decode(kind, &payload);
    } else {
        all.iter().for_each(|&k| decode(k, &payload));
    }
});

fn decode(kind: u16, payload: &Bytes) {
    match kind {
        kind::STATUS => drop(round_trip::<WorkStatus>(kind, payload)),
        kind::ENQUEUE => {
            if let Some(e) = round_trip::<Enqueue>(kind, payload) {
                assert!(e.flags & !hubwire_core::protocol::SEND_ALL == 0);
            }
        }
        kind::WORK_ENQUEUED => drop(round_trip::<Enqueued>(kind, payload)),
        kind::WORK_TAKE => drop(round_trip::<Take>(kind, payload)),
        kind::WORK_TAKEN => drop(round_trip::<Taken>(kind, payload)),
        kind::WORK_DELIVER => drop(round_trip::<Deliver>(kind, payload)),
        kind::WORK_ACK => drop(round_trip::<Ack>(kind, payload)),
        kind::WORK_NACK => drop(round_trip::<Nack>(kind, payload)),
        kind::WORK_REJECT => drop(round_trip::<Reject>(kind, payload)),
        kind::WORK_PROGRESS => drop(round_trip::<Progress>(kind, payload)),
        _ => {}
    }
}
