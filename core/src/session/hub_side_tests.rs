//! The pub/sub side of a hub connection: one batch per read, one batch at the table at a time
//! (changes reach it in order), REFUSED for what cannot be read (with its sid), declined
//! subscriptions refused before the PONGs that wait for them, and the keepalive's PINGs and
//! verdict.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use super::*;
use crate::protocol::{
    decode_frame, kind, Envelope, ErrorCode, Frame, Headers, MessageFlags, Ping, Publish,
    Subscribe, Subscriptions, Unsubscribe,
};
use crate::pubsub::{Change, Channel, Declined, Pattern};

fn side() -> HubSide {
    HubSide::new(KeepaliveLimits {
        ping_interval: Duration::from_secs(30),
        max_pings_out: 2,
    })
}

fn frame_of(envelope: &impl Envelope) -> Frame {
    let mut buf = BytesMut::from(&envelope.to_frame_bytes().unwrap()[..]);
    decode_frame(&mut buf, usize::MAX).unwrap().unwrap()
}

fn subscribe(sid: u64, pattern: &str) -> Frame {
    frame_of(&Subscribe::new(sid, Pattern::parse(pattern).unwrap()))
}

/// A SUBSCRIBE for sid 7 whose pattern holds a control character.
fn invalid_subscribe() -> Frame {
    let payload = [0x94, 0x07, 0xa3, b'a', b'/', 0x01, 0xc0, 0x00];
    Frame::new(kind::SUBSCRIBE, payload.to_vec())
}

#[test]
fn the_changes_of_a_read_go_to_the_table_as_one_batch() {
    let mut side = side();
    assert!(
        side.take_changes().is_none(),
        "nothing gathered, nothing sent"
    );
    assert!(matches!(
        side.on_frame(&subscribe(1, "a/*")),
        PubSubStep::Gathered
    ));
    assert!(matches!(
        side.on_frame(&frame_of(&Unsubscribe { sid: 1 })),
        PubSubStep::Gathered
    ));
    let batch = side.take_changes().expect("one batch");
    assert!(matches!(
        batch.as_slice(),
        [Change::Subscribe(w), Change::Unsubscribe(1)] if w.sid == 1 && w.replay
    ));
    assert!(side.take_changes().is_none(), "taken once");
}

#[test]
fn a_publish_is_handed_on_and_a_bad_frame_is_refused_with_its_sid() {
    let mut side = side();
    let publish = Publish {
        channel: Channel::parse("a/b").unwrap(),
        flags: MessageFlags::NONE,
        reply_to: None,
        headers: Headers::new(),
        body: Bytes::from_static(b"\x2a"),
    };
    let PubSubStep::Publish(read) = side.on_frame(&frame_of(&publish)) else {
        panic!("routed")
    };
    assert_eq!(read.channel.as_str(), "a/b");
    let PubSubStep::Refuse(refused) = side.on_frame(&invalid_subscribe()) else {
        panic!("refused")
    };
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].sid, Some(7));
    assert!(
        side.take_changes().is_none(),
        "nothing of it reaches the table"
    );
    let PubSubStep::Refuse(refused) = side.on_frame(&Frame::new(kind::PING, vec![])) else {
        panic!("not a pub/sub kind")
    };
    assert_eq!(refused[0].code, ErrorCode::Protocol);
}

#[test]
fn a_list_with_bad_entries_keeps_the_good_ones_and_refuses_the_rest() {
    let mut side = side();
    // SUBSCRIPTIONS [[1, "a", nil, 0], [7, "a/\u{1}", nil, 0]]
    let payload = [
        0x91, 0x92, 0x94, 0x01, 0xa1, b'a', 0xc0, 0x00, 0x94, 0x07, 0xa3, b'a', b'/', 0x01, 0xc0,
        0x00,
    ];
    let step = side.on_frame(&Frame::new(kind::SUBSCRIPTIONS, payload.to_vec()));
    let PubSubStep::Refuse(refused) = step else {
        panic!("the bad entry is refused")
    };
    assert_eq!(refused.iter().map(|r| r.sid).collect::<Vec<_>>(), [Some(7)]);
    let batch = side.take_changes().unwrap();
    assert!(
        matches!(batch.as_slice(), [Change::ReplaceAll(list)] if list.len() == 1 && list[0].sid == 1)
    );
    let whole = frame_of(&Subscriptions {
        subscriptions: vec![Subscribe::new(2, Pattern::parse("b").unwrap())],
    });
    assert!(matches!(side.on_frame(&whole), PubSubStep::Gathered));
}

#[test]
fn declined_subscriptions_are_refused_before_the_pongs_that_waited_for_them() {
    let mut side = side();
    assert_eq!(side.on_ping(1), Some(1), "nothing pending: answered now");
    side.on_frame(&subscribe(3, "x"));
    side.take_changes().unwrap();
    assert_eq!(side.on_ping(2), None, "waits for the batch");
    let declined = vec![Declined {
        sid: 3,
        reason: "too many subscriptions".into(),
    }];
    let (refused, pongs) = side.on_applied(declined);
    assert_eq!(refused.len(), 1);
    assert_eq!(
        (refused[0].sid, refused[0].code),
        (Some(3), ErrorCode::Busy)
    );
    assert_eq!(pongs, [2]);
}

#[test]
fn a_quiet_peer_is_pinged_each_interval_then_taken_for_dead() {
    let mut side = side();
    let secs = Duration::from_secs;
    assert_eq!(side.keepalive(secs(29)), Keepalive::Quiet);
    assert_eq!(side.keepalive(secs(30)), Keepalive::Ping(Ping { nonce: 1 }));
    assert_eq!(
        side.keepalive(secs(45)),
        Keepalive::Quiet,
        "one per interval"
    );
    assert_eq!(side.keepalive(secs(60)), Keepalive::Ping(Ping { nonce: 2 }));
    assert!(matches!(
        side.keepalive(secs(90)),
        Keepalive::Dead(ErrorCode::Timeout, message) if message.contains("2 PINGs")
    ));
    side.heard();
    assert_eq!(side.keepalive(secs(30)), Keepalive::Ping(Ping { nonce: 1 }));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Whatever arrives, nothing panics, every subscription frame is either gathered or
    /// refused, and PONGs come out in the order their PINGs went in, each once.
    #[test]
    fn any_frames_are_gathered_or_refused_and_pongs_keep_their_order(
        frames in prop::collection::vec(
            (prop_oneof![
                Just(kind::SUBSCRIBE),
                Just(kind::UNSUBSCRIBE),
                Just(kind::SUBSCRIPTIONS),
                Just(kind::PUBLISH),
            ], prop::collection::vec(any::<u8>(), 0..24), any::<bool>()),
            0..40,
        ),
    ) {
        let mut side = side();
        let mut pinged = Vec::new();
        let mut ponged = Vec::new();
        let mut pending = 0;
        for (i, (k, payload, ping)) in frames.into_iter().enumerate() {
            match side.on_frame(&Frame::new(k, payload)) {
                PubSubStep::Publish(_) => prop_assert_eq!(k, kind::PUBLISH),
                PubSubStep::Gathered => prop_assert_ne!(k, kind::PUBLISH),
                PubSubStep::Refuse(refused) => prop_assert!(!refused.is_empty()),
            }
            if ping {
                if side.take_changes().is_some() {
                    pending += 1;
                }
                pinged.push(i as u64);
                ponged.extend(side.on_ping(i as u64));
            } else if pending > 0 {
                pending -= 1;
                ponged.extend(side.on_applied(Vec::new()).1);
                // The driver sends what waited behind the batch answered.
                if side.take_changes().is_some() {
                    pending += 1;
                }
            }
        }
        while pending > 0 {
            pending -= 1;
            ponged.extend(side.on_applied(Vec::new()).1);
            if side.take_changes().is_some() {
                pending += 1;
            }
        }
        prop_assert_eq!(ponged, pinged);
    }
}

#[test]
fn changes_wait_behind_the_batch_at_the_table_and_reading_waits_past_the_bound() {
    let mut side = side();
    side.on_frame(&subscribe(1, "a"));
    let first = side.take_changes().expect("the first batch goes at once");
    assert_eq!(first.len(), 1);
    for sid in 0..MAX_WAITING_CHANGES as u64 - 1 {
        side.on_frame(&frame_of(&Unsubscribe { sid }));
        assert!(side.take_changes().is_none(), "one batch at the table");
    }
    assert!(!side.reads_wait(), "under the bound");
    side.on_frame(&frame_of(&Unsubscribe { sid: 0 }));
    assert!(side.reads_wait(), "at the bound, reading waits");
    assert_eq!(
        side.on_ping(9),
        None,
        "the PONG waits for the changes held back"
    );
    assert!(side.on_applied(Vec::new()).1.is_empty(), "not sent yet");
    assert!(!side.reads_wait(), "the table answered");
    let second = side.take_changes().expect("the waiting changes go next");
    assert_eq!(second.len(), MAX_WAITING_CHANGES);
    assert_eq!(side.on_applied(Vec::new()).1, [9]);
}

/// What a model connection does next.
#[derive(Debug, Clone)]
enum Op {
    Subscribe(u64),
    Unsubscribe(u64),
    /// A PING (the driver sends what it can first).
    Ping,
    /// The end of a read: the driver sends what it can.
    EndRead,
    /// The table answers the batch it holds; the driver sends what it can.
    Answer,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..4_u64).prop_map(Op::Subscribe),
        3 => (0..4_u64).prop_map(Op::Unsubscribe),
        1 => Just(Op::Ping),
        2 => Just(Op::EndRead),
        2 => Just(Op::Answer),
    ]
}

fn sid_of(change: &Change) -> (bool, u64) {
    match change {
        Change::Subscribe(wanted) => (true, wanted.sid),
        Change::Unsubscribe(sid) => (false, *sid),
        Change::ReplaceAll(_) => unreachable!("not sent here"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// However reads, PINGs and the table's answers interleave, the table holds at most one
    /// batch of a connection, applies every change in the order it was sent, and each PONG
    /// comes only once every change before its PING is applied, in the order of the PINGs.
    #[test]
    fn the_table_applies_changes_in_order_and_pongs_follow_them(
        ops in prop::collection::vec(op(), 0..80),
    ) {
        let mut side = side();
        let mut at_table: Option<Vec<Change>> = None;
        let mut sent = Vec::new();
        let mut applied = Vec::new();
        // Per PING: how many changes came before it.
        let mut pings: Vec<usize> = Vec::new();
        let mut ponged = Vec::new();
        let send = |side: &mut HubSide, at_table: &mut Option<Vec<Change>>| {
            if let Some(batch) = side.take_changes() {
                assert!(at_table.is_none(), "a second batch at the table");
                *at_table = Some(batch);
            }
        };
        for op in ops {
            match op {
                Op::Subscribe(sid) => {
                    side.on_frame(&subscribe(sid, "a/b"));
                    sent.push((true, sid));
                }
                Op::Unsubscribe(sid) => {
                    side.on_frame(&frame_of(&Unsubscribe { sid }));
                    sent.push((false, sid));
                }
                Op::Ping => {
                    send(&mut side, &mut at_table);
                    let nonce = pings.len() as u64;
                    pings.push(sent.len());
                    if let Some(n) = side.on_ping(nonce) {
                        prop_assert_eq!(n, nonce);
                        prop_assert_eq!(applied.len(), sent.len(), "a PONG before its changes");
                        ponged.push(n);
                    }
                }
                Op::EndRead => send(&mut side, &mut at_table),
                Op::Answer => {
                    if let Some(batch) = at_table.take() {
                        applied.extend(batch.iter().map(sid_of));
                        for n in side.on_applied(Vec::new()).1 {
                            prop_assert!(applied.len() >= pings[n as usize], "PONG {} early", n);
                            ponged.push(n);
                        }
                        send(&mut side, &mut at_table);
                    }
                }
            }
            prop_assert_eq!(&applied[..], &sent[..applied.len()], "applied out of order");
        }
        send(&mut side, &mut at_table);
        while let Some(batch) = at_table.take() {
            applied.extend(batch.iter().map(sid_of));
            ponged.extend(side.on_applied(Vec::new()).1);
            send(&mut side, &mut at_table);
        }
        prop_assert_eq!(applied, sent);
        prop_assert_eq!(ponged, (0..pings.len() as u64).collect::<Vec<_>>());
    }
}
