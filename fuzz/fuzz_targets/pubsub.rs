//! The pub/sub envelopes: SUBSCRIBE, UNSUBSCRIBE, SUBSCRIPTIONS, PUBLISH, MESSAGE and REFUSED,
//! plus what a hub derives from them (the REFUSED answering a bad frame, the MESSAGE tail of a
//! publish, a call's "no responders") and the body of a failed call (`ReplyError`).
//!
//! Input: `kind: u16 BE | payload`, as for the `envelope` target.
#![no_main]

use bytes::{Bytes, BytesMut};
use hubwire_core::protocol::{
    kind, peek_sid, Envelope, Frame, Message, MessageTail, ProtocolError, Publish, Refused,
    ReplyError, Subscribe, Subscriptions, Unsubscribe,
};
use hubwire_fuzz::{check_error, round_trip};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((kind, payload)) = data.split_first_chunk::<2>() else {
        return;
    };
    let payload = Bytes::copy_from_slice(payload);
    match u16::from_be_bytes(*kind) {
        kind::SUBSCRIBE => subscribe(&payload),
        kind::UNSUBSCRIBE => unsubscribe(&payload),
        kind::SUBSCRIPTIONS => subscriptions(&payload),
        kind::PUBLISH => publish(&payload),
        kind::MESSAGE => message(&payload),
        kind::REFUSED => refused(&payload),
        _ => {
            subscribe(&payload);
            unsubscribe(&payload);
            subscriptions(&payload);
            publish(&payload);
            message(&payload);
            refused(&payload);
            reply_error(&payload);
        }
    }
});

/// What a hub sends back for a frame of `kind` that failed with `e`.
fn answer(kind: u16, payload: &Bytes, e: &ProtocolError) {
    check_error(e);
    let refused = Refused::for_error(kind, payload, e);
    if let ProtocolError::Invalid { sid, .. } = e {
        assert_eq!(refused.sid, *sid, "the REFUSED names another subscription");
    }
    let bytes = refused.to_frame_bytes().expect("a REFUSED always encodes");
    assert_eq!(Refused::read_payload(&bytes.slice(6..)).unwrap(), refused);
}

/// Decodes `payload` as a spoke's frame: a value is round-tripped, an error answered.
fn from_spoke<E: Envelope + PartialEq + std::fmt::Debug>(payload: &Bytes) -> Option<E> {
    match E::from_frame(&Frame::new(E::KIND, payload.clone())) {
        Ok(_) => Some(round_trip::<E>(E::KIND, payload).expect("it decoded once")),
        Err(e) => {
            answer(E::KIND, payload, &e);
            None
        }
    }
}

fn subscribe(payload: &Bytes) {
    let peeked = peek_sid(kind::SUBSCRIBE, payload);
    if let Some(s) = from_spoke::<Subscribe>(payload) {
        assert_eq!(peeked, Some(s.sid), "peek_sid disagrees");
    }
}

fn unsubscribe(payload: &Bytes) {
    let peeked = peek_sid(kind::UNSUBSCRIBE, payload);
    if let Some(u) = from_spoke::<Unsubscribe>(payload) {
        assert_eq!(peeked, Some(u.sid), "peek_sid disagrees");
    }
}

fn subscriptions(payload: &Bytes) {
    let strict = round_trip::<Subscriptions>(kind::SUBSCRIPTIONS, payload);
    match Subscriptions::read_each(payload) {
        Ok((kept, refused)) => {
            for e in &refused {
                answer(kind::SUBSCRIPTIONS, payload, e);
            }
            // The strict reading takes the frame exactly when no entry is refused.
            assert_eq!(strict.is_some(), refused.is_empty());
            if let Some(strict) = strict {
                assert_eq!(strict, kept);
            }
        }
        Err(e) => {
            assert!(strict.is_none(), "read_payload took what read_each refused");
            answer(kind::SUBSCRIPTIONS, payload, &e);
        }
    }
}

fn publish(payload: &Bytes) {
    let Some(publish) = from_spoke::<Publish>(payload) else {
        return;
    };
    // Every publish a hub accepts can be delivered: its MESSAGE tail encodes and reads back.
    let tail = MessageTail::for_publish(&publish).expect("an accepted publish has a tail");
    let message = message_of(&tail, &[7]);
    assert_eq!(message.channel, publish.channel);
    assert_eq!(message.flags, publish.flags.delivered());
    assert_eq!(message.reply_to, publish.reply_to);
    assert_eq!(message.headers, publish.headers);
    assert_eq!(message.body, publish.body);
    if let Some(answer) = publish.no_responders() {
        let bytes = answer.to_frame_bytes().expect("no responders encodes");
        assert_eq!(Publish::read_payload(&bytes.slice(6..)).unwrap(), answer);
        reply_error(&answer.body);
    }
}

fn message(payload: &Bytes) {
    let Some(message) = round_trip::<Message>(kind::MESSAGE, payload) else {
        return;
    };
    // The hub's path (a tail encoded once, a head per connection) writes the same bytes.
    let tail = MessageTail::new(
        &message.channel,
        message.flags,
        message.reply_to.as_ref(),
        &message.headers,
        message.body.clone(),
    )
    .expect("an accepted message has a tail");
    let mut out = BytesMut::new();
    tail.write_frame(&message.sids, &mut out)
        .expect("the sids were accepted");
    assert_eq!(
        out,
        message.to_frame_bytes().unwrap(),
        "the tail writes otherwise"
    );
}

/// The MESSAGE `tail` makes for `sids`, read back.
fn message_of(tail: &MessageTail, sids: &[u64]) -> Message {
    let mut out = BytesMut::new();
    tail.write_frame(sids, &mut out)
        .expect("the sids are valid");
    Message::read_payload(&out.freeze().slice(6..)).expect("a tail makes a valid MESSAGE")
}

fn refused(payload: &Bytes) {
    round_trip::<Refused>(kind::REFUSED, payload);
}

fn reply_error(body: &Bytes) {
    match ReplyError::from_body(body) {
        Ok(e) => {
            let again = e.to_body().expect("a reply error encodes");
            assert_eq!(ReplyError::from_body(&again).unwrap(), e);
        }
        Err(e) => check_error(&e),
    }
}
