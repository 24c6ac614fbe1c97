//! A valid payload of every envelope kind, and a reader for any kind, for the tests that check
//! a rule against every envelope alike.

use bytes::Bytes;

use super::*;
use crate::bridge::{FullPart, HubId, Interest, InterestUpdate, LinkState};
use crate::pubsub::{Channel, Pattern};

pub(super) fn publish() -> Publish {
    let mut headers = Headers::new();
    headers.insert(DEADLINE_MS, "1500");
    Publish {
        channel: Channel::parse("svc/dice").unwrap(),
        flags: MessageFlags::REQUEST,
        reply_to: Some(Inbox::new(7).reply_to(1)),
        headers,
        body: Bytes::from_static(b"\x81\xa1a\x01"),
    }
}

pub(super) fn interest(pattern: &str, group: Option<&str>) -> Interest {
    Interest {
        pattern: Pattern::parse(pattern).unwrap(),
        group: group.map(str::to_owned),
    }
}

/// A valid payload of every envelope, with its kind.
pub(super) fn samples() -> Vec<(u16, Bytes)> {
    fn payload<E: Envelope>(e: E) -> (u16, Bytes) {
        (E::KIND, e.to_frame().unwrap().payload)
    }
    let p = publish();
    let mut headers = Headers::new();
    headers.set_deadline(std::time::Duration::from_millis(250));
    headers.insert("traceparent", "00-ab");
    let subscribe = Subscribe {
        sid: 300,
        pattern: Pattern::parse("a/*/**").unwrap(),
        group: Some("workers".into()),
        flags: SubscriptionFlags::NO_RETAINED,
    };
    vec![
        payload(Hello {
            version: 1,
            agent: "hubwire-test/1".into(),
            max_frame: 1 << 20,
            max_in_flight: 70_000,
        }),
        payload(Disconnect {
            reason: "shutting down".into(),
        }),
        payload(Ping { nonce: u64::MAX }),
        payload(Pong { nonce: 200 }),
        payload(Cancel { id: 65_536 }),
        payload(ErrorFrame::for_request(
            9,
            ErrorCode::Busy,
            "busy: try later",
        )),
        payload(ErrorFrame::for_connection(ErrorCode::Other(4242), "x")),
        payload(Request {
            id: 1,
            route: "dice.roll".into(),
            headers: headers.clone(),
            body: Bytes::from_static(b"\x81\xa5sides\x06"),
        }),
        payload(Response {
            id: 1,
            headers,
            body: Bytes::from_static(b"\x04"),
        }),
        payload(subscribe.clone()),
        payload(Unsubscribe { sid: 300 }),
        payload(Subscriptions {
            subscriptions: vec![subscribe, Subscribe::new(1, Pattern::parse("b").unwrap())],
        }),
        payload(p.clone()),
        payload(Message {
            sids: vec![2, 500],
            channel: p.channel.clone(),
            flags: MessageFlags::REQUEST,
            reply_to: p.reply_to.clone(),
            headers: p.headers.clone(),
            body: p.body.clone(),
        }),
        payload(Refused {
            sid: Some(300),
            code: ErrorCode::InvalidBody,
            message: "bad pattern".into(),
        }),
        payload(BridgeHello {
            hub: HubId(0x0123_4567_89ab_cdef),
            nonce: [5; NONCE_BYTES],
            name: "tcp://10.0.0.1:7400".into(),
        }),
        payload(BridgeChallenge {
            hub: HubId(3),
            nonce: [6; NONCE_BYTES],
        }),
        payload(BridgeProof { mac: vec![7; 32] }),
        payload(LinkState {
            origin: HubId(1),
            seq: 4,
            neighbors: vec![HubId(2), HubId(u64::MAX)],
        }),
        payload(InterestUpdate {
            origin: HubId(1),
            from_seq: 0,
            to_seq: 5,
            add: vec![interest("a/*", None), interest("b/**", Some("g"))],
            remove: vec![],
            full: Some(FullPart {
                after: Some(interest("a", None)),
                last: true,
            }),
        }),
        payload(BridgeResync { origin: HubId(8) }),
        payload(BridgeMessage {
            origin: HubId(1),
            seq: 1,
            hops: 31,
            picks: vec![("workers".into(), HubId(2)), (String::new(), HubId(3))],
            publish: p,
        }),
    ]
}

/// Reads `payload` as the envelope of `kind`.
pub(super) fn read(kind: u16, payload: &Bytes) -> Result<(), ProtocolError> {
    fn read_as<E: Envelope>(payload: &Bytes) -> Result<(), ProtocolError> {
        E::read_payload(payload).map(drop)
    }
    match kind {
        kind::CONN => read_as::<Hello>(payload),
        kind::DISCONN => read_as::<Disconnect>(payload),
        kind::PING => read_as::<Ping>(payload),
        kind::PONG => read_as::<Pong>(payload),
        kind::CANCEL => read_as::<Cancel>(payload),
        kind::ERROR => read_as::<ErrorFrame>(payload),
        kind::REQUEST => read_as::<Request>(payload),
        kind::RESPONSE => read_as::<Response>(payload),
        kind::SUBSCRIBE => read_as::<Subscribe>(payload),
        kind::UNSUBSCRIBE => read_as::<Unsubscribe>(payload),
        kind::SUBSCRIPTIONS => read_as::<Subscriptions>(payload),
        kind::PUBLISH => read_as::<Publish>(payload),
        kind::MESSAGE => read_as::<Message>(payload),
        kind::REFUSED => read_as::<Refused>(payload),
        kind::BRIDGE_HELLO => read_as::<BridgeHello>(payload),
        kind::BRIDGE_CHALLENGE => read_as::<BridgeChallenge>(payload),
        kind::BRIDGE_PROOF => read_as::<BridgeProof>(payload),
        kind::BRIDGE_LINK_STATE => read_as::<LinkState>(payload),
        kind::BRIDGE_INTEREST => read_as::<InterestUpdate>(payload),
        kind::BRIDGE_RESYNC => read_as::<BridgeResync>(payload),
        kind::BRIDGE_MESSAGE => read_as::<BridgeMessage>(payload),
        other => panic!("no envelope of kind {other}"),
    }
}
