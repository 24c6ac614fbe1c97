//! A bridge link's admission on the listening hub: challenged on BRIDGE_HELLO, admitted only
//! on a proof under the shared secret, frames held while the link registers, timers.

use std::time::{Duration, Instant};

use bytes::BytesMut;
use proptest::prelude::*;

use super::*;
use crate::bridge::auth::{LinkParties, Role};
use crate::bridge::HubId;
use crate::protocol::{
    decode_frame, kind, BridgeHello, BridgeProof, Envelope, ErrorCode, Frame, Nonce,
};

const SECRET: &[u8] = b"correct horse battery staple";
const ME: HubId = HubId(2);
const DIALER: HubId = HubId(1);
const DIALER_NONCE: Nonce = [1; 16];
const OUR_NONCE: Nonce = [2; 16];

fn keys() -> Option<BridgeKeys<'static>> {
    Some(BridgeKeys {
        me: ME,
        secret: SECRET,
    })
}

fn frame_of(envelope: &impl Envelope) -> Frame {
    let mut buf = BytesMut::from(&envelope.to_frame_bytes().unwrap()[..]);
    decode_frame(&mut buf, usize::MAX).unwrap().unwrap()
}

fn hello(hub: HubId) -> Frame {
    frame_of(&BridgeHello {
        hub,
        nonce: DIALER_NONCE,
        name: "tcp://10.0.0.1:7400".into(),
    })
}

fn parties() -> LinkParties {
    LinkParties {
        dialer: (DIALER, DIALER_NONCE),
        listener: (ME, OUR_NONCE),
    }
}

/// The dialer's proof under `secret`.
fn proof(secret: &[u8]) -> Frame {
    frame_of(&BridgeProof {
        mac: parties().proof(secret, Role::Dialer),
    })
}

fn step(end: &mut BridgeEnd<&'static str>, frame: Frame, now: Instant) -> BridgeStep {
    end.on_frame(frame, keys(), OUR_NONCE, now)
}

#[test]
fn a_dialer_that_proves_the_secret_is_admitted_and_proven_to() {
    let now = Instant::now();
    let mut end = BridgeEnd::default();
    assert!(!end.is_engaged());
    let BridgeStep::Challenge(challenge) = step(&mut end, hello(DIALER), now) else {
        panic!("challenged")
    };
    assert_eq!((challenge.hub, challenge.nonce), (ME, OUR_NONCE));
    let BridgeStep::Register {
        proof: ours,
        peer,
        name,
    } = step(&mut end, proof(SECRET), now)
    else {
        panic!("admitted")
    };
    assert_eq!((peer, name.as_str()), (DIALER, "tcp://10.0.0.1:7400"));
    assert!(parties().verify(SECRET, Role::Listener, &ours.mac));
    // Frames before the table registers the link wait, then come first, in order.
    let ping = Frame::new(kind::PING, vec![0x91, 0x01]);
    let pong = Frame::new(kind::PONG, vec![0x91, 0x01]);
    assert!(matches!(
        step(&mut end, ping.clone(), now),
        BridgeStep::Nothing
    ));
    assert!(matches!(
        step(&mut end, pong.clone(), now),
        BridgeStep::Nothing
    ));
    assert_eq!(end.linked("link", now), [ping, pong.clone()]);
    assert!(matches!(step(&mut end, pong, now), BridgeStep::Link(f) if f.kind == kind::PONG));
    assert_eq!(end.link_mut(), Some(&mut "link"));
    assert_eq!(end.end(), Some("link"));
    assert_eq!(end.end(), None, "ended once");
}

#[test]
fn a_wrong_secret_a_missing_one_and_a_broken_sequence_are_refused() {
    let now = Instant::now();
    let refused =
        |end: &mut BridgeEnd<&str>, frame, keys| match end.on_frame(frame, keys, OUR_NONCE, now) {
            BridgeStep::Refuse(code, message) => (code, message),
            other => panic!("refused, not {other:?}"),
        };
    let mut end = BridgeEnd::default();
    step(&mut end, hello(DIALER), now);
    let (code, message) = refused(&mut end, proof(b"wrong"), keys());
    assert_eq!(code, ErrorCode::Denied);
    assert!(message.contains("wrong bridge secret"));
    assert!(matches!(
        step(&mut end, proof(SECRET), now),
        BridgeStep::Nothing
    ));

    let (code, _) = refused(&mut BridgeEnd::default(), hello(DIALER), None);
    assert_eq!(
        code,
        ErrorCode::Denied,
        "a hub without a secret takes no bridges"
    );
    let (code, _) = refused(&mut BridgeEnd::default(), hello(ME), keys());
    assert_eq!(code, ErrorCode::Denied, "never to itself");
    let (code, message) = refused(&mut BridgeEnd::default(), proof(SECRET), keys());
    assert_eq!(code, ErrorCode::Protocol);
    assert!(message.contains("before BRIDGE_HELLO"));
    let mut end = BridgeEnd::default();
    step(&mut end, hello(DIALER), now);
    let (code, message) = refused(&mut end, hello(DIALER), keys());
    assert_eq!(code, ErrorCode::Protocol);
    assert!(message.contains("instead of BRIDGE_PROOF"));
}

#[test]
fn a_stalled_admission_times_out_and_a_live_link_is_kept_alive() {
    let t0 = Instant::now();
    let mut end = BridgeEnd::default();
    step(&mut end, hello(DIALER), t0);
    assert_eq!(end.on_tick(t0 + ADMISSION_TIMEOUT / 2), BridgeTick::Nothing);
    assert!(matches!(
        end.on_tick(t0 + ADMISSION_TIMEOUT),
        BridgeTick::Refuse(ErrorCode::Timeout, _)
    ));

    let mut end = BridgeEnd::default();
    step(&mut end, hello(DIALER), t0);
    step(&mut end, proof(SECRET), t0);
    assert_eq!(
        end.on_tick(t0 + Duration::from_secs(60)),
        BridgeTick::Nothing,
        "registering"
    );
    end.linked("link", t0);
    assert_eq!(end.on_tick(t0 + LINK_PING_EVERY / 2), BridgeTick::Nothing);
    assert_eq!(end.on_tick(t0 + LINK_PING_EVERY), BridgeTick::Keepalive);
    assert_eq!(
        end.on_tick(t0 + LINK_PING_EVERY + LINK_PING_EVERY / 2),
        BridgeTick::Nothing,
        "once per period"
    );
}

#[derive(Debug, Clone)]
enum Input {
    Hello,
    Proof { right_secret: bool },
    Other(u16, Vec<u8>),
    Linked,
    Tick(u64),
}

fn any_input() -> impl Strategy<Value = Input> {
    prop_oneof![
        Just(Input::Hello),
        any::<bool>().prop_map(|right_secret| Input::Proof { right_secret }),
        (any::<u16>(), prop::collection::vec(any::<u8>(), 0..16))
            .prop_map(|(k, p)| Input::Other(k, p)),
        Just(Input::Linked),
        (0u64..20_000).prop_map(Input::Tick),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Whatever the dialer sends, in any order: nothing panics, a link is registered only
    /// after a HELLO and then a proof under the secret, at most once, and nothing reaches the
    /// link before it is registered.
    #[test]
    fn only_a_proven_dialer_gets_a_link(inputs in prop::collection::vec(any_input(), 0..30)) {
        let t0 = Instant::now();
        let mut end: BridgeEnd<&str> = BridgeEnd::default();
        let mut said_hello = false;
        let mut registered = false;
        let mut linked = false;
        let mut refused = false;
        for input in inputs {
            let frame = match input {
                Input::Hello => hello(DIALER),
                Input::Proof { right_secret } => proof(if right_secret { SECRET } else { b"no" }),
                Input::Other(k, payload) => Frame::new(k, payload),
                Input::Linked => {
                    let early = end.linked("link", t0);
                    prop_assert!(registered || early.is_empty());
                    linked |= registered && !refused;
                    continue;
                }
                Input::Tick(ms) => {
                    if let BridgeTick::Refuse(..) = end.on_tick(t0 + Duration::from_millis(ms)) {
                        prop_assert!(!registered, "only an admission times out");
                        refused = true;
                    }
                    continue;
                }
            };
            let was_proof_right = frame == proof(SECRET);
            let is_hello = frame.kind == kind::BRIDGE_HELLO;
            match step(&mut end, frame, t0) {
                BridgeStep::Challenge(_) => {
                    prop_assert!(!said_hello && !refused);
                    said_hello = true;
                }
                BridgeStep::Register { .. } => {
                    prop_assert!(said_hello && was_proof_right && !registered && !refused);
                    registered = true;
                }
                BridgeStep::Link(_) => prop_assert!(linked),
                BridgeStep::Refuse(..) => {
                    prop_assert!(!registered);
                    refused = true;
                }
                BridgeStep::Nothing => {
                    prop_assert!(registered || refused || (is_hello && said_hello));
                }
            }
        }
    }
}
