//! Guards the order of one connection's subscription changes at the hub's table. A blocker
//! keeps the table busy with whole-set replacements of thousands of subscriptions, so the
//! table's mailbox fills while churners subscribe and unsubscribe, each change in its own
//! write; still every UNSUBSCRIBE takes effect after its SUBSCRIBE. (Before, a batch that met
//! a full mailbox waited while a later one went ahead: its UNSUBSCRIBE found nothing, and the
//! subscription stayed for good. This test caught that in about one run of five; the
//! session's property test, one batch at the table at a time, catches it every time.)

mod support;

use bytes::Bytes;
use hubwire::hub::HubLimits;
use hubwire::protocol::{
    kind, Headers, MessageFlags, Ping, Publish, Subscribe, Subscriptions, Unsubscribe,
};
use hubwire::pubsub::{Channel, Pattern};
use support::bridge::gauge;
use support::*;

const CHURNERS: usize = 8;
const PAIRS: u64 = 1500;
/// Subscriptions in each of the blocker's whole sets.
const BLOCKER_SET: u64 = 30_000;

/// Waits for the PONG of a PING sent now.
async fn barrier(raw: &mut Raw, nonce: u64) {
    raw.send_envelope(&Ping { nonce }).await;
    while raw.recv().await.expect("a PONG").kind != kind::PONG {}
}

/// Subscribes and unsubscribes `PAIRS` patterns, each change in its own write (so a read, and
/// a batch, may end between the two), then waits for the PONG that says the table has
/// applied them all.
async fn churn(raw: &mut Raw, who: usize) {
    for sid in 1..=PAIRS {
        let pattern = Pattern::parse(&format!("churn/{who}/{sid}")).unwrap();
        raw.send_envelope(&Subscribe::new(sid, pattern)).await;
        raw.send_envelope(&Unsubscribe { sid }).await;
    }
    barrier(raw, 1).await;
}

/// Replaces its whole set of subscriptions, again and again, until `done`: each replacement
/// holds the table for a while.
async fn block(raw: &mut Raw, done: &std::sync::atomic::AtomicBool) {
    let mut round = 0;
    while !done.load(std::sync::atomic::Ordering::Relaxed) {
        round += 1;
        let subscriptions = (0..BLOCKER_SET)
            .map(|i| Subscribe::new(i, Pattern::parse(&format!("blocker/{round}/{i}")).unwrap()))
            .collect();
        raw.send_envelope(&Subscriptions { subscriptions }).await;
        barrier(raw, round).await;
    }
}

#[tokio::test]
async fn a_full_table_mailbox_never_reorders_a_connections_changes() {
    let config = loopback_config();
    let limits = HubLimits::from(&config);
    let hub = TestServer::start(config, move |b| b.hub(limits)).expect("the hub starts");
    let mut blocker = Raw::handshake(&hub.tcp()).await;
    let mut churners = Vec::new();
    for _ in 0..CHURNERS {
        churners.push(Raw::handshake(&hub.tcp()).await);
    }
    let done = std::sync::atomic::AtomicBool::new(false);
    let churning = async {
        futures::future::join_all(
            churners
                .iter_mut()
                .enumerate()
                .map(|(who, raw)| churn(raw, who)),
        )
        .await;
        done.store(true, std::sync::atomic::Ordering::Relaxed);
    };
    recv_or_fail(
        "every churner's PONG",
        futures::future::join(churning, block(&mut blocker, &done)),
    )
    .await;
    assert_eq!(
        gauge(&hub, "hub.subscriptions"),
        BLOCKER_SET as i64,
        "every churned subscription was unsubscribed"
    );

    // Nothing left behind receives: a publish to churned channels reaches no one.
    let mut publisher = Raw::handshake(&hub.tcp()).await;
    for who in 0..CHURNERS {
        for sid in [1, PAIRS / 2, PAIRS] {
            let publish = Publish {
                channel: Channel::parse(&format!("churn/{who}/{sid}")).unwrap(),
                flags: MessageFlags::NONE,
                reply_to: None,
                headers: Headers::new(),
                body: Bytes::from_static(b"late"),
            };
            publisher.send_envelope(&publish).await;
        }
    }
    barrier(&mut publisher, 2).await;
    for (who, raw) in churners.iter_mut().enumerate() {
        raw.send_envelope(&Ping { nonce: 3 }).await;
        let frame = recv_or_fail("a PONG", raw.recv()).await.expect("open");
        assert_eq!(frame.kind, kind::PONG, "churner {who} got a message");
    }
}
