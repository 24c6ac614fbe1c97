//! Guards retained messages: replayed to a new subscriber before any live message published
//! after its subscription was applied, however fast others publish, and with the headers they
//! were published with.

mod support;

use std::time::Duration;

use bytes::Bytes;
use hubwire::protocol::{kind, Envelope, Headers, Message, MessageFlags, Publish, Subscribe};
use hubwire::pubsub::{Channel, Pattern};
use support::hub::hub;
use support::*;
use tokio::io::AsyncWriteExt;

fn publish(on: &str, flags: MessageFlags, headers: Headers, body: &'static [u8]) -> Publish {
    Publish {
        channel: Channel::parse(on).unwrap(),
        flags,
        reply_to: None,
        headers,
        body: Bytes::from_static(body),
    }
}

async fn next_message(raw: &mut Raw) -> Message {
    loop {
        let frame = raw.recv().await.expect("a MESSAGE");
        if frame.kind == kind::MESSAGE {
            return Message::from_frame(&frame).unwrap();
        }
    }
}

#[actix_rt::test]
async fn the_retained_message_comes_before_live_ones_during_a_flood() {
    let hub = hub();
    let mut publisher = Raw::handshake(&hub.tcp()).await;
    let retained = publish("r/old", MessageFlags::RETAIN, Headers::new(), b"kept");
    publisher.send_envelope(&retained).await;
    recv_or_fail("the message to be retained", async {
        while hub.registry.snapshot().gauge("hub.retained", &[]) != Some(1) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;

    // A publisher floods r/live from another task for the whole test.
    let live = publish("r/live", MessageFlags::NONE, Headers::new(), b"live");
    let mut chunk = Vec::new();
    for _ in 0..200 {
        chunk.extend_from_slice(&live.to_frame_bytes().unwrap());
    }
    let flood = tokio::spawn(async move {
        loop {
            if publisher.stream.write_all(&chunk).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    });

    for sid in 1..=20 {
        let mut subscriber = Raw::handshake(&hub.tcp()).await;
        subscriber
            .send_envelope(&Subscribe::new(sid, Pattern::parse("r/**").unwrap()))
            .await;
        let first = next_message(&mut subscriber).await;
        assert_eq!(
            (first.channel.as_str(), first.flags),
            ("r/old", MessageFlags::RETAINED),
            "subscriber {sid} got a live message before the retained one"
        );
    }
    flood.abort();
}

#[actix_rt::test]
async fn a_retained_message_keeps_its_headers() {
    let hub = hub();
    let mut publisher = Raw::handshake(&hub.tcp()).await;
    let mut headers = Headers::new();
    headers.insert("content-type", "application/json");
    let retained = publish("rooms/a", MessageFlags::RETAIN, headers.clone(), b"{}");
    publisher.send_envelope(&retained).await;
    // Retaining is asynchronous: a probe subscription tells when it is kept.
    let message = recv_or_fail("the retained message", async {
        loop {
            let mut subscriber = Raw::handshake(&hub.tcp()).await;
            subscriber
                .send_envelope(&Subscribe::new(1, Pattern::parse("rooms/*").unwrap()))
                .await;
            subscriber
                .send_envelope(&hubwire::protocol::Ping { nonce: 1 })
                .await;
            loop {
                let frame = subscriber.recv().await.expect("an answer");
                match frame.kind {
                    kind::MESSAGE => return Message::from_frame(&frame).unwrap(),
                    kind::PONG => break,
                    _ => {}
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert_eq!(message.flags, MessageFlags::RETAINED);
    assert_eq!(message.headers, headers);
    assert_eq!(&message.body[..], b"{}");
}

/// Replays count against the connection's outbound bound like anything else it is owed: a
/// peer that subscribes to many retained messages and never reads is cut off as a slow
/// consumer instead of growing the hub's memory.
#[actix_rt::test]
async fn replays_are_held_to_the_outbound_bound() {
    const BOUND: usize = 64 * 1024;
    let mut config = loopback_config();
    config.max_outbound_bytes = BOUND;
    let limits = hubwire::hub::HubLimits::from(&config);
    let hub = TestServer::start(config, move |b| b.hub(limits)).expect("the hub starts");
    let mut publisher = Raw::handshake(&hub.tcp()).await;
    for i in 0..50 {
        let mut retained = publish("r/x", MessageFlags::RETAIN, Headers::new(), &[0; 0]);
        retained.channel = Channel::parse(&format!("r/{i}")).unwrap();
        retained.body = Bytes::from(vec![1u8; 1024]);
        publisher.send_envelope(&retained).await;
    }
    recv_or_fail("50 retained messages", async {
        while hub.registry.snapshot().gauge("hub.retained", &[]) != Some(50) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    // 200 subscriptions, each replaying 50 KiB, in one write; never read.
    let mut greedy = Raw::handshake(&hub.tcp()).await;
    let mut frames = Vec::new();
    for sid in 1..=200 {
        let subscribe = Subscribe::new(sid, Pattern::parse("r/**").unwrap());
        frames.extend_from_slice(&subscribe.to_frame_bytes().unwrap());
    }
    greedy.send(&frames).await;
    recv_or_fail("the greedy peer to be cut off", async {
        let stats = || hub.registry.snapshot();
        while stats().counter("hub.slow_consumers", &[]) != Some(1)
            || stats().gauge("connections.open", &[("transport", "tcp")]) != Some(1)
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}
