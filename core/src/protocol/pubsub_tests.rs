//! Pub/sub envelopes: exact bytes, round trips, the hub's once-per-publish MESSAGE tail, and the
//! decoders' refusal of bad payloads (examples and properties).

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use super::*;
use crate::pubsub::{Channel, Pattern};

fn channel(text: &str) -> Channel {
    Channel::parse(text).unwrap()
}

fn publish(text: &str, flags: MessageFlags, reply_to: Option<&str>, body: &[u8]) -> Publish {
    Publish {
        channel: channel(text),
        flags,
        reply_to: reply_to.map(channel),
        headers: Headers::new(),
        body: Bytes::copy_from_slice(body),
    }
}

fn payload(bytes: &[u8]) -> Bytes {
    Bytes::copy_from_slice(bytes)
}

#[test]
fn a_subscribe_is_an_array_of_sid_pattern_group_and_flags() {
    let sub = Subscribe {
        sid: 7,
        pattern: Pattern::parse("a/*").unwrap(),
        group: Some("g".into()),
        flags: SubscriptionFlags::NO_RETAINED,
    };
    let bytes = sub.to_frame_bytes().unwrap();
    let expected = [
        0, 0, 0, 11, 0, 32, // length 11, kind SUBSCRIBE
        0x94, 0x07, 0xa3, b'a', b'/', b'*', 0xa1, b'g', 0x01,
    ];
    assert_eq!(&bytes[..], &expected[..]);
}

#[test]
fn a_publish_and_its_message_share_every_byte_after_the_sid_list() {
    let p = publish("a/b", MessageFlags::NONE, None, b"\x2a");
    let publish_payload = p.to_frame().unwrap().payload;
    assert_eq!(
        &publish_payload[..],
        &[0x95, 0xa3, b'a', b'/', b'b', 0x00, 0xc0, 0x80, 0xc4, 0x01, 0x2a]
    );
    let mut out = BytesMut::new();
    MessageTail::for_publish(&p)
        .unwrap()
        .write_frame(&[5], &mut out)
        .unwrap();
    // length 15, kind MESSAGE, array of 6, sids [5], then the PUBLISH fields as they were.
    assert_eq!(&out[..9], &[0, 0, 0, 15, 0, 36, 0x96, 0x91, 0x05]);
    assert_eq!(&out[9..], &publish_payload[1..]);
}

#[test]
fn a_decoded_body_is_a_slice_of_the_frame_not_a_copy() {
    let frame = publish("a", MessageFlags::NONE, None, b"abc")
        .to_frame()
        .unwrap();
    let decoded = Publish::from_frame(&frame).unwrap();
    let start = frame.payload.as_ptr() as usize;
    let body = decoded.body.as_ptr() as usize;
    assert!(body >= start && body < start + frame.payload.len());
}

#[test]
fn a_channel_is_read_in_normal_form() {
    // [str "/a//b/", 0, nil, {}, bin ""]
    let raw = [
        0x95, 0xa6, b'/', b'a', b'/', b'/', b'b', b'/', 0x00, 0xc0, 0x80, 0xc4, 0x00,
    ];
    let p = Publish::read_payload(&payload(&raw)).unwrap();
    assert_eq!(p.channel.as_str(), "a/b");
}

#[test]
fn an_invalid_pattern_is_refused_with_its_sid_and_code_300() {
    // [9, "a/\u{1}", nil, 0]: a control character in the pattern.
    let raw = [0x94, 0x09, 0xa3, b'a', b'/', 0x01, 0xc0, 0x00];
    let err = Subscribe::read_payload(&payload(&raw)).unwrap_err();
    assert!(
        matches!(
            err,
            ProtocolError::Invalid {
                sid: Some(9),
                field: InvalidField::Pattern(_),
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.code(), ErrorCode::InvalidBody);
    assert!(!err.loses_framing());
    let refused = Refused::for_error(kind::SUBSCRIBE, &raw, &err);
    assert_eq!(refused.sid, Some(9));
    assert_eq!(refused.code, ErrorCode::InvalidBody);
    assert!(
        refused.message.contains("subscription 9"),
        "{}",
        refused.message
    );
}

#[test]
fn a_malformed_subscribe_is_refused_with_the_sid_it_starts_with() {
    // [9, "a"]: too short.
    let raw = [0x92, 0x09, 0xa1, b'a'];
    let err = Subscribe::read_payload(&payload(&raw)).unwrap_err();
    assert!(matches!(err, ProtocolError::Decode { .. }), "{err}");
    let refused = Refused::for_error(kind::SUBSCRIBE, &raw, &err);
    assert_eq!((refused.sid, refused.code), (Some(9), ErrorCode::Protocol));
    assert_eq!(peek_sid(kind::PUBLISH, &raw), None);
}

#[test]
fn bad_groups_and_unknown_subscription_flags_are_refused() {
    for (group, flags) in [(Some(""), 0), (Some("a\nb"), 0), (None, 2)] {
        let mut out = BytesMut::new();
        out.extend_from_slice(&[0x94, 0x01, 0xa1, b'a']);
        match group {
            Some(g) => {
                out.extend_from_slice(&[0xa0 | g.len() as u8]);
                out.extend_from_slice(g.as_bytes());
            }
            None => out.extend_from_slice(&[0xc0]),
        }
        out.extend_from_slice(&[flags]);
        let err = Subscribe::read_payload(&out.freeze()).unwrap_err();
        assert!(
            matches!(err, ProtocolError::Invalid { sid: Some(1), .. }),
            "{err}"
        );
    }
    let long = "g".repeat(MAX_GROUP_BYTES + 1);
    let mut sub = Subscribe::new(1, Pattern::parse("a").unwrap());
    sub.group = Some(long);
    let frame = sub.to_frame().unwrap();
    assert!(Subscribe::from_frame(&frame).is_err());
}

#[test]
fn subscriptions_apply_each_valid_entry_and_name_each_refused_one() {
    let good = Subscribe::new(1, Pattern::parse("a/**").unwrap());
    let mut raw = BytesMut::new();
    Subscriptions {
        subscriptions: vec![good.clone()],
    }
    .write_payload(&mut raw)
    .unwrap();
    // Append a second entry [2, "\u{7f}", nil, 0] and patch the list length to 2.
    raw[1] = 0x92;
    raw.extend_from_slice(&[0x94, 0x02, 0xa1, 0x7f, 0xc0, 0x00]);
    let raw = raw.freeze();
    let (applied, refused) = Subscriptions::read_each(&raw).unwrap();
    assert_eq!(applied.subscriptions, vec![good]);
    assert_eq!(refused.len(), 1);
    assert!(matches!(
        refused[0],
        ProtocolError::Invalid { sid: Some(2), .. }
    ));
    let strict = Subscriptions::read_payload(&raw).unwrap_err();
    assert!(matches!(
        strict,
        ProtocolError::Invalid { sid: Some(2), .. }
    ));
}

#[test]
fn a_repeated_sid_refuses_the_whole_list() {
    let sub = Subscribe::new(4, Pattern::parse("x").unwrap());
    let list = Subscriptions {
        subscriptions: vec![sub.clone(), sub],
    };
    let err = Subscriptions::from_frame(&list.to_frame().unwrap()).unwrap_err();
    assert!(
        matches!(
            err,
            ProtocolError::Invalid {
                sid: Some(4),
                field: InvalidField::Sids(_),
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.code(), ErrorCode::Protocol);
}

#[test]
fn flags_outside_the_rules_are_refused_on_both_sides() {
    use MessageFlags as F;
    let inbox = Some("_inbox/t/1");
    let refused = [
        (F::REQUEST, None),
        (F::RETAINED, None),
        (F::REQUEST | F::RETAIN, inbox),
        (F::REQUEST | F::ACK, inbox),
        (F::REPLY | F::ERROR, None),
        (F::RETAIN | F::REPLY, None),
    ];
    for (flags, reply_to) in refused {
        let p = publish("a", flags, reply_to, b"");
        assert!(p.to_frame().is_err(), "{flags:?} written");
        let mut raw = BytesMut::new();
        raw.extend_from_slice(&[0x95, 0xa1, b'a', flags.bits()]);
        match reply_to {
            Some(r) => {
                raw.extend_from_slice(&[0xa0 | r.len() as u8]);
                raw.extend_from_slice(r.as_bytes());
            }
            None => raw.extend_from_slice(&[0xc0]),
        }
        raw.extend_from_slice(&[0x80, 0xc4, 0x00]);
        let err = Publish::read_payload(&raw.freeze()).unwrap_err();
        assert!(
            matches!(
                err,
                ProtocolError::Invalid {
                    field: InvalidField::Flags { .. },
                    ..
                }
            ),
            "{flags:?}: {err}"
        );
    }
    // A bit no kind defines.
    let raw = [0x95, 0xa1, b'a', 0x7f, 0xc0, 0x80, 0xc4, 0x00];
    assert!(Publish::read_payload(&payload(&raw)).is_err());
    // NO_ECHO and RETAIN are instructions to the hub and never reach a subscriber.
    let tail = MessageTail::new(
        &channel("a"),
        F::NO_ECHO,
        None,
        &Headers::new(),
        Bytes::new(),
    );
    assert!(tail.is_err());
    assert_eq!(
        (F::NO_ECHO | F::RETAIN | F::REQUEST).delivered(),
        F::REQUEST
    );
    assert_eq!(format!("{:?}", F::ACK | F::REPLY), "ACK|REPLY");
}

#[test]
fn a_message_names_its_sids_ascending_and_at_least_one() {
    let tail = MessageTail::for_publish(&publish("a", MessageFlags::NONE, None, b"x")).unwrap();
    for sids in [&[][..], &[3, 3][..], &[4, 2][..]] {
        let mut out = BytesMut::from(&b"kept"[..]);
        assert!(tail.write_head(sids, &mut out).is_err(), "{sids:?}");
        assert_eq!(&out[..], b"kept");
    }
    // [[2, 1], "a", 0, nil, {}, bin ""]
    let raw = [
        0x96, 0x92, 0x02, 0x01, 0xa1, b'a', 0x00, 0xc0, 0x80, 0xc4, 0x00,
    ];
    let err = Message::read_payload(&payload(&raw)).unwrap_err();
    assert!(matches!(
        err,
        ProtocolError::Invalid {
            field: InvalidField::Sids(_),
            ..
        }
    ));
}

#[test]
fn the_head_and_the_parts_make_the_whole_frame() {
    let mut headers = Headers::new();
    headers.insert("traceparent", "t");
    let p = Publish {
        headers,
        ..publish(
            "svc/x",
            MessageFlags::REQUEST,
            Some("_inbox/a/1"),
            &[7; 300],
        )
    };
    let tail = MessageTail::for_publish(&p).unwrap();
    let mut vectored = BytesMut::new();
    tail.write_head(&[1, 200, 70_000], &mut vectored).unwrap();
    for part in tail.parts() {
        vectored.extend_from_slice(part);
    }
    let mut whole = BytesMut::new();
    tail.write_frame(&[1, 200, 70_000], &mut whole).unwrap();
    assert_eq!(vectored, whole);
    let mut frame_buf = whole.clone();
    let frame = decode_frame(&mut frame_buf, 1 << 20).unwrap().unwrap();
    let m = Message::from_frame(&frame).unwrap();
    assert_eq!(m.sids, [1, 200, 70_000]);
    assert_eq!(
        (m.channel, m.flags, m.reply_to, m.headers, m.body),
        (p.channel, p.flags, p.reply_to, p.headers, p.body)
    );
}

#[test]
fn an_inbox_names_its_calls_and_a_call_without_responders_is_answered_there() {
    let inbox = Inbox::new(u128::MAX);
    let reply_to = inbox.reply_to(42);
    assert!(inbox.pattern().matches(&reply_to));
    assert_eq!(inbox.call_of(&reply_to), Some(42));
    assert_eq!(inbox.call_of(&channel("_inbox/other/42")), None);
    assert_eq!(inbox.call_of(&channel("a")), None);

    let call = publish("svc", MessageFlags::REQUEST, Some(reply_to.as_str()), b"");
    let answer = call.no_responders().unwrap();
    assert_eq!(answer.channel, reply_to);
    assert_eq!(answer.flags, MessageFlags::ERROR);
    let error = ReplyError::from_body(&answer.body).unwrap();
    assert_eq!(error.code, ErrorCode::UnknownRoute);
    assert!(error.message.contains("\"svc\""), "{}", error.message);
    assert!(publish("svc", MessageFlags::NONE, None, b"")
        .no_responders()
        .is_none());
    assert!(ReplyError::from_body(b"\x92\x01").is_err());
    assert!(ReplyError::from_body(b"\x92\xce\x00\x01\x00\x00\xa0").is_err());
}

#[test]
fn a_refused_frame_reads_its_code_and_refuses_one_over_u16() {
    let r = Refused {
        sid: None,
        code: ErrorCode::Denied,
        message: "no".into(),
    };
    let frame = r.to_frame().unwrap();
    assert_eq!(
        &frame.payload[..],
        &[0x93, 0xc0, 0xcc, 200, 0xa2, b'n', b'o']
    );
    assert_eq!(Refused::from_frame(&frame).unwrap(), r);
    let over = [0x93, 0x01, 0xce, 0x00, 0x01, 0x00, 0x00, 0xa0];
    assert!(Refused::read_payload(&payload(&over)).is_err());
}

fn arb_channel() -> impl Strategy<Value = Channel> {
    "[a-z0-9_.-]{1,6}(/[a-z0-9*_]{1,5}){0,4}"
        .prop_filter_map("wildcard token", |s| Channel::parse(&s).ok())
}

fn arb_pattern() -> impl Strategy<Value = Pattern> {
    proptest::collection::vec(
        prop_oneof!["[a-z]{1,4}", Just("*".into()), Just("**".into())],
        0..6,
    )
    .prop_map(|tokens| Pattern::parse(&tokens.join("/")).unwrap())
}

fn arb_headers() -> impl Strategy<Value = Headers> {
    let key = prop_oneof![Just(DEADLINE_MS.to_owned()), "[a-z-]{1,12}"];
    proptest::collection::btree_map(key, ".{0,20}", 0..4).prop_map(|m| {
        let mut h = Headers::new();
        for (k, v) in m {
            h.insert(k, v);
        }
        h
    })
}

fn arb_subscribe() -> impl Strategy<Value = Subscribe> {
    (
        any::<u64>(),
        arb_pattern(),
        proptest::option::of("[a-z ]{1,20}"),
        any::<bool>(),
    )
        .prop_map(|(sid, pattern, group, no_retained)| Subscribe {
            sid,
            pattern,
            group,
            flags: if no_retained {
                SubscriptionFlags::NO_RETAINED
            } else {
                SubscriptionFlags::NONE
            },
        })
}

/// Every valid flag set of a PUBLISH, with whether it needs a reply-to.
fn arb_publish_flags() -> impl Strategy<Value = MessageFlags> {
    use MessageFlags as F;
    let plain = (any::<bool>(), any::<bool>()).prop_map(|(no_echo, retain)| {
        let mut f = F::NONE;
        if no_echo {
            f = f | F::NO_ECHO;
        }
        if retain {
            f = f | F::RETAIN;
        }
        f
    });
    prop_oneof![
        plain,
        Just(F::REQUEST),
        Just(F::REQUEST | F::NO_ECHO),
        Just(F::ACK),
        Just(F::ACK | F::REPLY),
        Just(F::REPLY),
        Just(F::ERROR),
        Just(F::ACK | F::ERROR),
    ]
}

fn arb_publish() -> impl Strategy<Value = Publish> {
    (
        arb_channel(),
        arb_publish_flags(),
        proptest::option::of(arb_channel()),
        arb_headers(),
        proptest::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(channel, flags, reply_to, headers, body)| {
            let reply_to = match flags.contains(MessageFlags::REQUEST) {
                true => Some(reply_to.unwrap_or_else(|| Inbox::new(1).reply_to(1))),
                false => reply_to,
            };
            Publish {
                channel,
                flags,
                reply_to,
                headers,
                body: Bytes::from(body),
            }
        })
}

proptest! {
    #[test]
    fn subscriptions_round_trip(subs in proptest::collection::vec(arb_subscribe(), 0..8),
                                sid in any::<u64>()) {
        for sub in &subs {
            prop_assert_eq!(&Subscribe::from_frame(&sub.to_frame().unwrap()).unwrap(), sub);
        }
        let mut unique = subs;
        unique.sort_by_key(|s| s.sid);
        unique.dedup_by_key(|s| s.sid);
        let list = Subscriptions { subscriptions: unique };
        prop_assert_eq!(Subscriptions::from_frame(&list.to_frame().unwrap()).unwrap(), list);
        let un = Unsubscribe { sid };
        prop_assert_eq!(Unsubscribe::from_frame(&un.to_frame().unwrap()).unwrap(), un);
    }

    #[test]
    fn publishes_and_their_messages_round_trip(p in arb_publish(),
                                               sids in proptest::collection::btree_set(any::<u64>(), 1..20)) {
        prop_assert_eq!(&Publish::from_frame(&p.to_frame().unwrap()).unwrap(), &p);
        let sids: Vec<u64> = sids.into_iter().collect();
        let message = Message {
            sids: sids.clone(),
            channel: p.channel.clone(),
            flags: p.flags.delivered(),
            reply_to: p.reply_to.clone(),
            headers: p.headers.clone(),
            body: p.body.clone(),
        };
        let bytes = message.to_frame_bytes().unwrap();
        let mut from_tail = BytesMut::new();
        let tail = MessageTail::for_publish(&p).unwrap();
        tail.write_frame(&sids, &mut from_tail).unwrap();
        prop_assert_eq!(&from_tail[..], &bytes[..]);
        // The hub checks its bounds on this length before it writes the frame.
        prop_assert_eq!(tail.frame_len(&sids), bytes.len());
        prop_assert_eq!(Message::from_frame(&message.to_frame().unwrap()).unwrap(), message);
    }

    #[test]
    fn refused_frames_round_trip(sid in proptest::option::of(any::<u64>()), code in any::<u16>(),
                                 message in ".{0,60}") {
        let r = Refused { sid, code: ErrorCode::from(code), message };
        prop_assert_eq!(Refused::from_frame(&r.to_frame().unwrap()).unwrap(), r);
    }

    #[test]
    fn any_payload_under_each_pubsub_kind_decodes_or_errors(
        bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let payload = Bytes::from(bytes);
        let _ = Subscribe::read_payload(&payload);
        let _ = Unsubscribe::read_payload(&payload);
        let _ = Subscriptions::read_each(&payload);
        let _ = Publish::read_payload(&payload);
        let _ = Message::read_payload(&payload);
        let _ = Refused::read_payload(&payload);
        let _ = ReplyError::from_body(&payload);
        for k in kind::PUBSUB_RANGE {
            let _ = peek_sid(k, &payload);
        }
    }

    #[test]
    fn mangled_pubsub_frames_decode_or_error(p in arb_publish(), sub in arb_subscribe(),
                                             at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        // Valid payloads with one byte changed exercise the decoders deeper than random bytes.
        for mut raw in [p.to_frame().unwrap().payload.to_vec(), sub.to_frame().unwrap().payload.to_vec()] {
            let i = at.index(raw.len());
            raw[i] = byte;
            let raw = Bytes::from(raw);
            let _ = Publish::read_payload(&raw);
            let _ = Message::read_payload(&raw);
            let _ = Subscribe::read_payload(&raw);
            let _ = Subscriptions::read_each(&raw);
        }
    }
}

proptest! {
    /// Reading a stream of PUBLISH payloads with the last channel kept gives what reading each
    /// alone gives, refusals included (a bad channel neither hits nor spoils the kept one).
    #[test]
    fn a_publish_read_after_another_reads_as_it_does_alone(
        texts in proptest::collection::vec(
            prop_oneof!["a/b", "a/b", "a//b", "/a/b/", "c", "a/\u{7}", "a/*", ""], 1..30)
    ) {
        let mut last = None;
        for text in texts {
            // Built field by field: the channel's text may be one no Channel holds.
            let payload = {
                let mut out = BytesMut::new();
                crate::protocol::wire::put_array_len(&mut out, 5).unwrap();
                crate::protocol::wire::put_str(&mut out, &text).unwrap();
                crate::protocol::wire::put_uint(&mut out, 0);
                crate::protocol::wire::put_opt_str(&mut out, None).unwrap();
                crate::protocol::wire::put_headers(&mut out, &Headers::new()).unwrap();
                crate::protocol::wire::put_bin_header(&mut out, 4).unwrap();
                out.extend_from_slice(b"body");
                out.freeze()
            };
            let alone = Publish::read_payload(&payload);
            let after = Publish::read_after(&payload, &mut last);
            // Errors compared by what they say (ProtocolError has no equality).
            let said = |r: &Result<Publish, ProtocolError>| match r {
                Ok(p) => Ok(p.clone()),
                Err(e) => Err(e.to_string()),
            };
            prop_assert_eq!(said(&after), said(&alone));
            if let Ok(p) = alone {
                prop_assert_eq!(last.as_ref(), Some(&p.channel));
            }
        }
    }
}

proptest! {
    /// The tails of a stream of publishes built together (sharing encodings where the fields
    /// repeat) are exactly the tails built one by one.
    #[test]
    fn tails_built_together_are_the_tails_built_alone(
        picks in proptest::collection::vec((0usize..3, 0usize..3, 0usize..2), 1..40),
        others in proptest::collection::vec(arb_publish(), 3),
    ) {
        // Mostly repeats of a few plain publishes, now and then one with a reply or headers.
        let plain = |channel: &str, body: &'static [u8]| publish(channel, MessageFlags::NONE, None, body);
        let kinds = [plain("a/b", b"0123"), plain("a/b", b"45678"), plain("c", b"0123")];
        let publishes: Vec<Publish> = picks
            .iter()
            .map(|&(kind, other, take_other)| match take_other {
                1 if kind == 0 => others[other].clone(),
                _ => kinds[kind].clone(),
            })
            .collect();
        let mut together = Vec::new();
        MessageTail::extend_for(&publishes, &mut together);
        let alone: Vec<_> = publishes.iter().map(MessageTail::for_publish).collect();
        prop_assert_eq!(together.len(), alone.len());
        for (t, a) in together.iter().zip(&alone) {
            prop_assert_eq!(t.as_ref().ok(), a.as_ref().ok());
            prop_assert_eq!(t.is_err(), a.is_err());
        }
    }
}
