//! The codec's rules hold for every envelope alike: a valid payload of each kind is cut short,
//! lengthened, given the wrong array length, written as a map, given bad text or an overlong
//! length, and each time refused with a typed error, never a panic. What `docs/protocol.md`
//! lets the decoders accept beyond section 3 (section 9) is still accepted.

use bytes::{BufMut, Bytes, BytesMut};
use proptest::prelude::*;
use serde::Serialize;

use super::envelope_samples::{interest, publish, read, samples};
use super::*;
use crate::bridge::{FullPart, HubId, Interest, InterestUpdate, LinkState};
use crate::pubsub::Pattern;

fn decode_error(kind: u16, payload: &[u8]) -> WireError {
    match read(kind, &Bytes::copy_from_slice(payload)) {
        Err(ProtocolError::Decode { kind: k, source }) if k == kind => source,
        other => panic!("{}: {payload:x?} gave {other:?}", kind::name(kind)),
    }
}

#[test]
fn every_sample_reads() {
    for (kind, payload) in samples() {
        read(kind, &payload).unwrap_or_else(|e| panic!("{}: {e}", kind::name(kind)));
    }
}

#[test]
fn every_envelope_cut_short_is_a_decode_error() {
    for (kind, payload) in samples() {
        for end in 0..payload.len() {
            let err = decode_error(kind, &payload[..end]);
            assert!(
                matches!(
                    err,
                    WireError::Truncated | WireError::LengthOverPayload { .. }
                ),
                "{}: cut at {end}: {err}",
                kind::name(kind)
            );
        }
    }
}

#[test]
fn a_byte_after_any_envelope_is_refused() {
    for (kind, payload) in samples() {
        let longer = [&payload[..], &[0xc0]].concat();
        let err = read(kind, &Bytes::from(longer)).unwrap_err();
        assert!(
            matches!(err, ProtocolError::TrailingBytes { kind: k, count: 1 } if k == kind),
            "{}: {err:?}",
            kind::name(kind)
        );
    }
}

#[test]
fn an_envelope_array_one_longer_or_shorter_is_refused() {
    for (kind, payload) in samples() {
        let fields = payload[0] & 0x0f;
        for wrong in [fields - 1, fields + 1] {
            let mut bytes = payload.to_vec();
            bytes[0] = 0x90 | wrong;
            let err = decode_error(kind, &bytes);
            assert_eq!(
                err,
                WireError::ArrayLength {
                    expected: u32::from(fields),
                    got: u64::from(wrong)
                },
                "{}",
                kind::name(kind)
            );
        }
    }
}

/// The old serde codec read the control and bridge envelopes written as maps keyed by field
/// name too; section 9 no longer allows it.
#[test]
fn envelopes_written_as_maps_are_refused() {
    #[derive(Serialize)]
    struct Nonce {
        nonce: u64,
    }
    #[derive(Serialize)]
    struct Resync {
        origin: u64,
    }
    #[derive(Serialize)]
    struct Error<'a> {
        id: Option<u64>,
        code: u16,
        message: &'a str,
    }
    let ping = rmp_serde::to_vec_named(&Nonce { nonce: 7 }).unwrap();
    let resync = rmp_serde::to_vec_named(&Resync { origin: 7 }).unwrap();
    let error = rmp_serde::to_vec_named(&Error {
        id: None,
        code: 100,
        message: "m",
    })
    .unwrap();
    for (kind, map) in [
        (kind::PING, &ping),
        (kind::BRIDGE_RESYNC, &resync),
        (kind::ERROR, &error),
    ] {
        assert!(
            matches!(
                decode_error(kind, map),
                WireError::WrongType {
                    expected: "an array",
                    ..
                }
            ),
            "{}",
            kind::name(kind)
        );
    }
}

#[test]
fn integers_out_of_their_field_range_are_refused() {
    let range = |kind, payload: &[u8], max: u64| {
        assert!(
            matches!(decode_error(kind, payload), WireError::OutOfRange { max: m, .. } if m == max),
            "{}",
            kind::name(kind)
        );
    };
    // Hello version 2^32; an ERROR and a REFUSED code 65536; BRIDGE_MESSAGE hops 256 (read as
    // 255 by the old decoder).
    let over_u32 = [0xcf, 0, 0, 0, 1, 0, 0, 0, 0];
    range(
        kind::CONN,
        &[&[0x94][..], &over_u32, &[0xa0, 1, 1]].concat(),
        u32::MAX.into(),
    );
    range(kind::ERROR, &[0x93, 0xc0, 0xce, 0, 1, 0, 0, 0xa0], 65_535);
    range(kind::REFUSED, &[0x93, 0xc0, 0xce, 0, 1, 0, 0, 0xa0], 65_535);
    let hops_256 = [0x95, 1, 1, 0xcd, 1, 0, 0x90];
    let message = samples()
        .into_iter()
        .find(|(k, _)| *k == kind::BRIDGE_MESSAGE)
        .unwrap()
        .1;
    let publish_at = message.len() - publish().to_frame().unwrap().payload.len();
    range(
        kind::BRIDGE_MESSAGE,
        &[&hops_256[..], &message[publish_at..]].concat(),
        255,
    );
    // Negative ids, sids and nonces.
    for (kind, payload) in [
        (kind::PING, &[0x91, 0xff][..]),
        (kind::CANCEL, &[0x91, 0xd0, 0x80]),
        (kind::UNSUBSCRIBE, &[0x91, 0xd3, 0xff, 0, 0, 0, 0, 0, 0, 0]),
        (kind::BRIDGE_RESYNC, &[0x91, 0xe0]),
    ] {
        assert_eq!(decode_error(kind, payload), WireError::Negative);
    }
}

/// Invalid UTF-8 (`ff`) as the text of each envelope family: refused, typed.
#[test]
fn text_that_is_not_utf8_is_refused_everywhere() {
    let bad = [0xa1, 0xff];
    let cases: Vec<(u16, Vec<u8>)> = vec![
        (kind::CONN, [&[0x94, 1][..], &bad, &[1, 1]].concat()),
        (kind::DISCONN, [&[0x91][..], &bad].concat()),
        (kind::ERROR, [&[0x93, 0xc0, 0x64][..], &bad].concat()),
        (
            kind::REQUEST,
            [&[0x94, 1][..], &bad, &[0x80, 0xc4, 0]].concat(),
        ),
        (
            kind::RESPONSE,
            [&[0x93, 1, 0x81][..], &bad, &[0xa0, 0xc4, 0]].concat(),
        ),
        (kind::SUBSCRIBE, [&[0x94, 1][..], &bad, &[0xc0, 0]].concat()),
        (
            kind::PUBLISH,
            [&[0x95][..], &bad, &[0, 0xc0, 0x80, 0xc4, 0]].concat(),
        ),
        (
            kind::PUBLISH,
            [
                &[0x95, 0xa1, b'a', 0, 0xc0, 0x81, 0xa1, b'k'][..],
                &bad,
                &[0xc4, 0],
            ]
            .concat(),
        ),
        (kind::REFUSED, [&[0x93, 0xc0, 0x64][..], &bad].concat()),
        (
            kind::BRIDGE_HELLO,
            [&[0x93, 1, 0xc4, 16][..], &[0; 16], &bad].concat(),
        ),
        (
            kind::BRIDGE_INTEREST,
            [&[0x96, 1, 0, 1, 0x91, 0x92][..], &bad, &[0xc0, 0x90, 0xc0]].concat(),
        ),
        (
            kind::BRIDGE_MESSAGE,
            [&[0x95, 1, 1, 0, 0x91, 0x92][..], &bad, &[2]].concat(),
        ),
    ];
    for (kind, payload) in cases {
        assert!(
            matches!(decode_error(kind, &payload), WireError::Utf8(_)),
            "{}: {payload:x?}",
            kind::name(kind)
        );
    }
}

/// A few bytes announcing gigabytes (a string, a body, a list, a map) are refused before
/// anything is reserved: each of these would otherwise ask for 4 Gi elements.
#[test]
fn overlong_declared_lengths_are_refused_before_allocating() {
    let huge_array = [0xdd, 0xff, 0xff, 0xff, 0xff];
    let huge_map = [0xdf, 0xff, 0xff, 0xff, 0xff];
    let huge_str = [0xdb, 0xff, 0xff, 0xff, 0xff];
    let cases: Vec<(u16, Vec<u8>)> = vec![
        (kind::DISCONN, [&[0x91][..], &huge_str, b"abc"].concat()),
        (
            kind::REQUEST,
            [&[0x94, 1, 0xa1, b'r'][..], &huge_map, &[0xc4, 0]].concat(),
        ),
        (
            kind::RESPONSE,
            [&[0x93, 1, 0x80, 0xc6, 0xff, 0xff, 0xff, 0xff][..], b"x"].concat(),
        ),
        (kind::SUBSCRIPTIONS, [&[0x91][..], &huge_array].concat()),
        (
            kind::MESSAGE,
            [&[0x96][..], &huge_array, &[1, 2, 3]].concat(),
        ),
        (
            kind::BRIDGE_LINK_STATE,
            [&[0x93, 1, 1][..], &huge_array, &[2]].concat(),
        ),
        (
            kind::BRIDGE_INTEREST,
            [&[0x96, 1, 0, 1][..], &huge_array].concat(),
        ),
        (
            kind::BRIDGE_MESSAGE,
            [&[0x95, 1, 1, 0][..], &huge_array].concat(),
        ),
    ];
    for (kind, payload) in cases {
        assert!(
            matches!(
                decode_error(kind, &payload),
                WireError::LengthOverPayload {
                    declared: 0xffff_ffff,
                    ..
                }
            ),
            "{}",
            kind::name(kind)
        );
    }
}

/// Section 9: integers in larger and signed forms, text as `bin` (and call bodies as `str`)
/// where it says so, a MAC of any length.
#[test]
fn what_section_9_allows_is_still_accepted() {
    let ping = Ping::read_payload(&Bytes::from_static(&[0x91, 0xd3, 0, 0, 0, 0, 0, 0, 0, 9]));
    assert_eq!(ping.unwrap().nonce, 9);
    let sub = Subscribe::read_payload(&Bytes::from_static(&[
        0x94, 0xd1, 0, 5, 0xa1, b'a', 0xc0, 0xcc, 0,
    ]));
    assert_eq!(sub.unwrap().sid, 5);
    let hello = Hello::read_payload(&Bytes::from_static(&[
        0x94, 0xcf, 0, 0, 0, 0, 0, 0, 0, 1, 0xc4, 1, b'a', 1, 0,
    ]));
    assert_eq!(hello.unwrap().agent, "a");
    let bye = Disconnect::read_payload(&Bytes::from_static(&[0x91, 0xc4, 2, b'o', b'k']));
    assert_eq!(bye.unwrap().reason, "ok");
    let error = ErrorFrame::read_payload(&Bytes::from_static(&[
        0x93, 0xd0, 1, 0xd1, 0, 100, 0xc4, 1, b'm',
    ]));
    assert_eq!(
        error.unwrap(),
        ErrorFrame::for_request(1, ErrorCode::Protocol, "m")
    );
    let name = [&[0x93, 1, 0xc4, 16][..], &[0; 16], &[0xc4, 1, b'n']].concat();
    assert_eq!(
        BridgeHello::read_payload(&Bytes::from(name)).unwrap().name,
        "n"
    );
    let update = [
        0x96, 1, 0, 1, 0x91, 0x92, 0xc4, 1, b'a', 0xc4, 1, b'g', 0x90, 0xc0,
    ];
    let update = InterestUpdate::read_payload(&Bytes::copy_from_slice(&update)).unwrap();
    assert_eq!(update.add, [interest("a", Some("g"))]);
    let proof = BridgeProof::read_payload(&Bytes::from_static(&[0x91, 0xc4, 1, 7]));
    assert_eq!(proof.unwrap().mac, [7]);
    // The pub/sub envelopes take only their own types (vectors `subscribe-pattern-is-bin`,
    // `publish-body-is-str`).
    let bin_pattern = [0x94, 1, 0xc4, 1, b'a', 0xc0, 0];
    assert!(Subscribe::read_payload(&Bytes::copy_from_slice(&bin_pattern)).is_err());
}

fn arb_interest() -> impl Strategy<Value = Interest> {
    (
        proptest::collection::vec(prop_oneof!["[a-z]{1,4}", Just("*".to_owned())], 1..4),
        proptest::option::of("[a-z]{1,8}"),
    )
        .prop_map(|(tokens, group)| Interest {
            pattern: Pattern::parse(&tokens.join("/")).unwrap(),
            group,
        })
}

proptest! {
    #[test]
    fn bridge_envelopes_round_trip(
        hub in any::<u64>(), seq in any::<u64>(), nonce in any::<[u8; NONCE_BYTES]>(),
        name in ".{0,40}", mac in proptest::collection::vec(any::<u8>(), 0..300),
        neighbors in proptest::collection::vec(any::<u64>(), 0..20),
        add in proptest::collection::vec(arb_interest(), 0..6),
        remove in proptest::collection::vec(arb_interest(), 0..6),
        full in proptest::option::of((proptest::option::of(arb_interest()), any::<bool>())),
        hops in any::<u8>(), picks in proptest::collection::vec((".{0,10}", any::<u64>()), 0..20)) {
        fn again<E: Envelope + PartialEq + std::fmt::Debug>(e: E) -> Result<(), TestCaseError> {
            let back = E::from_frame(&e.to_frame().unwrap()).unwrap();
            prop_assert_eq!(back, e);
            Ok(())
        }
        again(BridgeHello { hub: HubId(hub), nonce, name })?;
        again(BridgeChallenge { hub: HubId(hub), nonce })?;
        again(BridgeProof { mac })?;
        again(BridgeResync { origin: HubId(hub) })?;
        again(LinkState { origin: HubId(hub), seq, neighbors: neighbors.into_iter().map(HubId).collect() })?;
        let full = full.map(|(after, last)| FullPart { after, last });
        again(InterestUpdate { origin: HubId(hub), from_seq: seq, to_seq: seq, add, remove, full })?;
        let picks = picks.into_iter().map(|(g, h)| (g, HubId(h))).collect();
        again(BridgeMessage { origin: HubId(hub), seq, hops, picks, publish: publish() })?;
    }

    /// Any byte of any envelope changed, any tail cut: a value or a typed error, never a panic,
    /// and a payload error never loses the framing.
    #[test]
    fn mangled_envelopes_read_or_fail_typed(which in any::<prop::sample::Index>(),
                                            at in any::<prop::sample::Index>(),
                                            byte in any::<u8>(),
                                            cut in any::<prop::sample::Index>()) {
        let all = samples();
        let (kind, payload) = &all[which.index(all.len())];
        let mut bytes = BytesMut::from(&payload[..]);
        let i = at.index(bytes.len());
        bytes[i] = byte;
        bytes.truncate(bytes.len() - cut.index(3));
        bytes.put_slice(&payload[..cut.index(2)]);
        if let Err(e) = read(*kind, &bytes.freeze()) {
            prop_assert!(!e.loses_framing());
            let _ = (e.to_string(), e.code());
        }
    }
}
