//! Guards the hub against floods of subscriptions: 25,000 SUBSCRIBEs in one write are applied
//! in linear time while other peers' handshakes are answered, also on a hub holding 10,000
//! retained messages (each subscription looks up what it matches, it does not test every
//! retained channel); each connection's subscriptions
//! are bounded with a typed refusal; and a REFUSED always comes before the PONG of a PING sent
//! after its SUBSCRIBE.

mod support;

use std::time::{Duration, Instant};

use hubwire::hub::HubLimits;
use hubwire::protocol::{
    kind, Envelope, ErrorCode, Headers, MessageFlags, Ping, Publish, Refused, Subscribe,
};
use hubwire::pubsub::{Channel, Pattern};
use support::*;

fn hub_with(max_subscriptions: usize) -> TestServer {
    let mut config = loopback_config();
    config.hub_max_subscriptions_per_connection = max_subscriptions;
    let limits = HubLimits::from(&config);
    TestServer::start(config, move |b| b.hub(limits)).expect("the hub starts")
}

fn subscribes(from: u64, count: u64, pattern: impl Fn(u64) -> String) -> Vec<u8> {
    let mut bytes = Vec::new();
    for sid in from..from + count {
        let subscribe = Subscribe::new(sid, Pattern::parse(&pattern(sid)).unwrap());
        bytes.extend_from_slice(&subscribe.to_frame_bytes().unwrap());
    }
    bytes
}

/// Reads until the PONG of nonce `nonce`, returning the REFUSED frames read before it.
async fn refusals_until_pong(raw: &mut Raw, nonce: u64) -> Vec<Refused> {
    let mut refused = Vec::new();
    loop {
        let frame = raw.recv().await.expect("the hub answers");
        match frame.kind {
            kind::REFUSED => refused.push(Refused::from_frame(&frame).unwrap()),
            kind::PONG => {
                let pong = hubwire::protocol::Pong::from_frame(&frame).unwrap();
                if pong.nonce == nonce {
                    return refused;
                }
            }
            _ => {}
        }
    }
}

#[actix_rt::test]
async fn twenty_five_thousand_subscribes_in_one_write_apply_while_others_connect() {
    let hub = hub_with(100_000);
    let mut flooder = Raw::handshake(&hub.tcp()).await;
    let mut flood = subscribes(1, 25_000, |sid| format!("load/{sid}/x"));
    flood.extend_from_slice(&Ping { nonce: 9 }.to_frame_bytes().unwrap());
    let started = Instant::now();
    flooder.send(&flood).await;

    // Handshakes of new peers are answered meanwhile.
    let mut slowest = Duration::ZERO;
    for _ in 0..10 {
        let asked = Instant::now();
        let _other = Raw::handshake(&hub.tcp()).await;
        slowest = slowest.max(asked.elapsed());
    }
    assert!(
        slowest < Duration::from_secs(1),
        "a handshake took {slowest:?} during the flood"
    );

    assert!(refusals_until_pong(&mut flooder, 9).await.is_empty());
    let applied = started.elapsed();
    // Quadratic application took about 11 s for 16,000; linear takes a fraction of a second
    // (in a release build; this bound leaves room for a debug build on a busy machine).
    assert!(applied < Duration::from_secs(4), "applied in {applied:?}");
    let stats = hub.registry.snapshot();
    assert_eq!(stats.gauge("hub.subscriptions", &[]), Some(25_000));
}

#[actix_rt::test]
async fn a_flood_of_subscribes_on_a_hub_holding_many_retained_messages_applies_in_linear_time() {
    const RETAINED: u64 = 10_000;
    let hub = hub_with(100_000);
    let mut publisher = Raw::handshake(&hub.tcp()).await;
    let mut retains = Vec::new();
    for i in 0..RETAINED {
        let publish = Publish {
            channel: Channel::parse(&format!("room/{i}/temp")).unwrap(),
            flags: MessageFlags::RETAIN,
            reply_to: None,
            headers: Headers::new(),
            body: bytes::Bytes::from_static(b"\x15"),
        };
        retains.extend_from_slice(&publish.to_frame_bytes().unwrap());
    }
    retains.extend_from_slice(&Ping { nonce: 1 }.to_frame_bytes().unwrap());
    publisher.send(&retains).await;
    refusals_until_pong(&mut publisher, 1).await;
    // Retaining is the table's work, after the publish is routed: wait until it is all kept.
    recv_or_fail("10,000 retained messages", async {
        while hub.registry.snapshot().gauge("hub.retained", &[]) != Some(RETAINED as i64) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;

    let mut flooder = Raw::handshake(&hub.tcp()).await;
    let mut flood = subscribes(1, 25_000, |sid| format!("load/{sid}/x"));
    flood.extend_from_slice(&Ping { nonce: 9 }.to_frame_bytes().unwrap());
    let started = Instant::now();
    flooder.send(&flood).await;
    let asked = Instant::now();
    let _other = Raw::handshake(&hub.tcp()).await;
    let handshake = asked.elapsed();
    assert!(refusals_until_pong(&mut flooder, 9).await.is_empty());
    let applied = started.elapsed();
    // Testing every retained channel for every subscription (250 million tests) took tens of
    // seconds in a debug build; looking up what each pattern reaches, a fraction of one.
    assert!(applied < Duration::from_secs(4), "applied in {applied:?}");
    assert!(
        handshake < Duration::from_secs(1),
        "a handshake took {handshake:?}"
    );
}

#[actix_rt::test]
async fn subscriptions_past_the_bound_are_refused_busy_before_the_pong() {
    let hub = hub_with(100);
    let mut raw = Raw::handshake(&hub.tcp()).await;
    let mut frames = subscribes(1, 150, |sid| format!("a/{sid}"));
    frames.extend_from_slice(&Ping { nonce: 1 }.to_frame_bytes().unwrap());
    raw.send(&frames).await;
    let refused = refusals_until_pong(&mut raw, 1).await;
    assert_eq!(
        refused.len(),
        50,
        "every one past the bound, before the PONG"
    );
    assert!(refused.iter().all(|r| r.code == ErrorCode::Busy));
    let sids: Vec<u64> = refused.iter().map(|r| r.sid.unwrap()).collect();
    assert_eq!(sids, (101..=150).collect::<Vec<_>>());
    // The connection stays open and keeps its 100.
    let stats = hub.registry.snapshot();
    assert_eq!(stats.gauge("hub.subscriptions", &[]), Some(100));
    raw.send_envelope(&Ping { nonce: 2 }).await;
    assert!(refusals_until_pong(&mut raw, 2).await.is_empty());
}

#[actix_rt::test]
async fn an_invalid_subscribe_is_refused_before_the_pong_of_a_ping_sent_after_it() {
    let hub = hub_with(100);
    let mut raw = Raw::handshake(&hub.tcp()).await;
    // A control character is not allowed in a pattern: written by hand, in place of a valid one
    // of the same length.
    let mut frames = Subscribe::new(5, Pattern::parse("a/b").unwrap())
        .to_frame_bytes()
        .unwrap()
        .to_vec();
    let at = frames.windows(3).position(|w| w == b"a/b").unwrap();
    frames[at..at + 3].copy_from_slice(b"a\0b");
    frames.extend_from_slice(&Ping { nonce: 3 }.to_frame_bytes().unwrap());
    raw.send(&frames).await;
    let refused = refusals_until_pong(&mut raw, 3).await;
    assert_eq!(refused.len(), 1, "the REFUSED came before the PONG");
    assert_eq!(refused[0].sid, Some(5));
}
