//! The phases as a connection sees them: requests refused once the server stops running, the
//! DISCONN once nothing is in flight, what is in flight abandoned when closing, and a peer
//! that half-closed served to the end.

use std::time::{Duration, Instant};

use bytes::BytesMut;
use proptest::prelude::*;

use super::*;
use crate::protocol::{
    decode_frame, kind, Disconnect, Envelope, ErrorCode, Frame, Hello, Request, PROTOCOL_VERSION,
};

fn open_session(now: Instant) -> ServerSession {
    let limits = SessionLimits {
        max_frame: 1 << 20,
        max_in_flight: 8,
        handshake_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(60),
    };
    let mut s = ServerSession::new("test".into(), limits, Serves::default(), now);
    let hello = Hello {
        version: PROTOCOL_VERSION,
        agent: "peer".into(),
        max_frame: 4096,
        max_in_flight: 0,
    };
    assert!(matches!(
        s.on_frame(frame_of(&hello), now),
        Step::Welcome { .. }
    ));
    s
}

fn frame_of(envelope: &impl Envelope) -> Frame {
    let mut buf = BytesMut::from(&envelope.to_frame_bytes().unwrap()[..]);
    decode_frame(&mut buf, usize::MAX).unwrap().unwrap()
}

fn request(id: u64) -> Frame {
    frame_of(&Request {
        id,
        route: "dice.roll".into(),
        headers: Default::default(),
        body: bytes::Bytes::from_static(b"\x80"),
    })
}

fn said_disconn(close: &Close) -> bool {
    close
        .last
        .as_ref()
        .is_some_and(|last| Disconnect::from_frame(&frame_of_bytes(last)).is_ok())
}

fn frame_of_bytes(bytes: &[u8]) -> Frame {
    let mut buf = BytesMut::from(bytes);
    decode_frame(&mut buf, usize::MAX).unwrap().unwrap()
}

#[test]
fn draining_refuses_new_requests_and_says_goodbye_once_nothing_is_in_flight() {
    let now = Instant::now();
    let mut s = open_session(now);
    assert!(matches!(s.on_frame(request(1), now), Step::Request(_)));
    assert_eq!(
        s.on_phase(Phase::Draining, || false),
        Wind::Stay,
        "1 in flight"
    );
    let Step::Refuse(error) = s.on_frame(request(2), now) else {
        panic!("a request while draining is refused")
    };
    assert_eq!((error.id, error.code), (Some(2), ErrorCode::ShuttingDown));
    assert!(error.message.contains("shutting down"));
    let Wind::Close(close) = s.on_all_answered(|| true) else {
        panic!("the last reply is written: the connection closes")
    };
    assert!(said_disconn(&close), "{close:?}");
    assert_eq!(s.on_all_answered(|| true), Wind::Stay, "closed once");
}

#[test]
fn an_idle_connection_closes_as_soon_as_draining_starts() {
    let now = Instant::now();
    let mut s = open_session(now);
    let Wind::Close(close) = s.on_phase(Phase::Draining, || true) else {
        panic!("nothing in flight: closed at once")
    };
    assert!(said_disconn(&close));
    assert_eq!(s.on_frame(request(1), now), Step::Nothing, "nothing after");
}

#[test]
fn closing_abandons_what_is_in_flight_and_says_goodbye() {
    let now = Instant::now();
    let mut s = open_session(now);
    let Wind::AbandonAndClose(close) = s.on_phase(Phase::Closing, || false) else {
        panic!("closing does not wait")
    };
    assert!(said_disconn(&close));
    let error = abandoned_request(7);
    assert_eq!((error.id, error.code), (Some(7), ErrorCode::ShuttingDown));
}

#[test]
fn a_peer_that_half_closed_gets_its_replies_then_a_close_without_goodbye() {
    let now = Instant::now();
    let mut s = open_session(now);
    assert_eq!(s.on_read_closed(|| false), Wind::Stay, "replies still owed");
    let Wind::Close(close) = s.on_all_answered(|| true) else {
        panic!("closed after the last reply")
    };
    assert_eq!(close.last, None, "the server is not going away: no DISCONN");
}

#[test]
fn a_report_of_all_answered_while_serving_closes_nothing() {
    let now = Instant::now();
    let mut s = open_session(now);
    assert_eq!(s.on_all_answered(|| true), Wind::Stay);
    assert!(matches!(s.on_frame(request(1), now), Step::Request(_)));
}

#[test]
fn a_request_whose_id_cannot_be_read_is_refused_about_the_connection_while_draining() {
    let now = Instant::now();
    let mut s = open_session(now);
    assert_eq!(s.on_phase(Phase::Draining, || false), Wind::Stay);
    let Step::Refuse(error) = s.on_frame(Frame::new(kind::REQUEST, vec![0xc1]), now) else {
        panic!("refused")
    };
    assert_eq!((error.id, error.code), (None, ErrorCode::ShuttingDown));
}

#[derive(Debug, Clone)]
enum Event {
    Request,
    Reply,
    Phase(Phase),
    ReadClosed,
}

fn any_event() -> impl Strategy<Value = Event> {
    prop_oneof![
        3 => Just(Event::Request),
        3 => Just(Event::Reply),
        1 => prop_oneof![
            Just(Phase::Running),
            Just(Phase::Draining),
            Just(Phase::Closing)
        ]
        .prop_map(Event::Phase),
        1 => Just(Event::ReadClosed),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A driver with a ledger: requests dispatched are counted in flight, replies settle them
    /// and report the last one when watched. Whatever the order, no request is dispatched once
    /// the server stopped running, the connection never closes while it owes replies (unless
    /// closing abandons them), it closes once at most, and says DISCONN exactly when the server
    /// is the one going away.
    #[test]
    fn the_connection_ends_once_and_never_while_replies_are_owed(
        events in prop::collection::vec(any_event(), 0..60),
    ) {
        let now = Instant::now();
        let mut s = open_session(now);
        let mut in_flight = 0u64;
        let mut watching = false;
        let mut next_id = 0;
        let mut ended = None;
        // The ledger's watch_idle: report once nothing is in flight; whether that is so now.
        fn watch(watching: &mut bool, in_flight: u64) -> bool {
            *watching = in_flight > 0;
            in_flight == 0
        }
        for event in events {
            let wind = match event {
                Event::Request => {
                    next_id += 1;
                    match s.on_frame(request(next_id), now) {
                        Step::Request(_) => {
                            prop_assert_eq!(s.phase(), Phase::Running);
                            in_flight += 1;
                        }
                        Step::Refuse(error) => {
                            prop_assert_ne!(s.phase(), Phase::Running);
                            prop_assert_eq!(error.code, ErrorCode::ShuttingDown);
                        }
                        other => prop_assert_eq!(other, Step::Nothing),
                    }
                    Wind::Stay
                }
                Event::Reply if in_flight > 0 => {
                    in_flight -= 1;
                    if in_flight == 0 && watching {
                        watching = false;
                        s.on_all_answered(|| watch(&mut watching, 0))
                    } else {
                        Wind::Stay
                    }
                }
                Event::Reply => Wind::Stay,
                Event::Phase(phase) => s.on_phase(phase, || watch(&mut watching, in_flight)),
                Event::ReadClosed => s.on_read_closed(|| watch(&mut watching, in_flight)),
            };
            match wind {
                Wind::Stay => {}
                Wind::Close(close) => {
                    prop_assert!(ended.is_none(), "closed once");
                    prop_assert_eq!(in_flight, 0, "no reply owed");
                    prop_assert_eq!(said_disconn(&close), s.phase() != Phase::Running);
                    ended = Some(close);
                }
                Wind::AbandonAndClose(close) => {
                    prop_assert!(ended.is_none(), "closed once");
                    prop_assert_eq!(s.phase(), Phase::Closing);
                    prop_assert!(said_disconn(&close));
                    in_flight = 0;
                    ended = Some(close);
                }
            }
            prop_assert_eq!(ended.is_some(), s.is_closed());
        }
    }
}
