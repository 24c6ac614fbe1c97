//! Guards the hub over the wire (raw frames of protocol.md section 10): a publish reaches every
//! matching subscription once per connection, with all its sids; an invalid pattern is refused
//! and the connection stays open; no-echo; retained messages replay to new subscriptions; a
//! call nobody serves is answered no-responders at once; an RPC acknowledgement overtakes bulk
//! data; a subscriber that does not read is disconnected as a slow consumer without slowing the
//! others, by bytes or by messages.

mod support;

use bytes::Bytes;
use hubwire::hub::HubLimits;
use hubwire::protocol::{
    kind, Envelope, ErrorCode, Headers, Message, MessageFlags, Ping, Publish, Refused, ReplyError,
    Subscribe,
};
use hubwire::pubsub::{Channel, Pattern};
use support::*;

fn hub(limits: HubLimits) -> TestServer {
    TestServer::start(loopback_config(), move |b| b.hub(limits)).expect("the hub starts")
}

fn channel(s: &str) -> Channel {
    Channel::parse(s).unwrap()
}

fn publish(on: &str, body: &'static [u8], flags: MessageFlags) -> Publish {
    Publish {
        channel: channel(on),
        flags,
        reply_to: None,
        headers: Headers::new(),
        body: Bytes::from_static(body),
    }
}

/// Subscribes and waits until the hub applied it (a PONG follows the change).
async fn subscribe(raw: &mut Raw, sid: u64, pattern: &str) {
    raw.send_envelope(&Subscribe::new(sid, Pattern::parse(pattern).unwrap()))
        .await;
    barrier(raw).await;
}

/// Waits for the PONG of a PING: the hub has applied the subscription changes sent before it.
/// (Not a sign that nothing else is queued: a PONG goes ahead of queued messages.)
async fn barrier(raw: &mut Raw) {
    raw.send_envelope(&Ping { nonce: 77 }).await;
    loop {
        let frame = raw.recv().await.expect("a PONG");
        if frame.kind == kind::PONG {
            return;
        }
    }
}

async fn next_message(raw: &mut Raw) -> Message {
    let frame = raw.recv().await.expect("a MESSAGE");
    assert_eq!(frame.kind, kind::MESSAGE, "{frame:?}");
    Message::from_frame(&frame).unwrap()
}

#[tokio::test]
async fn a_publish_reaches_each_matching_connection_once_with_all_its_sids() {
    let server = hub(HubLimits::default());
    let mut a = Raw::handshake(&server.tcp()).await;
    let mut b = Raw::handshake(&server.tcp()).await;
    let mut publisher = Raw::handshake(&server.tcp()).await;
    subscribe(&mut a, 1, "rooms/*/temp").await;
    subscribe(&mut a, 2, "rooms/**").await;
    subscribe(&mut b, 9, "/**/temp").await;
    subscribe(&mut b, 10, "halls/*").await;

    publisher
        .send_envelope(&publish("rooms/kitchen/temp", b"21", MessageFlags::NONE))
        .await;
    let got = next_message(&mut a).await;
    assert_eq!(got.sids, [1, 2]);
    assert_eq!(got.channel.as_str(), "rooms/kitchen/temp");
    assert_eq!(&got.body[..], b"21");
    assert_eq!(next_message(&mut b).await.sids, [9]);
    // Once each: the next message each sees is the next publish.
    publisher
        .send_envelope(&publish("rooms/kitchen/temp", b"22", MessageFlags::NONE))
        .await;
    assert_eq!(&next_message(&mut a).await.body[..], b"22");
    assert_eq!(&next_message(&mut b).await.body[..], b"22");
}

#[tokio::test]
async fn an_invalid_pattern_is_refused_and_the_connection_stays_open() {
    let server = hub(HubLimits::default());
    let mut raw = Raw::handshake(&server.tcp()).await;
    // A control character is never a valid pattern.
    let mut bad = bytes::BytesMut::new();
    let subscribe = Subscribe::new(5, Pattern::parse("ok").unwrap());
    subscribe.write_frame(&mut bad).unwrap();
    let at = bad.windows(2).position(|w| w == b"ok").unwrap();
    bad[at] = 0x07;
    raw.send(&bad).await;
    let frame = raw.recv().await.expect("REFUSED");
    assert_eq!(frame.kind, kind::REFUSED);
    let refused = Refused::from_frame(&frame).unwrap();
    assert_eq!(refused.sid, Some(5));
    assert_eq!(refused.code, ErrorCode::InvalidBody);
    // Still serving.
    subscribe_and_receive(&mut raw, &server).await;
}

async fn subscribe_and_receive(raw: &mut Raw, server: &TestServer) {
    subscribe(raw, 6, "still/here").await;
    let mut publisher = Raw::handshake(&server.tcp()).await;
    publisher
        .send_envelope(&publish("still/here", b"yes", MessageFlags::NONE))
        .await;
    assert_eq!(next_message(raw).await.sids, [6]);
}

#[tokio::test]
async fn no_echo_skips_the_publishers_own_subscriptions() {
    let server = hub(HubLimits::default());
    let mut both = Raw::handshake(&server.tcp()).await;
    let mut other = Raw::handshake(&server.tcp()).await;
    subscribe(&mut both, 1, "news").await;
    subscribe(&mut other, 1, "news").await;
    both.send_envelope(&publish("news", b"mine", MessageFlags::NO_ECHO))
        .await;
    assert_eq!(&next_message(&mut other).await.body[..], b"mine");
    // Published after "mine" was routed: had "mine" come back, it would come first.
    other
        .send_envelope(&publish("news", b"from other", MessageFlags::NONE))
        .await;
    assert_eq!(&next_message(&mut both).await.body[..], b"from other");
    both.send_envelope(&publish("news", b"echo", MessageFlags::NONE))
        .await;
    assert_eq!(&next_message(&mut both).await.body[..], b"echo");
}

#[tokio::test]
async fn a_retained_message_replays_to_a_new_subscription() {
    let server = hub(HubLimits::default());
    let mut publisher = Raw::handshake(&server.tcp()).await;
    publisher
        .send_envelope(&publish("rooms/a/temp", b"21", MessageFlags::RETAIN))
        .await;
    barrier(&mut publisher).await;
    let mut late = Raw::handshake(&server.tcp()).await;
    late.send_envelope(&Subscribe::new(3, Pattern::parse("rooms/*/temp").unwrap()))
        .await;
    let replayed = next_message(&mut late).await;
    assert_eq!(replayed.sids, [3]);
    assert!(replayed.flags.contains(MessageFlags::RETAINED));
    assert_eq!(&replayed.body[..], b"21");
}

#[tokio::test]
async fn a_call_nobody_serves_is_answered_no_responders_at_once() {
    let server = hub(HubLimits::default());
    let mut caller = Raw::handshake(&server.tcp()).await;
    subscribe(&mut caller, 1, "_inbox/abc/*").await;
    let mut call = publish("svc/none", b"?", MessageFlags::REQUEST);
    call.reply_to = Some(channel("_inbox/abc/1"));
    caller.send_envelope(&call).await;
    let answer = next_message(&mut caller).await;
    assert_eq!(answer.channel.as_str(), "_inbox/abc/1");
    assert!(answer.flags.contains(MessageFlags::ERROR));
    let error = ReplyError::from_body(&answer.body).unwrap();
    assert!(error.message.contains("no responders"), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_is_disconnected_and_does_not_slow_the_others() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    const MESSAGES: usize = 3000;
    // Small kernel buffers on the hub's side, so a reader that stops shows in the hub's own
    // outbound buffer soon.
    let mut config = loopback_config();
    config.send_buffer_bytes = 16 * 1024;
    let limits = HubLimits {
        max_outbound_bytes: 64 * 1024,
        ..HubLimits::default()
    };
    let server = TestServer::start(config, move |b| b.hub(limits)).expect("the hub starts");
    let mut slow = Raw::handshake(&server.tcp()).await;
    let mut fast = Raw::handshake(&server.tcp()).await;
    subscribe(&mut slow, 1, "flood").await;
    subscribe(&mut fast, 1, "flood").await;
    let registry = server.registry.clone();
    // The one that never read is cut off, told why and closed (after whatever it had buffered).
    // The hub gives a cut-off peer 1 s to take its ERROR before it shuts the socket, so it
    // starts reading as soon as the hub counts it slow, however long the flood takes.
    let told = tokio::spawn(async move {
        while registry
            .snapshot()
            .counter("hub.slow_consumers", &[])
            .unwrap_or(0)
            == 0
        {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let mut told = false;
        while let Some(frame) = slow.recv().await {
            if frame.kind == kind::ERROR {
                let error = hubwire::protocol::ErrorFrame::from_frame(&frame).unwrap();
                assert_eq!(error.code, ErrorCode::Busy);
                assert!(error.message.contains("slow consumer"));
                told = true;
            }
        }
        told
    });
    let received = Arc::new(AtomicUsize::new(0));
    let counted = received.clone();
    let reader = tokio::spawn(async move {
        while counted.load(Ordering::SeqCst) < MESSAGES {
            let frame = fast
                .recv()
                .await
                .expect("the fast subscriber stays connected");
            if frame.kind == kind::MESSAGE {
                counted.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    let mut publisher = Raw::handshake(&server.tcp()).await;
    static KB: [u8; 1024] = [7; 1024];
    for sent in 1..=MESSAGES {
        publisher
            .send_envelope(&publish("flood", &KB, MessageFlags::NONE))
            .await;
        // A publisher no faster than the fast reader: it stays within 16 messages of it. The
        // bound counts a batch the writer has taken until all of it is written, so a lag of
        // N messages can count up to twice that: 16 KiB lag stays well under the 64 KiB bound.
        recv_or_fail("the fast reader keeps up", async {
            while received.load(Ordering::SeqCst) + 16 < sent {
                tokio::task::yield_now().await;
            }
        })
        .await;
    }
    reader.await.unwrap();
    assert_eq!(received.load(Ordering::SeqCst), MESSAGES);
    let told = recv_or_fail("the slow consumer's end", told).await.unwrap();
    assert!(told, "the slow consumer was told why");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_over_the_message_bound_is_a_slow_consumer_however_few_its_bytes() {
    // Bytes alone would never trip (64 MiB): only the message count can.
    let mut config = loopback_config();
    config.send_buffer_bytes = 16 * 1024;
    let limits = HubLimits {
        max_outbound_messages: 100,
        ..HubLimits::default()
    };
    let server = TestServer::start(config, move |b| b.hub(limits)).expect("the hub starts");
    let mut slow = Raw::handshake(&server.tcp()).await;
    subscribe(&mut slow, 1, "tick").await;
    let mut publisher = Raw::handshake(&server.tcp()).await;
    let slow_consumers = || {
        server
            .registry
            .snapshot()
            .counter("hub.slow_consumers", &[])
            .unwrap_or(0)
    };
    // Tiny messages until the kernel's buffers are full and the hub's own buffer holds 100.
    recv_or_fail("the hub counts a slow consumer", async {
        for _ in 0..2000 {
            for _ in 0..500 {
                publisher
                    .send_envelope(&publish("tick", b"1", MessageFlags::NONE))
                    .await;
            }
            barrier(&mut publisher).await;
            if slow_consumers() > 0 {
                return;
            }
        }
        panic!("a million messages went by without a slow consumer");
    })
    .await;
    let mut told = false;
    while let Some(frame) = slow.recv().await {
        if frame.kind == kind::ERROR {
            let error = hubwire::protocol::ErrorFrame::from_frame(&frame).unwrap();
            assert_eq!(error.code, ErrorCode::Busy);
            told = error.message.contains("slow consumer");
        }
    }
    assert!(told, "the slow consumer was told why, then closed");
    assert_eq!(
        slow_consumers(),
        1,
        "counted once, however many messages it missed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rpc_acknowledgement_overtakes_bulk_data_queued_for_the_caller() {
    const FLOOD: usize = 2000;
    let mut config = loopback_config();
    config.send_buffer_bytes = 16 * 1024;
    let server = TestServer::start(config, |b| b.hub(HubLimits::default())).expect("a hub");
    let mut caller = Raw::handshake(&server.tcp()).await;
    subscribe(&mut caller, 1, "flood").await;
    subscribe(&mut caller, 2, "_inbox/caller/*").await;
    let mut publisher = Raw::handshake(&server.tcp()).await;
    static KB: [u8; 1024] = [7; 1024];
    for _ in 0..FLOOD {
        publisher
            .send_envelope(&publish("flood", &KB, MessageFlags::NONE))
            .await;
    }
    // Routed after the whole flood (one connection's frames are handled in order).
    publisher
        .send_envelope(&publish("_inbox/caller/1", b"", MessageFlags::ACK))
        .await;
    barrier(&mut publisher).await;
    let mut floods_before_ack = 0;
    loop {
        let message = next_message(&mut caller).await;
        if message.flags.contains(MessageFlags::ACK) {
            break;
        }
        floods_before_ack += 1;
    }
    // Only what the kernel's buffers already held (a few hundred KiB) came first.
    assert!(
        floods_before_ack < FLOOD / 2,
        "the ACK waited behind {floods_before_ack} of {FLOOD} bulk messages"
    );
}

#[tokio::test]
async fn each_message_goes_to_one_member_of_a_queue_group() {
    let server = hub(HubLimits::default());
    let mut members = Vec::new();
    for _ in 0..2 {
        let mut member = Raw::handshake(&server.tcp()).await;
        member
            .send_envelope(&Subscribe {
                sid: 1,
                pattern: Pattern::parse("jobs/*").unwrap(),
                group: Some("workers".into()),
                flags: hubwire::protocol::SubscriptionFlags::NONE,
            })
            .await;
        // Outside the group, to mark the end of the jobs.
        subscribe(&mut member, 2, "end").await;
        members.push(member);
    }
    let mut watcher = Raw::handshake(&server.tcp()).await;
    subscribe(&mut watcher, 4, "jobs/**").await;
    let mut publisher = Raw::handshake(&server.tcp()).await;
    for _ in 0..20 {
        publisher
            .send_envelope(&publish("jobs/x", b"job", MessageFlags::NONE))
            .await;
    }
    publisher
        .send_envelope(&publish("end", b"", MessageFlags::NONE))
        .await;
    for _ in 0..20 {
        assert_eq!(
            next_message(&mut watcher).await.sids,
            [4],
            "outside the group: all"
        );
    }
    // Every job went to exactly one member: each member's jobs come before its "end".
    let mut total = 0;
    for member in &mut members {
        loop {
            let message = next_message(member).await;
            if message.sids == [2] {
                break;
            }
            total += 1;
        }
    }
    assert_eq!(total, 20);
}

#[tokio::test]
async fn subscriptions_go_with_their_connections() {
    let server = hub(HubLimits::default());
    let figure = |name: &str| server.registry.snapshot().gauge(name, &[]).unwrap_or(-1);
    // 30 rounds of 10 connections, 3 subscriptions each: 900 subscriptions come and go.
    for round in 0..30 {
        let mut spokes = Vec::new();
        for n in 0..10 {
            let mut spoke = Raw::handshake(&server.tcp()).await;
            for sid in 0..3 {
                let pattern = format!("r{}/*/s{sid}/**", (round + n) % 17);
                spoke
                    .send_envelope(&Subscribe::new(sid, Pattern::parse(&pattern).unwrap()))
                    .await;
            }
            barrier(&mut spoke).await;
            spokes.push(spoke);
        }
        assert_eq!(figure("hub.subscriptions"), 30);
        assert_eq!(figure("hub.connections"), 10);
        drop(spokes);
        recv_or_fail("the subscriptions to go", async {
            while figure("hub.subscriptions") != 0 || figure("hub.connections") != 0 {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        })
        .await;
    }
}
