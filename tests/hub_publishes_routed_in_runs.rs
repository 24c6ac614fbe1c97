//! Guards the routing of many PUBLISH frames read at once (the hub routes a read's publishes
//! together, a run to one channel matched once): every subscriber gets each message once, in
//! the order sent, whatever breaks the run (another channel, a request, headers, a publish the
//! hub refuses, a PING); the publisher's REFUSED comes for the bad one alone; no-echo holds
//! inside a run.

mod support;

use bytes::{Bytes, BytesMut};
use hubwire::hub::HubLimits;
use hubwire::protocol::{
    kind, Envelope, Headers, Message, MessageFlags, Ping, Pong, Publish, Refused, Subscribe,
};
use hubwire::pubsub::{Channel, Pattern};
use support::*;

/// Frames in the burst, more than the hub gathers before it routes (256).
const BURST: usize = 300;

fn publish(on: &str, body: String, flags: MessageFlags) -> Publish {
    Publish {
        channel: Channel::parse(on).unwrap(),
        flags,
        reply_to: None,
        headers: Headers::new(),
        body: Bytes::from(body),
    }
}

/// The burst: a run to `runs/a` broken by one publish to `runs/b`, a request, one with
/// headers, one NO_ECHO and one with an invalid channel; what each subscriber of `runs/*`
/// should get, in order.
fn burst() -> (BytesMut, Vec<(String, String)>) {
    let (mut wire, mut expected) = (BytesMut::new(), Vec::new());
    for i in 0..BURST {
        let body = format!("m{i}{}", "x".repeat(i % 7));
        let mut p = publish("runs/a", body.clone(), MessageFlags::NONE);
        match i {
            100 => p.channel = Channel::parse("runs/b").unwrap(),
            150 => {
                p.flags = MessageFlags::REQUEST;
                p.reply_to = Some(Channel::parse("answers/here").unwrap());
            }
            200 => p.headers.insert("k", "v"),
            220 => p.flags = MessageFlags::NO_ECHO,
            _ => {}
        }
        if i == 250 {
            // A channel with a control character: refused, the burst goes on.
            let mut bad = BytesMut::new();
            publish("runs/a", body, MessageFlags::NONE)
                .write_frame(&mut bad)
                .unwrap();
            let at = bad.windows(6).position(|w| w == b"runs/a").unwrap();
            bad[at] = 0x07;
            wire.extend_from_slice(&bad);
            continue;
        }
        if i == 260 {
            Ping { nonce: 1 }.write_frame(&mut wire).unwrap();
        }
        expected.push((p.channel.as_str().to_owned(), body));
        p.write_frame(&mut wire).unwrap();
    }
    (wire, expected)
}

async fn subscribe(raw: &mut Raw, sid: u64, pattern: &str) {
    raw.send_envelope(&Subscribe::new(sid, Pattern::parse(pattern).unwrap()))
        .await;
    raw.send_envelope(&Ping { nonce: 77 }).await;
    while raw.recv().await.expect("a PONG").kind != kind::PONG {}
}

/// The next `count` MESSAGEs on `raw` (PONGs passed over) as (channel, body).
async fn messages(raw: &mut Raw, count: usize) -> Vec<(String, String)> {
    let mut got = Vec::new();
    while got.len() < count {
        let frame = recv_or_fail("a message", raw.recv()).await.expect("open");
        if frame.kind == kind::PONG {
            continue;
        }
        assert_eq!(frame.kind, kind::MESSAGE, "{frame:?}");
        let message = Message::from_frame(&frame).unwrap();
        let body = String::from_utf8(message.body.to_vec()).unwrap();
        got.push((message.channel.as_str().to_owned(), body));
    }
    got
}

#[tokio::test]
async fn a_burst_reaches_every_subscriber_once_in_order_with_its_refusal_alone() {
    let server =
        TestServer::start(loopback_config(), |b| b.hub(HubLimits::default())).expect("a hub");
    let mut first = Raw::handshake(&server.tcp()).await;
    let mut second = Raw::handshake(&server.tcp()).await;
    subscribe(&mut first, 1, "runs/*").await;
    subscribe(&mut second, 4, "runs/**").await;
    let mut publisher = Raw::handshake(&server.tcp()).await;
    // The publisher hears its own channel too: NO_ECHO takes its one message out.
    subscribe(&mut publisher, 9, "runs/a").await;

    let (wire, expected) = burst();
    publisher.send(&wire).await;

    assert_eq!(messages(&mut first, expected.len()).await, expected);
    assert_eq!(messages(&mut second, expected.len()).await, expected);
    let mut echoed = Vec::new();
    let mut refusals = 0;
    let own: Vec<_> = expected
        .iter()
        .filter(|(channel, body)| channel == "runs/a" && !body.starts_with("m220"))
        .cloned()
        .collect();
    while echoed.len() < own.len() {
        let frame = recv_or_fail("the echo", publisher.recv())
            .await
            .expect("open");
        match frame.kind {
            kind::MESSAGE => {
                let message = Message::from_frame(&frame).unwrap();
                let body = String::from_utf8(message.body.to_vec()).unwrap();
                echoed.push((message.channel.as_str().to_owned(), body));
            }
            kind::REFUSED => {
                Refused::from_frame(&frame).unwrap();
                refusals += 1;
            }
            _ => {}
        }
    }
    assert_eq!(echoed, own);
    // Nothing else is owed: a PING's PONG comes after whatever was still on its way.
    publisher.send_envelope(&Ping { nonce: 2 }).await;
    loop {
        let frame = recv_or_fail("the PONG", publisher.recv())
            .await
            .expect("open");
        match frame.kind {
            kind::PONG if Pong::from_frame(&frame).unwrap().nonce == 2 => break,
            kind::PONG => {}
            kind::REFUSED => refusals += 1,
            other => panic!("unexpected frame {other} after the burst"),
        }
    }
    assert_eq!(refusals, 1, "one REFUSED, for the one bad channel");
}
