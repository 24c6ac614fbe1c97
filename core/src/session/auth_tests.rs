//! Authentication in the session: on a server with users only AUTH (or bridge admission) is
//! taken after CONN; nothing is taken while an AUTH is checked; a failure is ERROR denied
//! and a close; a success is AUTH_OK; and no sequence of frames reaches a request unsettled.

use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::tests::{any_frame, decode, error_of, open};
use super::*;
use crate::auth::{AuthFailure, Credentials};
use crate::protocol::{kind, Auth, AuthOk, Envelope, ErrorCode, Frame, Ping};

fn auth_frame(credentials: Credentials) -> Frame {
    decode(&Auth { credentials }.to_frame_bytes().unwrap())
}

fn ping() -> Frame {
    decode(&Ping { nonce: 1 }.to_frame_bytes().unwrap())
}

fn requiring(now: Instant) -> ServerSession {
    let mut s = open(true, now);
    s.require_auth();
    s
}

#[test]
fn a_peer_that_owes_auth_is_refused_anything_else_with_denied_and_closed() {
    let now = Instant::now();
    let mut s = requiring(now);
    match s.on_frame(ping(), now) {
        Step::Close(Close {
            last: Some(last), ..
        }) => {
            let err = error_of(&last);
            assert_eq!(err.code, ErrorCode::Denied);
            assert!(
                err.message.contains("authentication required"),
                "{}",
                err.message
            );
        }
        other => panic!("expected a close, got {other:?}"),
    }
    assert!(s.is_closed());
}

#[test]
fn bridge_admission_needs_no_auth() {
    let now = Instant::now();
    let mut s = requiring(now);
    let hello = Frame::new(kind::BRIDGE_HELLO, vec![0x90]);
    assert!(matches!(s.on_frame(hello, now), Step::Bridge(_)));
}

#[test]
fn an_accepted_auth_answers_auth_ok_and_opens_the_connection() {
    let now = Instant::now();
    let mut s = requiring(now);
    let step = s.on_frame(auth_frame(Credentials::password("alice", "pw")), now);
    assert_eq!(
        step,
        Step::Authenticate(Credentials::password("alice", "pw"))
    );
    // Nothing before the answer.
    let mut early = requiring(now);
    early.on_frame(auth_frame(Credentials::token("t")), now);
    match early.on_frame(ping(), now) {
        Step::Close(Close {
            last: Some(last), ..
        }) => {
            assert_eq!(error_of(&last).code, ErrorCode::Protocol)
        }
        other => panic!("expected a close, got {other:?}"),
    }
    match s.on_authenticated(Ok("alice")) {
        Step::Send(frame) => {
            let ok = AuthOk::from_frame(&decode(&frame)).unwrap();
            assert_eq!(ok.user, "alice");
        }
        other => panic!("expected AUTH_OK, got {other:?}"),
    }
    assert!(!s.awaits_auth());
    assert_eq!(s.on_frame(ping(), now), Step::Ping(1));
}

#[test]
fn a_failed_auth_is_denied_and_closed_without_saying_which_part_was_wrong() {
    let now = Instant::now();
    let mut s = requiring(now);
    s.on_frame(auth_frame(Credentials::password("bob", "x")), now);
    match s.on_authenticated(Err(&AuthFailure::UnknownUser("bob".into()))) {
        Step::Close(Close {
            last: Some(last),
            reason,
        }) => {
            let err = error_of(&last);
            assert_eq!(err.code, ErrorCode::Denied);
            assert_eq!(
                err.message,
                "authentication failed: wrong user name or password"
            );
            assert!(
                reason.contains("unknown user"),
                "the log says which: {reason}"
            );
        }
        other => panic!("expected a close, got {other:?}"),
    }
}

#[test]
fn a_peer_that_never_authenticates_is_closed_at_the_handshake_timeout() {
    let now = Instant::now();
    let mut s = requiring(now);
    assert_eq!(
        s.on_tick(now + Duration::from_secs(4), false),
        Step::Nothing
    );
    match s.on_tick(now + Duration::from_secs(5), false) {
        Step::Close(Close {
            last: Some(last), ..
        }) => {
            assert_eq!(error_of(&last).code, ErrorCode::Denied)
        }
        other => panic!("expected a close, got {other:?}"),
    }
}

#[test]
fn without_users_an_auth_is_answered_at_once() {
    let now = Instant::now();
    let mut s = open(false, now);
    assert!(matches!(
        s.on_frame(auth_frame(Credentials::token("t")), now),
        Step::Authenticate(_)
    ));
    assert!(matches!(s.on_authenticated(Ok("")), Step::Send(_)));
    assert!(matches!(s.on_frame(ping(), now), Step::Ping(1)));
}

proptest! {
    #[test]
    fn nothing_is_served_to_a_peer_that_owes_auth(
        frames in prop::collection::vec(any_frame(), 0..30),
        accept_at in prop::option::of(0usize..30),
    ) {
        let now = Instant::now();
        let mut s = requiring(now);
        let mut settled = false;
        for (i, frame) in frames.into_iter().enumerate() {
            let step = s.on_frame(frame, now);
            if let Step::Authenticate(_) = step {
                if accept_at.is_some_and(|at| at <= i) {
                    s.on_authenticated(Ok("alice"));
                    settled = true;
                }
            }
            if !settled {
                let served = matches!(
                    step,
                    Step::Request(_) | Step::Cancel(_) | Step::Ping(_) | Step::PubSub(_)
                );
                prop_assert!(!served, "served before authentication: {step:?}");
            }
        }
    }
}
