//! The server session: CONN first, the one answer to unknown kinds, the timers, the PING
//! barrier, and, for any sequence of frames and ticks, no panic and nothing after a close.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use super::*;
use crate::protocol::{
    decode_frame, kind, Disconnect, Envelope, ErrorCode, ErrorFrame, Frame, Hello, Ping,
    PROTOCOL_VERSION,
};

fn limits() -> SessionLimits {
    SessionLimits {
        max_frame: 1 << 20,
        max_in_flight: 8,
        handshake_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(60),
    }
}

fn session(hub: bool, now: Instant) -> ServerSession {
    ServerSession::new("test".into(), limits(), Serves { hub }, now)
}

fn hello(version: u32, max_frame: u32) -> Frame {
    let hello = Hello {
        version,
        agent: "peer".into(),
        max_frame,
        max_in_flight: 0,
    };
    decode(&hello.to_frame_bytes().unwrap())
}

pub(super) fn decode(bytes: &[u8]) -> Frame {
    let mut buf = BytesMut::from(bytes);
    decode_frame(&mut buf, usize::MAX).unwrap().unwrap()
}

pub(super) fn error_of(bytes: &Bytes) -> ErrorFrame {
    ErrorFrame::from_frame(&decode(bytes)).unwrap()
}

pub(super) fn open(hub: bool, now: Instant) -> ServerSession {
    let mut s = session(hub, now);
    assert!(matches!(
        s.on_frame(hello(PROTOCOL_VERSION, 4096), now),
        Step::Welcome {
            peer_max_frame: 4096,
            ..
        }
    ));
    s
}

#[test]
fn the_first_frame_must_be_a_conn_of_this_version_and_a_usable_max_frame() {
    let now = Instant::now();
    let ping = decode(&Ping { nonce: 1 }.to_frame_bytes().unwrap());
    for (first, code) in [
        (ping.clone(), ErrorCode::Protocol),
        (
            hello(PROTOCOL_VERSION + 1, 4096),
            ErrorCode::VersionMismatch,
        ),
        (hello(PROTOCOL_VERSION, 10), ErrorCode::Protocol),
    ] {
        let mut s = session(false, now);
        let Step::Close(close) = s.on_frame(first, now) else {
            panic!("closed")
        };
        assert_eq!(error_of(close.last.as_ref().unwrap()).code, code);
        assert_eq!(
            s.on_frame(ping.clone(), now),
            Step::Nothing,
            "nothing after"
        );
    }
    let mut s = session(false, now);
    let Step::Welcome { answer, .. } = s.on_frame(hello(PROTOCOL_VERSION, 64), now) else {
        panic!("welcomed")
    };
    let ours = Hello::from_frame(&decode(&answer)).unwrap();
    assert_eq!((ours.max_frame, ours.max_in_flight), (1 << 20, 8));
    assert!(s.is_open());
}

#[test]
fn kinds_not_served_get_unknown_kind_and_the_session_carries_on() {
    let now = Instant::now();
    for hub in [false, true] {
        let mut s = open(hub, now);
        let mut not_served = vec![0, 3, 6, 20, 38, 71, 95, 200, kind::RESPONSE, kind::MESSAGE];
        if !hub {
            not_served.extend([kind::SUBSCRIBE, kind::PUBLISH, kind::BRIDGE_HELLO]);
        }
        for k in not_served {
            let Step::Send(error) = s.on_frame(Frame::new(k, vec![0x90]), now) else {
                panic!("kind {k} answered")
            };
            let error = error_of(&error);
            assert_eq!(
                (error.id, error.code),
                (None, ErrorCode::UnknownKind),
                "kind {k}"
            );
        }
        if hub {
            let sub = Frame::new(kind::SUBSCRIBE, vec![0x90]);
            assert!(matches!(s.on_frame(sub, now), Step::PubSub(_)));
            let link = Frame::new(kind::BRIDGE_HELLO, vec![0x90]);
            assert!(matches!(s.on_frame(link, now), Step::Bridge(_)));
        }
        let ping = decode(&Ping { nonce: 9 }.to_frame_bytes().unwrap());
        assert_eq!(s.on_frame(ping, now), Step::Ping(9));
        let again = s.on_frame(hello(PROTOCOL_VERSION, 4096), now);
        assert!(
            matches!(again, Step::Send(_)),
            "CONN after the handshake is refused"
        );
        assert!(s.is_open());
    }
}

#[test]
fn a_datagram_is_answered_on_its_own_by_the_same_rules() {
    let answer = |frame: Frame| match on_datagram(frame, "udp", 65_507, 64) {
        Step::Send(bytes) => decode(&bytes),
        other => panic!("answered, not {other:?}"),
    };
    let ours = Hello::from_frame(&answer(hello(PROTOCOL_VERSION, 4096))).unwrap();
    assert_eq!((ours.max_frame, ours.max_in_flight), (65_507, 64));
    for refused in [
        hello(PROTOCOL_VERSION + 1, 4096),
        hello(PROTOCOL_VERSION, 10),
    ] {
        assert_eq!(answer(refused).kind, kind::ERROR);
    }
    let pong = answer(decode(&Ping { nonce: 5 }.to_frame_bytes().unwrap()));
    assert_eq!(pong.kind, kind::PONG);
    let bad_ping = ErrorFrame::from_frame(&answer(Frame::new(kind::PING, vec![0xc1]))).unwrap();
    assert_eq!(bad_ping.code, ErrorCode::Protocol);
    for k in [3, 32, 64, 95, kind::RESPONSE] {
        let error = ErrorFrame::from_frame(&answer(Frame::new(k, vec![0x90]))).unwrap();
        assert_eq!(
            (error.id, error.code),
            (None, ErrorCode::UnknownKind),
            "kind {k}"
        );
    }
    let request = Frame::new(kind::REQUEST, vec![0x90]);
    assert!(matches!(
        on_datagram(request, "udp", 65_507, 64),
        Step::Request(_)
    ));
    for quiet in [kind::PONG, kind::ERROR, kind::CANCEL, kind::DISCONN] {
        assert_eq!(
            on_datagram(Frame::new(quiet, vec![0x90]), "udp", 65_507, 64),
            Step::Nothing
        );
    }
}

#[test]
fn a_disconn_closes_without_a_last_frame() {
    let now = Instant::now();
    let mut s = open(false, now);
    let bye = decode(
        &Disconnect {
            reason: "done".into(),
        }
        .to_frame_bytes()
        .unwrap(),
    );
    let Step::Close(close) = s.on_frame(bye, now) else {
        panic!("closed")
    };
    assert_eq!(close.last, None);
    assert!(close.reason.contains("done"));
}

#[test]
fn the_handshake_and_idle_timers_close_at_their_timeouts_and_busy_resets_idle() {
    let t0 = Instant::now();
    let mut s = session(false, t0);
    assert_eq!(
        s.on_tick(t0 + Duration::from_millis(4999), false),
        Step::Nothing
    );
    let Step::Close(close) = s.on_tick(t0 + Duration::from_secs(5), false) else {
        panic!("timed out")
    };
    assert_eq!(
        error_of(close.last.as_ref().unwrap()).code,
        ErrorCode::Timeout
    );

    let mut s = open(false, t0);
    let t1 = t0 + Duration::from_secs(59);
    assert_eq!(
        s.on_tick(t1, true),
        Step::Nothing,
        "busy: the clock starts again"
    );
    assert_eq!(
        s.on_tick(t0 + Duration::from_secs(60), false),
        Step::Nothing
    );
    let Step::Close(close) = s.on_tick(t1 + Duration::from_secs(60), false) else {
        panic!("idle")
    };
    let goodbye = Disconnect::from_frame(&decode(close.last.as_ref().unwrap())).unwrap();
    assert!(goodbye.reason.starts_with("idle for"));
    assert_eq!(
        s.on_tick(t1 + Duration::from_secs(999), false),
        Step::Nothing
    );
}

#[test]
fn pongs_wait_for_every_batch_sent_before_their_ping_and_keep_their_order() {
    let mut barrier = PingBarrier::default();
    assert_eq!(barrier.ping(1, false), Some(1), "nothing pending: at once");
    barrier.sent();
    barrier.sent();
    assert_eq!(barrier.ping(2, false), None);
    assert_eq!(barrier.ping(3, false), None);
    assert!(barrier.answered().is_empty(), "one batch still pending");
    assert_eq!(barrier.answered(), [2, 3]);
    assert_eq!(barrier.pending(), 0);
    assert_eq!(barrier.ping(4, false), Some(4));
}

#[test]
fn a_pong_waits_for_changes_not_sent_yet() {
    let mut barrier = PingBarrier::default();
    barrier.sent();
    assert_eq!(barrier.ping(1, false), None, "waits for the batch out");
    assert_eq!(barrier.ping(2, true), None, "waits for the batch after it");
    assert_eq!(barrier.answered(), [1], "only the PING the batch covers");
    barrier.sent();
    assert_eq!(barrier.pending(), 1);
    assert_eq!(barrier.answered(), [2]);
    assert_eq!(barrier.ping(3, true), None, "changes gathered, none out");
}

pub(super) fn any_frame() -> impl Strategy<Value = Frame> {
    let kinds = prop_oneof![
        Just(kind::CONN),
        Just(kind::PING),
        Just(kind::REQUEST),
        Just(kind::CANCEL),
        Just(kind::DISCONN),
        Just(kind::SUBSCRIBE),
        Just(kind::BRIDGE_HELLO),
        Just(kind::AUTH),
        any::<u16>(),
    ];
    let payload = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..24),
        Just(hello(PROTOCOL_VERSION, 4096).payload.to_vec()),
    ];
    (kinds, payload).prop_map(|(k, p)| Frame::new(k, p))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_frames_and_ticks_never_panic_and_nothing_follows_a_close(
        events in prop::collection::vec((any_frame(), 0u64..10_000, any::<bool>()), 0..40),
        hub in any::<bool>(),
    ) {
        let t0 = Instant::now();
        let mut s = session(hub, t0);
        let mut welcomed = false;
        let mut closed = false;
        for (frame, at_ms, tick) in events {
            let now = t0 + Duration::from_millis(at_ms);
            let step = if tick { s.on_tick(now, false) } else { s.on_frame(frame, now) };
            if closed {
                prop_assert_eq!(&step, &Step::Nothing);
            }
            match step {
                Step::Welcome { .. } => {
                    prop_assert!(!welcomed, "welcomed once");
                    welcomed = true;
                }
                Step::Close(_) => closed = true,
                Step::PubSub(_) | Step::Bridge(_) => {
                    prop_assert!(welcomed && hub, "pub/sub and bridges: a hub's, after CONN")
                }
                Step::Request(_)
                | Step::Cancel(_)
                | Step::Ping(_)
                | Step::Authenticate(_)
                | Step::Compress { .. } => {
                    prop_assert!(welcomed, "nothing is served before CONN")
                }
                Step::Refuse(_) => prop_assert!(false, "requests are refused only when stopping"),
                Step::Send(_) | Step::Nothing => {}
            }
        }
    }
}

#[test]
fn refusals_carry_their_codes_and_say_what_to_do() {
    let busy = RequestRefusal::Busy {
        limit: 8,
        scope: InFlightScope::Connection,
    };
    assert_eq!(busy.code(), ErrorCode::Busy);
    assert!(busy.message(3).contains("8 requests") && busy.message(3).contains("wait"));
    let udp = RequestRefusal::Busy {
        limit: 4,
        scope: InFlightScope::UdpEndpoint,
    };
    assert!(udp.message(1).contains("UDP endpoint"));
    assert_eq!(RequestRefusal::Duplicate.code(), ErrorCode::Protocol);
    assert!(RequestRefusal::Duplicate
        .message(42)
        .contains("request id 42"));
    let route = RequestRefusal::UnknownRoute("dice.rol");
    assert_eq!(route.code(), ErrorCode::UnknownRoute);
    assert!(route.message(1).contains("\"dice.rol\""));
    assert_eq!(RequestRefusal::ShuttingDown.code(), ErrorCode::ShuttingDown);
}
