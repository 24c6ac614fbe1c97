//! The mapping between NATS publishes and hub messages, both ways: what a NATS client
//! publishes reaches NATS subscribers as it was sent (subject, reply, headers, payload), calls
//! and answers get hubwire's flags, hubwire's own bookkeeping stays hidden, errors and
//! no-responders carry over; the MSG lines written once per publish read back per sid; and the
//! sid book keeps UNSUB maximums as nats-server does.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use super::*;
use crate::protocol::{Headers, MessageFlags, Publish, ReplyError};
use crate::pubsub::Channel;

fn token() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_-]{1,6}"
}

fn subject() -> impl Strategy<Value = String> {
    prop::collection::vec(token(), 1..5).prop_map(|t| t.join("."))
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(("[A-Za-z][A-Za-z0-9-]{0,8}", "[ -~]{0,12}"), 0..4)
}

/// A MSG or HMSG line as a client reads it: (verb, subject, sid, reply, header block, payload).
type ReadMsg = (
    String,
    String,
    String,
    Option<String>,
    Option<Vec<u8>>,
    Vec<u8>,
);

/// Reads one MSG or HMSG, as a NATS client does, from `bytes`.
fn read_msg(bytes: &[u8]) -> ReadMsg {
    let end = bytes.windows(2).position(|w| w == b"\r\n").unwrap();
    let line = std::str::from_utf8(&bytes[..end]).unwrap();
    let args: Vec<&str> = line.split(' ').collect();
    let body = &bytes[end + 2..];
    let (verb, subject, sid) = (args[0], args[1], args[2]);
    let (reply, header_len, total) = match (verb, args.len()) {
        ("MSG", 4) => (None, 0, args[3]),
        ("MSG", 5) => (Some(args[3]), 0, args[4]),
        ("HMSG", 5) => (None, args[3].parse().unwrap(), args[4]),
        ("HMSG", 6) => (Some(args[3]), args[4].parse().unwrap(), args[5]),
        _ => panic!("not a message: {line}"),
    };
    let total: usize = total.parse().unwrap();
    assert_eq!(&body[total..], b"\r\n", "the payload ends the message");
    let block = (verb == "HMSG").then(|| body[..header_len].to_vec());
    (
        verb.to_owned(),
        subject.to_owned(),
        sid.to_owned(),
        reply.map(str::to_owned),
        block,
        body[header_len..total].to_vec(),
    )
}

const HEADERS_READER: Reader = Reader {
    headers: true,
    no_responders: true,
};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A NATS publish reaches NATS subscribers as it was sent, and its hub form is a call when
    /// it has a reply subject.
    #[test]
    fn a_nats_publish_reaches_nats_subscribers_unchanged(
        subject in subject(),
        reply in proptest::option::of(subject()),
        pairs in headers(),
        payload in prop::collection::vec(any::<u8>(), 0..64),
        echo in any::<bool>(),
        sid in "[0-9]{1,4}",
    ) {
        let mut sent = Headers::new();
        for (k, v) in &pairs {
            sent.insert(k.as_str(), v.trim());
        }
        let mut block = BytesMut::new();
        write_headers(&mut block, None, &sent);
        let publish = publish_from_nats(&subject, reply.as_deref(), Some(&block), Bytes::from(payload.clone()), echo).unwrap();
        prop_assert_eq!(publish.channel.as_str(), subject.replace('.', "/"));
        prop_assert_eq!(publish.flags.contains(MessageFlags::REQUEST), reply.is_some());
        prop_assert_eq!(publish.flags.contains(MessageFlags::NO_ECHO), !echo);
        let view = nats_view(&publish.channel, publish.flags, publish.reply_to.as_ref(), &publish.headers, &publish.body);
        let msg = EncodedMsg::new(&view, HEADERS_READER).unwrap();
        let mut out = BytesMut::new();
        msg.write(&sid, &mut out);
        let (verb, got_subject, got_sid, got_reply, got_block, got_payload) = read_msg(&out);
        prop_assert_eq!(got_subject, subject);
        prop_assert_eq!(got_sid, sid);
        prop_assert_eq!(got_reply, reply);
        prop_assert_eq!(got_payload, payload.clone());
        prop_assert_eq!(verb == "HMSG", !sent.is_empty());
        if let Some(block) = got_block {
            prop_assert_eq!(read_headers(&block).unwrap().headers, sent);
        }
        // A client that does not read headers gets the message without them.
        let plain = EncodedMsg::new(&view, Reader::default()).unwrap();
        out.clear();
        plain.write("9", &mut out);
        let (verb, _, _, _, _, got_payload) = read_msg(&out);
        prop_assert_eq!(verb, "MSG");
        prop_assert_eq!(got_payload, payload);
    }

    /// A plain publish (no reply, no headers, not an error or bare acknowledgement) written
    /// straight as a `MSG` is byte for byte what every kind of reader's encoded form writes;
    /// anything else is not plain.
    #[test]
    fn plain_messages_are_written_as_every_reader_encodes_them(
        subject in subject(),
        reply in proptest::option::of(subject()),
        pairs in headers(),
        payload in prop::collection::vec(any::<u8>(), 0..300),
        bits in 0_u8..128,
        sid in "[0-9]{1,20}",
    ) {
        let mut headers = Headers::new();
        for (k, v) in &pairs {
            headers.insert(k.as_str(), v.trim());
        }
        let to = channel(&subject.replace('.', "/"));
        let reply = reply.map(|r| channel(&r.replace('.', "/")));
        let flags = MessageFlags::EACH
            .into_iter()
            .filter(|f| bits & f.bits() != 0)
            .fold(MessageFlags::NONE, MessageFlags::union);
        let body = Bytes::from(payload.clone());
        let plain = is_plain(flags, reply.is_some(), &headers);
        let view = nats_view(&to, flags, reply.as_ref(), &headers, &body);
        prop_assert_eq!(plain, reply.is_none() && headers.is_empty() && !flags.contains(MessageFlags::ERROR) && !flags.contains(MessageFlags::ACK));
        if plain {
            let mut straight = BytesMut::new();
            write_plain_msg(&subject, &sid, &payload, &mut straight);
            for reader in [Reader::default(), HEADERS_READER, Reader { headers: true, no_responders: false }] {
                let mut encoded = BytesMut::new();
                EncodedMsg::new(&view, reader).unwrap().write(&sid, &mut encoded);
                prop_assert_eq!(&straight, &encoded);
            }
        }
    }

    /// The sid book against a model: a subscription gets messages until it is removed or has
    /// had its maximum (set before or after messages), and then nothing.
    #[test]
    fn the_sid_book_ends_subscriptions_as_nats_server_does(
        ops in prop::collection::vec((0u64..3, 0u8..4, 1u64..4), 0..40),
    ) {
        let mut book = SidBook::default();
        // sid -> (delivered, max), for live subscriptions.
        let mut model: std::collections::HashMap<u64, (u64, Option<u64>)> = Default::default();
        for (sid, op, n) in ops {
            match op {
                0 => {
                    book.add(sid, &format!("s{sid}"));
                    model.insert(sid, (0, None));
                }
                1 => {
                    book.remove(sid);
                    model.remove(&sid);
                }
                2 => {
                    let reached = book.limit(sid, n);
                    let expect = match model.get_mut(&sid) {
                        Some((delivered, _)) if *delivered >= n => true,
                        Some((_, max)) => { *max = Some(n); false }
                        None => false,
                    };
                    if expect {
                        model.remove(&sid);
                    }
                    prop_assert_eq!(reached, expect);
                }
                _ => {
                    let mut written = None;
                    let got = book.deliver(sid, |text| written = Some(text.to_owned()));
                    let expect = match model.get_mut(&sid) {
                        None => Delivered::Gone,
                        Some((delivered, max)) => {
                            *delivered += 1;
                            if max.is_some_and(|m| *delivered >= m) { Delivered::Last } else { Delivered::Written }
                        }
                    };
                    if expect == Delivered::Last {
                        model.remove(&sid);
                    }
                    prop_assert_eq!(got, expect);
                    prop_assert_eq!(written.is_some(), expect != Delivered::Gone);
                }
            }
            prop_assert_eq!(book.len(), model.len());
        }
    }
}

fn channel(s: &str) -> Channel {
    Channel::parse(s).unwrap()
}

#[test]
fn answers_to_hubwire_inboxes_are_replies_and_bare_acks_stay_hidden() {
    let answer = publish_from_nats("_inbox.abc.7", None, None, Bytes::from("42"), true).unwrap();
    assert_eq!(answer.flags, MessageFlags::ACK.union(MessageFlags::REPLY));
    let elsewhere = publish_from_nats("_INBOX.abc.7", None, None, Bytes::new(), true).unwrap();
    assert_eq!(
        elsewhere.flags,
        MessageFlags::NONE,
        "NATS's own inboxes are plain subjects"
    );
    let none = Headers::new();
    let body = Bytes::new();
    assert_eq!(
        nats_view(
            &channel("_inbox/abc/7"),
            MessageFlags::ACK,
            None,
            &none,
            &body
        ),
        NatsView::Hidden
    );
    assert_eq!(
        nats_view(&channel("a/b.c"), MessageFlags::NONE, None, &none, &body),
        NatsView::Hidden,
        "a channel with no subject form"
    );
}

#[test]
fn errors_and_no_responders_carry_over() {
    let call = Publish {
        channel: channel("svc/x"),
        flags: MessageFlags::REQUEST,
        reply_to: Some(channel("_INBOX/r/1")),
        headers: Headers::new(),
        body: Bytes::new(),
    };
    let nobody = call.no_responders().unwrap();
    let view = nats_view(
        &nobody.channel,
        nobody.flags,
        None,
        &nobody.headers,
        &nobody.body,
    );
    assert_eq!(
        view,
        NatsView::NoResponders {
            subject: "_INBOX.r.1".into()
        }
    );
    let mut out = BytesMut::new();
    EncodedMsg::new(&view, HEADERS_READER)
        .unwrap()
        .write("3", &mut out);
    assert_eq!(
        &out[..],
        b"HMSG _INBOX.r.1 3 16 16\r\nNATS/1.0 503\r\n\r\n\r\n"
    );
    let asked_without = Reader {
        headers: true,
        no_responders: false,
    };
    assert_eq!(
        EncodedMsg::new(&view, asked_without),
        None,
        "only to clients that asked"
    );

    let failed = ReplyError {
        code: crate::protocol::ErrorCode::InvalidBody,
        message: "bad".into(),
    };
    let body = failed.to_body().unwrap();
    let view = nats_view(
        &channel("_INBOX/r/2"),
        MessageFlags::ERROR,
        None,
        &Headers::new(),
        &body,
    );
    let NatsView::Message {
        headers, payload, ..
    } = view
    else {
        panic!("{view:?}")
    };
    assert_eq!(headers.get(SERVICE_ERROR_CODE), Some("300"));
    assert_eq!(headers.get(SERVICE_ERROR), Some("bad"));
    assert!(payload.is_empty());
}

#[test]
fn forms_are_encoded_once_per_kind_of_reader() {
    let mut headers = Headers::new();
    headers.insert("k", "v");
    let view = NatsView::Message {
        subject: "a.b".into(),
        reply: None,
        headers,
        payload: Bytes::from("x"),
    };
    let mut forms = NatsForms::new(view);
    let with = forms.for_reader(HEADERS_READER).unwrap().clone();
    let without = forms.for_reader(Reader::default()).unwrap().clone();
    assert_ne!(with, without);
    let (mut one, mut two) = (BytesMut::new(), BytesMut::new());
    with.write("1", &mut one);
    with.write("22", &mut two);
    assert_eq!(
        &one[..],
        b"HMSG a.b 1 18 19\r\nNATS/1.0\r\nk: v\r\n\r\nx\r\n"
    );
    assert_eq!(
        &two[..],
        b"HMSG a.b 22 18 19\r\nNATS/1.0\r\nk: v\r\n\r\nx\r\n"
    );
}
