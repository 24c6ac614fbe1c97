//! A NATS client's whole session as a hub runs it: CONNECT, operations in the client's order,
//! the table's answers, and each publish as NATS subscribers would read it.
//!
//! Input: the bytes a client sends, fed in two pieces (the first byte says where to cut).
#![no_main]

use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use hubwire_core::nats::{
    nats_view, BookChange, ClientParser, EncodedMsg, Info, NatsLimits, NatsSession, NatsStep,
    OpenGate, Reader, SidBook,
};
use libfuzzer_sys::fuzz_target;

fn session() -> NatsSession {
    let limits = NatsLimits {
        parser: ClientParser {
            max_control_line: 256,
            max_payload: 1024,
        },
        ping_interval: std::time::Duration::from_secs(30),
        max_pings_out: 2,
        auth_timeout: std::time::Duration::from_secs(2),
    };
    let info = Info {
        server_id: "F".into(),
        server_name: "fuzz".into(),
        version: "0".into(),
        proto: 1,
        headers: true,
        max_payload: 1024,
        host: "127.0.0.1".into(),
        port: 4222,
        auth_required: false,
        tls_required: false,
    };
    NatsSession::new(limits, info, Arc::new(OpenGate), Instant::now())
}

fuzz_target!(|data: &[u8]| {
    let Some((&cut, stream)) = data.split_first() else {
        return;
    };
    let cut = usize::from(cut).min(stream.len());
    let mut s = session();
    let mut book = SidBook::default();
    let mut out = BytesMut::new();
    let mut closed = false;
    for piece in [&stream[..cut], &stream[cut..]] {
        s.receive(piece, Instant::now());
        while let Some(step) = s.next(&mut out) {
            match step {
                NatsStep::Publish(publish) => {
                    let view = nats_view(
                        &publish.channel,
                        publish.flags,
                        publish.reply_to.as_ref(),
                        &publish.headers,
                        &publish.body,
                    );
                    let reader = Reader {
                        headers: true,
                        no_responders: true,
                    };
                    if let Some(msg) = EncodedMsg::new(&view, reader) {
                        let mut line = BytesMut::new();
                        msg.write("1", &mut line);
                        assert!(line.ends_with(b"\r\n"));
                    }
                }
                NatsStep::Book(BookChange::Add { sid, text }) => book.add(sid, &text),
                NatsStep::Book(BookChange::Remove { sid }) => book.remove(sid),
                NatsStep::Book(BookChange::Limit { sid, max }) => {
                    if book.limit(sid, max) {
                        s.ended(sid);
                    }
                }
                // The table applies everything.
                NatsStep::Changes(_) => {
                    let gone = s.on_applied(Vec::new(), &mut out);
                    assert!(gone.is_empty());
                }
                NatsStep::Connected { .. } => {}
                // The open gate decides at once: nobody is sent to the driver's check.
                NatsStep::Authenticate(_) => unreachable!("no driver check behind OpenGate"),
                NatsStep::Close(_) => closed = true,
            }
        }
        // What waits unread is at most a control line and a payload.
        assert!(closed || s.unread() <= 256 + 2 + 1024 + 2 + 64);
        // The session's view of the client's sids and the book's agree.
        assert_eq!(s.subscriptions(), book.len());
    }
});
