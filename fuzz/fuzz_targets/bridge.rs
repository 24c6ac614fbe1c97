//! The bridge envelopes: BRIDGE_HELLO, BRIDGE_CHALLENGE, BRIDGE_PROOF, BRIDGE_LINK_STATE,
//! BRIDGE_INTEREST, BRIDGE_RESYNC and BRIDGE_MESSAGE, round-tripped, then handed to what a hub
//! does first with an advert or an interest update (a fresh database takes it or refuses it).
//!
//! Input: `kind: u16 BE | payload`, as for the `envelope` target.
#![no_main]

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use hubwire_core::bridge::{HubId, InterestDb, InterestUpdate, LinkState, LinkStateDb};
use hubwire_core::protocol::{
    kind, write_bridge_frame, BridgeChallenge, BridgeHello, BridgeMessage, BridgeProof,
    BridgeResync, Envelope,
};
use hubwire_fuzz::round_trip;
use libfuzzer_sys::fuzz_target;

/// The hub that receives, never the origin of a decoded value unless the input says so.
const ME: HubId = HubId(0x5eed);

fuzz_target!(|data: &[u8]| {
    let Some((kind, payload)) = data.split_first_chunk::<2>() else {
        return;
    };
    let payload = Bytes::copy_from_slice(payload);
    match u16::from_be_bytes(*kind) {
        kind::BRIDGE_HELLO => hello(&payload),
        kind::BRIDGE_CHALLENGE => challenge(&payload),
        kind::BRIDGE_PROOF => proof(&payload),
        kind::BRIDGE_LINK_STATE => link_state(&payload),
        kind::BRIDGE_INTEREST => interest(&payload),
        kind::BRIDGE_RESYNC => resync(&payload),
        kind::BRIDGE_MESSAGE => message(&payload),
        _ => {
            hello(&payload);
            challenge(&payload);
            proof(&payload);
            link_state(&payload);
            interest(&payload);
            resync(&payload);
            message(&payload);
        }
    }
});

fn hello(payload: &Bytes) {
    round_trip::<BridgeHello>(kind::BRIDGE_HELLO, payload);
}

fn challenge(payload: &Bytes) {
    round_trip::<BridgeChallenge>(kind::BRIDGE_CHALLENGE, payload);
}

fn proof(payload: &Bytes) {
    round_trip::<BridgeProof>(kind::BRIDGE_PROOF, payload);
}

fn resync(payload: &Bytes) {
    round_trip::<BridgeResync>(kind::BRIDGE_RESYNC, payload);
}

fn link_state(payload: &Bytes) {
    let Some(advert) = round_trip::<LinkState>(kind::BRIDGE_LINK_STATE, payload) else {
        return;
    };
    let mut db = LinkStateDb::new(ME, Duration::from_secs(30));
    let taken = db.apply(&advert);
    assert!(
        !(taken && advert.origin == ME),
        "a hub took an advert about itself"
    );
}

fn interest(payload: &Bytes) {
    let Some(update) = round_trip::<InterestUpdate>(kind::BRIDGE_INTEREST, payload) else {
        return;
    };
    if let Err(invalid) = update.validate() {
        let _ = invalid.to_string();
    }
    let mut db = InterestDb::new(ME, 1024);
    let _ = db.apply(&update);
    for part in db.full_all(16) {
        part.validate()
            .expect("a database hands out only valid parts");
    }
}

fn message(payload: &Bytes) {
    let Some(m) = round_trip::<BridgeMessage>(kind::BRIDGE_MESSAGE, payload) else {
        return;
    };
    // A forwarder writes straight into its buffer, after what is already there.
    let mut out = BytesMut::from(&b"queued"[..]);
    write_bridge_frame(m.origin, m.seq, m.hops, &m.picks, &m.publish, &mut out)
        .expect("a decoded message encodes");
    assert_eq!(
        out[6..],
        m.to_frame_bytes().unwrap(),
        "write_bridge_frame disagrees"
    );
}
