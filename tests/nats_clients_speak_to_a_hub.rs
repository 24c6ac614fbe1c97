//! Guards the hub's `nats://` listener with the official Rust client, `async-nats`, unchanged:
//! pub/sub with wildcards, queue groups, request/reply and no-responders, headers, UNSUB with
//! a maximum, drain, echo off, max_payload, and a reconnect after the hub restarts, with the
//! client's subscriptions replayed.

/// Hubs with a `nats://` listener and NATS clients of them (a module of its own, not in
/// `support`: only the tests that speak NATS build it).
#[path = "support/nats.rs"]
mod nats_support;
mod support;

use std::time::{Duration, Instant};

use async_nats::{HeaderMap, Message, Subscriber};
use bytes::Bytes;
use futures::StreamExt;
use nats_support::*;
use support::hub::free_port;
use support::*;

async fn next(sub: &mut Subscriber, what: &str) -> Message {
    recv_or_fail(what, sub.next())
        .await
        .unwrap_or_else(|| panic!("the subscription ended before {what}"))
}

/// Asserts nothing arrives on `sub` for a while (after what should have arrived has).
async fn nothing_more(sub: &mut Subscriber, what: &str) {
    if let Ok(Some(msg)) = tokio::time::timeout(Duration::from_millis(300), sub.next()).await {
        panic!("{what}: got {:?} on {}", msg.payload, msg.subject);
    }
}

#[actix::test]
async fn wildcards_match_as_on_nats() {
    let hub = nats_hub();
    let client = nats_client(&hub.nats_url()).await;
    let mut star = client.subscribe("a.*").await.unwrap();
    let mut tail = client.subscribe("a.>").await.unwrap();
    let mut exact = client.subscribe("a.b.c").await.unwrap();
    client.publish("a.b", Bytes::from("one")).await.unwrap();
    client.publish("a.b.c", Bytes::from("two")).await.unwrap();
    client.publish("a", Bytes::from("none")).await.unwrap();
    subscribed(&client).await;

    let m = next(&mut star, "a.b on a.*").await;
    assert_eq!((m.subject.as_str(), &m.payload[..]), ("a.b", &b"one"[..]));
    let m = next(&mut tail, "a.b on a.>").await;
    assert_eq!(m.subject.as_str(), "a.b");
    let m = next(&mut tail, "a.b.c on a.>").await;
    assert_eq!((m.subject.as_str(), &m.payload[..]), ("a.b.c", &b"two"[..]));
    let m = next(&mut exact, "a.b.c on a.b.c").await;
    assert_eq!(&m.payload[..], b"two");
    nothing_more(&mut star, "a.* takes one token").await;
    nothing_more(&mut tail, "a.> takes one or more tokens, not zero").await;
}

#[actix::test]
async fn a_queue_group_shares_the_messages_and_others_get_them_all() {
    let hub = nats_hub();
    let url = hub.nats_url();
    let (one, two, publisher) = (
        nats_client(&url).await,
        nats_client(&url).await,
        nats_client(&url).await,
    );
    let mut worker1 = one.queue_subscribe("jobs", "workers".into()).await.unwrap();
    let mut worker2 = two.queue_subscribe("jobs", "workers".into()).await.unwrap();
    let mut audit = publisher.subscribe("jobs").await.unwrap();
    subscribed(&one).await;
    subscribed(&two).await;
    for n in 0..200 {
        publisher
            .publish("jobs", Bytes::from(n.to_string()))
            .await
            .unwrap();
    }
    subscribed(&publisher).await;
    for _ in 0..200 {
        next(&mut audit, "every job on the plain subscription").await;
    }
    let (mut got1, mut got2) = (0, 0);
    while got1 + got2 < 200 {
        tokio::select! {
            Some(_) = worker1.next() => got1 += 1,
            Some(_) = worker2.next() => got2 += 1,
            () = tokio::time::sleep(PATIENCE) => panic!("jobs lost: {got1} + {got2} of 200"),
        }
    }
    assert!(
        got1 > 0 && got2 > 0,
        "both workers get some: {got1}, {got2}"
    );
    nothing_more(&mut worker1, "each job to one worker").await;
    nothing_more(&mut worker2, "each job to one worker").await;
}

#[actix::test]
async fn requests_are_answered_and_a_request_to_nobody_is_told_so_at_once() {
    let hub = nats_hub();
    let url = hub.nats_url();
    let responder = nats_client(&url).await;
    let mut calls = responder.subscribe("svc.upper").await.unwrap();
    subscribed(&responder).await;
    tokio::spawn(async move {
        while let Some(call) = calls.next().await {
            let upper = Bytes::from(call.payload.to_ascii_uppercase());
            responder.publish(call.reply.unwrap(), upper).await.unwrap();
        }
    });
    let requester = nats_client(&url).await;
    let reply = requester
        .request("svc.upper", Bytes::from("hi"))
        .await
        .unwrap();
    assert_eq!(&reply.payload[..], b"HI");

    let asked = Instant::now();
    let err = requester
        .request("svc.nobody", Bytes::from("hi"))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        async_nats::RequestErrorKind::NoResponders,
        "{err}"
    );
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "no waiting for the timeout"
    );
}

#[actix::test]
async fn headers_reach_subscribers() {
    let hub = nats_hub();
    let client = nats_client(&hub.nats_url()).await;
    let mut sub = client.subscribe("h.x").await.unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("Trace-Id", "abc-123");
    headers.insert("Kind", "test");
    client
        .publish_with_headers("h.x", headers, Bytes::from("body"))
        .await
        .unwrap();
    let m = next(&mut sub, "a message with headers").await;
    let got = m.headers.expect("headers");
    assert_eq!(got.get("Trace-Id").map(|v| v.as_str()), Some("abc-123"));
    assert_eq!(got.get("Kind").map(|v| v.as_str()), Some("test"));
    assert_eq!(&m.payload[..], b"body");
}

#[actix::test]
async fn unsubscribe_after_a_maximum_and_drain_end_the_subscription() {
    let hub = nats_hub();
    let client = nats_client(&hub.nats_url()).await;
    let mut limited = client.subscribe("u.x").await.unwrap();
    limited.unsubscribe_after(3).await.unwrap();
    let mut drained = client.subscribe("u.x").await.unwrap();
    for n in 0..5 {
        client
            .publish("u.x", Bytes::from(n.to_string()))
            .await
            .unwrap();
    }
    subscribed(&client).await;
    let mut got = Vec::new();
    while let Some(m) = recv_or_fail("the limited subscription", limited.next()).await {
        got.push(m.payload);
    }
    assert_eq!(got, ["0", "1", "2"], "three, then the end");

    for _ in 0..5 {
        next(&mut drained, "the five messages").await;
    }
    drained.drain().await.unwrap();
    assert!(
        recv_or_fail("the drained subscription's end", drained.next())
            .await
            .is_none(),
        "drained: the subscription ends"
    );
    // The server holds no subscription for either any more: a publish reaches nobody.
    let err = client.request("u.x", Bytes::new()).await.unwrap_err();
    assert_eq!(err.kind(), async_nats::RequestErrorKind::NoResponders);
}

#[actix::test]
async fn echo_off_keeps_a_clients_own_messages_from_it() {
    let hub = nats_hub();
    let url = hub.nats_url();
    let quiet = nats_client_with(&url, async_nats::ConnectOptions::new().no_echo()).await;
    let other = nats_client(&url).await;
    let mut sub = quiet.subscribe("e.x").await.unwrap();
    subscribed(&quiet).await;
    quiet.publish("e.x", Bytes::from("mine")).await.unwrap();
    subscribed(&quiet).await;
    other.publish("e.x", Bytes::from("theirs")).await.unwrap();
    let m = next(&mut sub, "the other client's message").await;
    assert_eq!(&m.payload[..], b"theirs", "its own came first: echo is on");
    nothing_more(&mut sub, "its own message").await;
}

#[actix::test]
async fn max_payload_is_announced_and_enforced() {
    let mut config = nats_hub_config(0, 0);
    config.nats_max_payload = 1024;
    let hub = start_nats_hub(config);
    let client = nats_client(&hub.nats_url()).await;
    assert_eq!(client.server_info().max_payload, 1024);
    assert!(client.server_info().headers);
    let mut sub = client.subscribe("p.x").await.unwrap();
    client
        .publish("p.x", Bytes::from(vec![1u8; 1024]))
        .await
        .unwrap();
    assert_eq!(
        next(&mut sub, "a message of max_payload")
            .await
            .payload
            .len(),
        1024
    );
    let err = client
        .publish("p.x", Bytes::from(vec![1u8; 1025]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), async_nats::PublishErrorKind::MaxPayloadExceeded);
}

#[actix::test]
async fn a_client_reconnects_after_a_hub_restart_and_replays_its_subscriptions() {
    let (tcp, nats) = (free_port(), free_port());
    let hub = start_nats_hub(nats_hub_config(tcp, nats));
    let url = hub.nats_url();
    let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let options = async_nats::ConnectOptions::new()
        .reconnect_delay_callback(|_| Duration::from_millis(50))
        .event_callback(move |event| {
            let events_tx = events_tx.clone();
            async move {
                let _ = events_tx.send(event.to_string());
            }
        });
    let subscriber = nats_client_with(&url, options).await;
    let mut sub = subscriber.subscribe("r.x").await.unwrap();
    subscribed(&subscriber).await;

    drop(hub);
    recv_or_fail("the client to see the hub go", async {
        while events.recv().await.unwrap() != "disconnected" {}
    })
    .await;
    let hub = start_nats_hub(nats_hub_config(tcp, nats));
    recv_or_fail("the client to reconnect", async {
        while events.recv().await.unwrap() != "connected" {}
    })
    .await;
    let publisher = nats_client(&hub.nats_url()).await;
    // The client replays its SUB on reconnecting; publish until it is in force.
    recv_or_fail("a message on the replayed subscription", async {
        loop {
            publisher
                .publish("r.x", Bytes::from("again"))
                .await
                .unwrap();
            if let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(100), sub.next()).await
            {
                assert_eq!(&m.payload[..], b"again");
                return;
            }
        }
    })
    .await;
}
