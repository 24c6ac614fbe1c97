//! The client operations as NATS clients write them, cut anywhere; the limits refused before
//! the bytes are waited for; and headers both ways.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use super::*;
use crate::protocol::Headers;

fn parse_all(parser: &ClientParser, input: &[u8]) -> Result<Vec<ClientOp>, ParseError> {
    let mut buf = BytesMut::from(input);
    let mut ops = Vec::new();
    while let Some(op) = parser.next(&mut buf)? {
        ops.push(op);
    }
    assert!(buf.is_empty(), "left over: {buf:?}");
    Ok(ops)
}

const SESSION: &[u8] = b"CONNECT {\"verbose\":false,\"headers\":true}\r\n\
    sub a.* 1\r\nSUB a.> workers 2\r\nPUB a.b 5\r\nhello\r\n\
    PUB a.b _INBOX.x 0\r\n\r\nHPUB a.c 18 20\r\nNATS/1.0\r\nK: v\r\n\r\nhi\r\n\
    UNSUB 1\r\nunsub 2 10\nPING\r\nPONG\r\n";

fn session_ops() -> Vec<ClientOp> {
    let s = |t: &str| t.to_owned();
    vec![
        ClientOp::Connect(Bytes::from_static(b"{\"verbose\":false,\"headers\":true}")),
        ClientOp::Sub {
            subject: s("a.*"),
            queue: None,
            sid: s("1"),
        },
        ClientOp::Sub {
            subject: s("a.>"),
            queue: Some(s("workers")),
            sid: s("2"),
        },
        ClientOp::Pub {
            subject: s("a.b"),
            reply: None,
            headers: None,
            payload: Bytes::from_static(b"hello"),
        },
        ClientOp::Pub {
            subject: s("a.b"),
            reply: Some(s("_INBOX.x")),
            headers: None,
            payload: Bytes::new(),
        },
        ClientOp::Pub {
            subject: s("a.c"),
            reply: None,
            headers: Some(Bytes::from_static(b"NATS/1.0\r\nK: v\r\n\r\n")),
            payload: Bytes::from_static(b"hi"),
        },
        ClientOp::Unsub {
            sid: s("1"),
            max: None,
        },
        ClientOp::Unsub {
            sid: s("2"),
            max: Some(10),
        },
        ClientOp::Ping,
        ClientOp::Pong,
    ]
}

#[test]
fn a_clients_operations_are_read_whatever_their_case_and_line_ends() {
    assert_eq!(
        parse_all(&ClientParser::default(), SESSION).unwrap(),
        session_ops()
    );
}

#[test]
fn a_long_control_line_or_payload_is_refused_before_it_is_all_there() {
    let parser = ClientParser {
        max_control_line: 16,
        max_payload: 8,
    };
    let mut buf = BytesMut::from(&b"SUB aaaaaaaaaaaaaaaaaaaaaaaaa"[..]);
    assert_eq!(
        parser.next(&mut buf),
        Err(ParseError::ControlLine(16)),
        "no line end yet"
    );
    let mut buf = BytesMut::from(&b"PUB a 9\r\n"[..]);
    let err = parser.next(&mut buf).unwrap_err();
    assert_eq!(
        err,
        ParseError::Payload { size: 9, max: 8 },
        "the payload is not awaited"
    );
    assert_eq!(err.nats_text(), "Maximum Payload Violation");
    let mut buf = BytesMut::from(&b"PUB a 8\r\n1234"[..]);
    assert_eq!(parser.next(&mut buf), Ok(None), "within the limit: waits");
}

#[test]
fn what_is_not_an_operation_is_refused() {
    let parser = ClientParser::default();
    for bad in [
        &b"HELLO\r\n"[..],
        b"SUB a\r\n",
        b"PUB a x\r\n",
        b"UNSUB 1 x\r\n",
        b"PUB a 2\r\nabXY",
    ] {
        let err = parse_all(&parser, bad).unwrap_err();
        assert_eq!(err.nats_text(), "Unknown Protocol Operation", "{bad:?}");
    }
}

#[test]
fn header_blocks_come_and_go_with_their_status() {
    let block = read_headers(b"NATS/1.0 503\r\nA: 1\r\nB:  two \r\nA: 3\r\n\r\n").unwrap();
    assert_eq!(block.status, Some(503));
    assert_eq!(
        block.headers.get("A"),
        Some("3"),
        "the last value of a repeated key"
    );
    assert_eq!(block.headers.get("B"), Some("two"));
    assert_eq!(read_headers(b"HTTP/1.1\r\n\r\n"), Err(HeaderError::Version));
    assert!(matches!(
        read_headers(b"NATS/1.0\r\nno colon\r\n\r\n"),
        Err(HeaderError::Line(_))
    ));
    // A bare line feed inside a line would split it where a NATS client reads it.
    assert!(matches!(
        read_headers(b"NATS/1.0\r\nK: a\nb\r\n\r\n"),
        Err(HeaderError::Line(_))
    ));
    let mut headers = Headers::new();
    headers.insert("trace", "abc");
    let mut out = BytesMut::new();
    write_headers(&mut out, Some((503, "")), &headers);
    assert_eq!(&out[..], b"NATS/1.0 503\r\ntrace: abc\r\n\r\n");
    assert_eq!(read_headers(&out).unwrap().headers, headers);
}

#[test]
fn messages_are_written_as_clients_read_them() {
    let mut out = BytesMut::new();
    write_msg(&mut out, "a.b", "7", Some("_INBOX.1"), None, b"hello");
    assert_eq!(&out[..], b"MSG a.b 7 _INBOX.1 5\r\nhello\r\n");
    out.clear();
    write_msg(&mut out, "a.b", "7", None, Some(b"NATS/1.0\r\n\r\n"), b"hi");
    assert_eq!(&out[..], b"HMSG a.b 7 12 14\r\nNATS/1.0\r\n\r\nhi\r\n");
    out.clear();
    write_err(&mut out, "Slow Consumer");
    assert_eq!(&out[..], b"-ERR 'Slow Consumer'\r\n");
}

#[test]
fn sizes_are_written_in_decimal() {
    let edges = [0, 7, 9, 10, 99, 100, 999, 1000, 1_048_576, usize::MAX];
    for n in edges.into_iter().chain(0..2000) {
        let mut out = BytesMut::new();
        super::server_ops::put_number(&mut out, n);
        assert_eq!(&out[..], format!(" {n}").as_bytes());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Cut into pieces anywhere, the same operations come out.
    #[test]
    fn operations_cut_anywhere_read_the_same(cuts in prop::collection::vec(0usize..SESSION.len(), 0..8)) {
        let parser = ClientParser::default();
        let mut cuts = cuts;
        cuts.sort_unstable();
        let mut buf = BytesMut::new();
        let mut ops = Vec::new();
        let mut from = 0;
        for to in cuts.into_iter().chain([SESSION.len()]) {
            buf.extend_from_slice(&SESSION[from..to.max(from)]);
            from = to.max(from);
            while let Some(op) = parser.next(&mut buf).unwrap() {
                ops.push(op);
            }
        }
        prop_assert_eq!(ops, session_ops());
    }

    /// The one-pass PUB reading and the full one give the same operations, waits and errors,
    /// whatever the line holds (spacing, case, sizes, limits, a line cut short).
    #[test]
    fn a_plain_pub_reads_as_any_pub_does(
        parts in prop::collection::vec(
            prop_oneof![
                Just("PUB".to_owned()), Just("pub".to_owned()), Just(" ".to_owned()),
                Just("  ".to_owned()), Just("\t".to_owned()), Just("\r\n".to_owned()),
                Just("\n".to_owned()), Just("+5".to_owned()), Just("é".to_owned()),
                "[a-c.>*_]{1,12}", "[0-9]{1,11}",
            ],
            0..12,
        ),
        limits in (1usize..40, 0usize..20),
    ) {
        let input: String = parts.concat();
        let parser = ClientParser { max_control_line: limits.0, max_payload: limits.1 };
        let (mut fast, mut full) = (BytesMut::from(input.as_bytes()), BytesMut::from(input.as_bytes()));
        loop {
            let (a, b) = (parser.next(&mut fast), parser.next_any(&mut full));
            prop_assert_eq!(&a, &b, "{:?}", input);
            prop_assert_eq!(&fast, &full);
            if !matches!(a, Ok(Some(_))) {
                break;
            }
        }
    }

    /// Reading a PUB in place (subject and reply into kept strings, nothing allocated) takes
    /// just what the full reading takes, as the same PUB, or leaves the bytes for it.
    #[test]
    fn a_pub_read_in_place_is_the_pub_any_reading_gives(
        parts in prop::collection::vec(
            prop_oneof![
                Just("PUB".to_owned()), Just("pub".to_owned()), Just(" ".to_owned()),
                Just("  ".to_owned()), Just("\r\n".to_owned()), Just("\n".to_owned()),
                Just("\r".to_owned()), Just("é".to_owned()), "[a-c.>*_]{1,12}", "[0-9]{1,3}",
            ],
            0..14,
        ),
        limits in (1usize..40, 0usize..20),
        kept_reply in any::<bool>(),
    ) {
        let input: String = parts.concat();
        let parser = ClientParser { max_control_line: limits.0, max_payload: limits.1 };
        let (mut fast, mut full) = (BytesMut::from(input.as_bytes()), BytesMut::from(input.as_bytes()));
        let mut subject = "left over".to_owned();
        let mut reply = kept_reply.then(|| "left over too".to_owned());
        loop {
            let before = subject.clone();
            let Some(read) = parser.next_plain_pub(&mut fast, &mut subject, &mut reply) else {
                // Left as it was: the full reading goes on from the same bytes.
                prop_assert_eq!(&fast, &full);
                let (a, b) = (parser.next(&mut fast), parser.next_any(&mut full));
                prop_assert_eq!(&a, &b);
                if !matches!(a, Ok(Some(_))) {
                    break;
                }
                continue;
            };
            prop_assert_eq!(read.same_subject, before == subject);
            let expected = ClientOp::Pub {
                subject: subject.clone(),
                reply: reply.clone(),
                headers: None,
                payload: read.payload,
            };
            prop_assert_eq!(parser.next_any(&mut full), Ok(Some(expected)), "{:?}", input);
            prop_assert_eq!(&fast, &full);
        }
    }

    /// Well-formed PUBs near the limits: the control line just under, at and over its
    /// maximum, the payload likewise; both readings agree on every one.
    #[test]
    fn a_plain_pub_at_the_limits_reads_as_any_pub_does(
        subject in "[a-z]{1,20}",
        reply in prop::option::of("[a-z]{1,8}"),
        size in 0usize..6,
        limits in (8usize..40, 0usize..6),
    ) {
        let reply = reply.map(|r| format!(" {r}")).unwrap_or_default();
        let payload = "x".repeat(size);
        let input = format!("PUB {subject}{reply} {size}\r\n{payload}\r\n");
        let parser = ClientParser { max_control_line: limits.0, max_payload: limits.1 };
        let (mut fast, mut full) = (BytesMut::from(input.as_bytes()), BytesMut::from(input.as_bytes()));
        prop_assert_eq!(parser.next(&mut fast), parser.next_any(&mut full), "{:?}", input);
        prop_assert_eq!(fast, full);
    }

    /// Any bytes: operations, a wait or a typed error, never a panic, and never more buffered
    /// than a control line and a payload.
    #[test]
    fn any_bytes_are_read_or_refused(input in prop::collection::vec(any::<u8>(), 0..200)) {
        let parser = ClientParser { max_control_line: 32, max_payload: 64 };
        let mut buf = BytesMut::from(&input[..]);
        while let Ok(Some(_)) = parser.next(&mut buf) {}
    }
}

#[test]
fn connect_json_may_hold_spaces_and_other_operations_take_four_arguments_at_most() {
    let parser = ClientParser::default();
    let mut buf =
        BytesMut::from(&b"connect { \"verbose\": false, \"name\": \"a b c d e\" }\r\n"[..]);
    assert_eq!(
        parser.next(&mut buf),
        Ok(Some(ClientOp::Connect(Bytes::from_static(
            b"{ \"verbose\": false, \"name\": \"a b c d e\" }"
        ))))
    );
    assert!(buf.is_empty());
    let mut buf = BytesMut::from(&b"HPUB a r 0 2 9\r\nhi\r\n"[..]);
    assert!(matches!(parser.next(&mut buf), Err(ParseError::Unknown(_))));
    let mut buf = BytesMut::from(&b"hpub a r 0 2\r\nhi\r\n"[..]);
    assert!(matches!(
        parser.next(&mut buf),
        Ok(Some(ClientOp::Pub { .. }))
    ));
}

#[test]
fn plain_pubs_are_read_in_place_and_the_rest_left_for_the_full_reading() {
    let parser = ClientParser::default();
    let mut buf = BytesMut::from(&b"PUB a.b 3\r\nabc\r\nPUB a.b r 0\r\n\r\nPUB d 2\r\nx"[..]);
    let (mut subject, mut reply) = (String::new(), None);
    let read = parser
        .next_plain_pub(&mut buf, &mut subject, &mut reply)
        .unwrap();
    assert_eq!((&read.payload[..], read.same_subject), (&b"abc"[..], false));
    assert_eq!((&*subject, &reply), ("a.b", &None));
    let read = parser
        .next_plain_pub(&mut buf, &mut subject, &mut reply)
        .unwrap();
    assert_eq!((&read.payload[..], read.same_subject), (&b""[..], true));
    assert_eq!((&*subject, reply.as_deref()), ("a.b", Some("r")));
    // Not whole yet: left as it is.
    assert_eq!(
        parser.next_plain_pub(&mut buf, &mut subject, &mut reply),
        None
    );
    assert_eq!(&buf[..], b"PUB d 2\r\nx");
    let mut sub = BytesMut::from(&b"SUB a 1\r\n"[..]);
    assert_eq!(
        parser.next_plain_pub(&mut sub, &mut subject, &mut reply),
        None
    );
    assert_eq!(sub.len(), 9);
}
