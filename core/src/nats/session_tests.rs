//! One NATS client's session, without a socket: CONNECT and its options, operations taken in
//! the client's order (a PUB or PING after a SUB waits for the table), `+OK` and `-ERR` with
//! nats-server's texts, UNSUB with a maximum, declined subscriptions, credentials, and the
//! keepalive and CONNECT timers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;

use super::*;
use crate::pubsub::{Change, Declined};

fn limits() -> NatsLimits {
    NatsLimits {
        parser: ClientParser::default(),
        ping_interval: Duration::from_secs(10),
        max_pings_out: 2,
        auth_timeout: Duration::from_secs(2),
    }
}

fn info() -> Info {
    Info {
        server_id: "ID".into(),
        server_name: "test".into(),
        version: "0".into(),
        proto: 1,
        headers: true,
        max_payload: 0,
        host: "127.0.0.1".into(),
        port: 4222,
        auth_required: false,
        tls_required: false,
    }
}

fn session_with(gate: Arc<dyn NatsGate>, now: Instant) -> NatsSession {
    NatsSession::new(limits(), info(), gate, now)
}

/// Feeds `input`, then runs the session until it waits: the steps, and what it wrote.
fn feed(session: &mut NatsSession, input: &[u8]) -> (Vec<NatsStep>, String) {
    session.receive(input, Instant::now());
    run(session)
}

fn run(session: &mut NatsSession) -> (Vec<NatsStep>, String) {
    let mut out = BytesMut::new();
    let mut steps = Vec::new();
    while let Some(step) = session.next(&mut out) {
        steps.push(step);
    }
    (steps, String::from_utf8(out.to_vec()).unwrap())
}

#[test]
fn info_announces_the_limits_and_whether_credentials_are_needed() {
    let session = session_with(Arc::new(OpenGate), Instant::now());
    let mut out = BytesMut::new();
    session.greet(&mut out);
    let text = String::from_utf8(out.to_vec()).unwrap();
    assert!(
        text.starts_with("INFO {") && text.ends_with("}\r\n"),
        "{text}"
    );
    assert!(text.contains("\"max_payload\":1048576"), "{text}");
    assert!(text.contains("\"auth_required\":false"), "{text}");
    assert!(
        text.contains("\"headers\":true") && text.contains("\"proto\":1"),
        "{text}"
    );
}

#[test]
fn a_pub_after_a_sub_waits_until_the_table_has_applied_it() {
    let mut s = session_with(Arc::new(OpenGate), Instant::now());
    let (steps, out) = feed(
        &mut s,
        b"CONNECT {\"verbose\":true,\"echo\":false}\r\nSUB a.* q 7\r\nPUB a.b 2\r\nhi\r\nPING\r\n",
    );
    assert_eq!(
        out, "+OK\r\n+OK\r\n",
        "CONNECT and SUB answered; the PUB waits"
    );
    assert!(matches!(&steps[0], NatsStep::Connected { reader, .. } if !reader.headers));
    assert!(matches!(&steps[1], NatsStep::Book(BookChange::Add { sid: 1, text }) if text == "7"));
    let NatsStep::Changes(changes) = &steps[2] else {
        panic!("{steps:?}")
    };
    let [Change::Subscribe(wanted)] = &changes[..] else {
        panic!("{changes:?}")
    };
    assert_eq!(wanted.group.as_deref(), Some("q"));
    assert!(!wanted.replay, "NATS clients get no retained replays");
    assert_eq!(steps.len(), 3);
    assert!(s.is_paused());

    let mut out = BytesMut::new();
    assert!(s.on_applied(Vec::new(), &mut out).is_empty());
    let (steps, out) = run(&mut s);
    let [NatsStep::Publish(publish)] = &steps[..] else {
        panic!("{steps:?}")
    };
    assert_eq!(publish.channel.as_str(), "a/b");
    assert!(publish
        .flags
        .contains(crate::protocol::MessageFlags::NO_ECHO));
    assert_eq!(out, "+OK\r\nPONG\r\n");
}

#[test]
fn unsub_with_a_maximum_limits_and_unsub_without_removes() {
    let mut s = session_with(Arc::new(OpenGate), Instant::now());
    feed(&mut s, b"SUB a 1\r\nSUB b 2\r\n");
    s.on_applied(Vec::new(), &mut BytesMut::new());
    let (steps, _) = feed(&mut s, b"UNSUB 1 5\r\nUNSUB 2\r\nUNSUB 99\r\n");
    assert!(matches!(
        steps[0],
        NatsStep::Book(BookChange::Limit { sid: 1, max: 5 })
    ));
    assert!(matches!(
        steps[1],
        NatsStep::Book(BookChange::Remove { sid: 2 })
    ));
    let NatsStep::Changes(changes) = &steps[2] else {
        panic!("{steps:?}")
    };
    assert_eq!(
        changes,
        &[Change::Unsubscribe(2)],
        "an unknown sid is no error"
    );
    s.on_applied(Vec::new(), &mut BytesMut::new());
    s.ended(1);
    let (steps, _) = run(&mut s);
    assert!(matches!(&steps[..], [NatsStep::Changes(c)] if c == &[Change::Unsubscribe(1)]));
    assert_eq!(s.subscriptions(), 0);
}

#[test]
fn a_declined_subscription_is_an_error_and_forgotten() {
    let mut s = session_with(Arc::new(OpenGate), Instant::now());
    feed(&mut s, b"SUB a 1\r\n");
    let mut out = BytesMut::new();
    let gone = s.on_applied(
        vec![Declined {
            sid: 1,
            reason: "too many".into(),
        }],
        &mut out,
    );
    assert_eq!(gone, [1]);
    assert_eq!(&out[..], b"-ERR 'Maximum Subscriptions Exceeded'\r\n");
    assert_eq!(s.subscriptions(), 0);
}

#[test]
fn bad_connect_options_and_bad_bytes_close_with_their_error() {
    let mut s = session_with(Arc::new(OpenGate), Instant::now());
    let (steps, out) = feed(&mut s, b"CONNECT {\"no_responders\":true}\r\n");
    assert!(matches!(steps[..], [NatsStep::Close(_)]));
    assert_eq!(out, "-ERR 'no responders requires headers support'\r\n");
    let (steps, _) = feed(&mut s, b"PING\r\n");
    assert!(steps.is_empty(), "nothing more is read");

    let mut s = session_with(Arc::new(OpenGate), Instant::now());
    let (steps, out) = feed(&mut s, b"PING\r\nNOPE\r\n");
    assert!(matches!(steps[..], [NatsStep::Close(_)]));
    assert_eq!(out, "PONG\r\n-ERR 'Unknown Protocol Operation'\r\n");
}

#[test]
fn a_ping_read_with_a_sub_is_answered_once_the_sub_is_applied() {
    // nats-py's flush puts its PING ahead of a SUB it has not sent yet: nats-server answers
    // after processing the whole read, so the SUB is in place at the PONG.
    let mut s = session_with(Arc::new(OpenGate), Instant::now());
    let (steps, out) = feed(&mut s, b"PING\r\nSUB a 1\r\n");
    assert!(
        matches!(steps[..], [NatsStep::Book(_), NatsStep::Changes(_)]),
        "{steps:?}"
    );
    assert_eq!(out, "", "no PONG while the SUB is at the table");
    let mut out = BytesMut::new();
    assert!(s.on_applied(Vec::new(), &mut out).is_empty());
    let (steps, more) = run(&mut s);
    assert!(steps.is_empty(), "{steps:?}");
    assert_eq!(String::from_utf8_lossy(&out) + more.as_str(), "PONG\r\n");
    // Without a SUB in the read, the PONG goes at once; two PINGs, two PONGs.
    let (_, out) = feed(&mut s, b"PING\r\nPING\r\n");
    assert_eq!(out, "PONG\r\nPONG\r\n");
}

#[derive(Debug)]
struct Token;

impl NatsGate for Token {
    fn auth_required(&self) -> bool {
        true
    }

    fn admit(&self, c: Credentials<'_>) -> Option<Arc<dyn NatsPermissions>> {
        (c.token == Some("t0k")).then(|| Arc::new(AllowEverything) as _)
    }
}

#[test]
fn with_credentials_required_connect_comes_first_in_time_and_must_match() {
    let start = Instant::now();
    let mut s = session_with(Arc::new(Token), start);
    let (steps, out) = feed(&mut s, b"CONNECT {\"auth_token\":\"t0k\"}\r\nPING\r\n");
    assert!(matches!(steps[..], [NatsStep::Connected { .. }]));
    assert_eq!(out, "PONG\r\n");

    let mut s = session_with(Arc::new(Token), start);
    let (_, out) = feed(&mut s, b"CONNECT {\"auth_token\":\"nope\"}\r\n");
    assert_eq!(out, "-ERR 'Authorization Violation'\r\n");

    let mut s = session_with(Arc::new(Token), start);
    let mut out = BytesMut::new();
    assert_eq!(
        s.on_tick(start + Duration::from_secs(1), &mut out),
        Tick::Quiet
    );
    assert!(matches!(
        s.on_tick(start + Duration::from_secs(2), &mut out),
        Tick::Close(_)
    ));
    assert_eq!(&out[..], b"-ERR 'Authentication Timeout'\r\n");
}

#[test]
fn a_quiet_client_is_pinged_then_closed_as_stale() {
    let start = Instant::now();
    let mut s = session_with(Arc::new(OpenGate), start);
    let mut out = BytesMut::new();
    let at = |secs| start + Duration::from_secs(secs);
    assert_eq!(s.on_tick(at(9), &mut out), Tick::Quiet);
    assert_eq!(s.on_tick(at(10), &mut out), Tick::Ping);
    assert_eq!(s.on_tick(at(20), &mut out), Tick::Ping);
    assert!(matches!(s.on_tick(at(30), &mut out), Tick::Close(_)));
    assert_eq!(&out[..], b"-ERR 'Stale Connection'\r\n");

    let mut s = session_with(Arc::new(OpenGate), start);
    assert_eq!(s.on_tick(at(10), &mut out), Tick::Ping);
    s.receive(b"PONG\r\n", at(11));
    assert_eq!(
        s.on_tick(at(20), &mut out),
        Tick::Quiet,
        "heard from: counted afresh"
    );
}

#[test]
fn a_gate_checked_by_the_driver_holds_reading_until_its_answer() {
    let mut s = session_with(Arc::new(UsersGate), Instant::now());
    let (steps, out) = feed(
        &mut s,
        b"CONNECT {\"user\":\"ann\",\"pass\":\"pw\",\"verbose\":true}\r\nPING\r\n",
    );
    match &steps[..] {
        [NatsStep::Authenticate(c)] => {
            assert_eq!(c.user.as_deref(), Some("ann"));
            assert_eq!(c.password.as_deref(), Some("pw"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(out, "", "nothing is answered before the check");
    assert!(s.is_paused());
    let mut out = BytesMut::new();
    let step = s.admitted(Some(Arc::new(AllowEverything)), &mut out);
    assert!(matches!(step, NatsStep::Connected { .. }));
    assert!(!s.is_paused());
    let (_, more) = run(&mut s);
    assert_eq!(
        format!("{}{more}", String::from_utf8_lossy(&out)),
        "+OK\r\nPONG\r\n"
    );

    let mut s = session_with(Arc::new(UsersGate), Instant::now());
    let (steps, _) = feed(&mut s, b"CONNECT {\"auth_token\":\"bad\"}\r\nPING\r\n");
    assert!(matches!(steps[..], [NatsStep::Authenticate(_)]));
    let mut out = BytesMut::new();
    assert!(matches!(s.admitted(None, &mut out), NatsStep::Close(_)));
    assert_eq!(&out[..], b"-ERR 'Authorization Violation'\r\n");
    let (steps, more) = run(&mut s);
    assert!(
        steps.is_empty() && more.is_empty(),
        "the PING is never read"
    );
}

#[test]
fn a_client_identified_by_its_certificate_is_admitted_without_a_check() {
    let mut s = session_with(Arc::new(UsersGate), Instant::now());
    s.identified(Arc::new(AllowEverything));
    let (steps, out) = feed(&mut s, b"CONNECT {}\r\nPING\r\n");
    assert!(
        matches!(steps[..], [NatsStep::Connected { .. }]),
        "{steps:?}"
    );
    assert_eq!(out, "PONG\r\n");
}

#[test]
fn user_permissions_allow_the_clients_own_inboxes_and_answers() {
    use crate::auth::{PermissionSpec, Permissions, User};
    use crate::pubsub::{Channel, Pattern};
    let spec = PermissionSpec {
        publish: vec!["svc/**".into()],
        subscribe: vec!["news/*".into()],
        ..PermissionSpec::default()
    };
    let user = Arc::new(User::new("ann", Permissions::from_spec(&spec).unwrap()));
    let p = UserPermissions::new(user);
    let channel = |s: &str| subject_to_channel(s).unwrap();
    let pattern = |s: &str| subject_to_pattern(s).unwrap();
    let nuid = "AbCdEfGhIjKlMnOpQrStUv";
    assert!(p.may_publish(&channel("svc.add")));
    assert!(!p.may_publish(&channel("news.x")));
    assert!(p.may_publish(&channel(&format!("_INBOX.{nuid}.7"))));
    assert!(!p.may_publish(&channel("_INBOX.short.7")), "not a NUID");
    assert!(p.may_publish(&Channel::parse(&format!("_inbox/{}/3", "a".repeat(32))).unwrap()));
    assert!(p.may_subscribe(&pattern("news.*")));
    assert!(!p.may_subscribe(&pattern("news.>")), "wider than the grant");
    for own in [
        format!("_INBOX.{nuid}"),
        format!("_INBOX.{nuid}.*"),
        format!("_INBOX.{nuid}.>"),
    ] {
        assert!(p.may_subscribe(&pattern(&own)), "{own}");
    }
    for other in ["_INBOX.>", "_INBOX.*", "_INBOX.*.*"] {
        assert!(!p.may_subscribe(&pattern(other)), "{other}");
    }
    assert!(!p.may_subscribe(&Pattern::parse(&format!("_INBOX/{nuid}/a/*")).unwrap()));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// PUBs read in place (`PUB`) and by the full reading (`pub`, which the in-place reading
    /// leaves to it) are carried out alike: the same publishes, errors and `+OK`s, whatever
    /// the subjects (repeated, changing, invalid) and replies.
    #[test]
    fn pubs_read_in_place_are_carried_out_as_any_pub(
        pubs in proptest::collection::vec(
            (0_usize..6, proptest::option::of(0_usize..3), "[a-z]{0,5}"),
            1..40,
        ),
        verbose in proptest::bool::ANY,
        echo in proptest::bool::ANY,
    ) {
        const SUBJECTS: [&str; 6] = ["a.b", "a.b", "a.c", "x", "a..b", "a.*"];
        const REPLIES: [&str; 3] = ["r.1", "_INBOX.abc.1", "bad..r"];
        let connect = format!("CONNECT {{\"verbose\":{verbose},\"echo\":{echo}}}\r\n");
        let run_with = |verb: &str| {
            let mut session = session_with(Arc::new(OpenGate), Instant::now());
            let mut input = connect.clone().into_bytes();
            for (subject, reply, payload) in &pubs {
                let reply = reply.map(|r| format!(" {}", REPLIES[r])).unwrap_or_default();
                let line = format!("{verb} {}{reply} {}\r\n{payload}\r\n", SUBJECTS[*subject], payload.len());
                input.extend_from_slice(line.as_bytes());
            }
            let (steps, out) = feed(&mut session, &input);
            (format!("{steps:?}"), out)
        };
        let (in_place, full) = (run_with("PUB"), run_with("pub"));
        proptest::prop_assert_eq!(in_place, full);
    }
}
