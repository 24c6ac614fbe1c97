//! The server session (`hubwire_core::session`): any stream of bytes cut into frames, with
//! ticks between them, is handled without a panic; nothing is served before the handshake;
//! nothing at all follows a close; every frame the session asks to send is a whole frame.
#![no_main]

use std::time::{Duration, Instant};

use bytes::BytesMut;
use hubwire_core::protocol::decode_frame;
use hubwire_core::session::{ServerSession, Serves, SessionLimits, Step};
use hubwire_fuzz::MAX_FRAME;
use libfuzzer_sys::fuzz_target;

fn whole_frame(bytes: &[u8]) {
    let mut buf = BytesMut::from(bytes);
    assert!(decode_frame(&mut buf, usize::MAX).unwrap().is_some());
    assert!(buf.is_empty(), "exactly one frame");
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, bytes)) = data.split_first() else {
        return;
    };
    let limits = SessionLimits {
        max_frame: MAX_FRAME,
        max_in_flight: 8,
        handshake_timeout: Duration::from_millis(50),
        idle_timeout: Duration::from_millis(500),
    };
    let t0 = Instant::now();
    let hub = flags & 1 == 1;
    let mut session = ServerSession::new("fuzz".into(), limits, Serves { hub }, t0);
    let mut buf = BytesMut::from(bytes);
    let (mut welcomed, mut closed) = (false, false);
    for i in 0u64.. {
        let now = t0 + Duration::from_millis(i * u64::from(flags >> 1));
        let step = match decode_frame(&mut buf, MAX_FRAME) {
            Ok(Some(frame)) => session.on_frame(frame, now),
            _ => {
                session.on_tick(now, false);
                break;
            }
        };
        if closed {
            assert_eq!(step, Step::Nothing, "nothing after a close");
        }
        match step {
            Step::Welcome { answer, .. } => {
                assert!(!welcomed);
                welcomed = true;
                whole_frame(&answer);
            }
            Step::Send(frame) => whole_frame(&frame),
            Step::Refuse(_) => panic!("requests are refused only when stopping"),
            Step::Close(close) => {
                closed = true;
                if let Some(last) = close.last {
                    whole_frame(&last);
                }
            }
            Step::PubSub(_) | Step::Bridge(_) => assert!(welcomed && hub),
            Step::Request(_) | Step::Cancel(_) | Step::Ping(_) => assert!(welcomed),
            Step::Compress { answer, .. } => {
                assert!(welcomed);
                whole_frame(&answer);
            }
            Step::Authenticate(_) => {
                assert!(welcomed);
                // Accepted: AUTH_OK is written and the session goes on with what follows.
                match session.on_authenticated(Ok("fuzz")) {
                    Step::Send(frame) => whole_frame(&frame),
                    Step::Close(close) => {
                        closed = true;
                        if let Some(last) = close.last {
                            whole_frame(&last);
                        }
                    }
                    _ => {}
                }
            }
            Step::Nothing => {}
        }
        if session.on_tick(now, false) != Step::Nothing {
            closed = true;
        }
    }
});
