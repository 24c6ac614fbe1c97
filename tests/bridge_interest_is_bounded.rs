//! Guards the size of interest traffic, seen by a raw bridge peer that passes admission: a
//! hub's whole interest comes in parts of at most 256 interests, and a hub with more distinct
//! subscriptions than it announces one by one (4096) announces `**` instead of flooding the
//! link with every pattern; churn is coalesced per 20 ms tick, so the rate of updates stays
//! bounded however fast clients subscribe and unsubscribe.

mod support;

use std::collections::BTreeSet;

use hubwire::bridge::routing::{InterestUpdate, DEFAULT_UPDATE_ITEMS};
use hubwire::protocol::{kind, Envelope, Ping, Subscribe, Unsubscribe};
use hubwire::pubsub::Pattern;
use support::bridge::*;
use support::*;

/// Subscribes `count` distinct patterns at once, then waits for the table to apply them.
async fn subscribe_many(raw: &mut Raw, from: usize, count: usize) {
    for i in from..from + count {
        let pattern = Pattern::parse(&format!("load/{i}/x")).unwrap();
        raw.send_envelope(&Subscribe::new(i as u64 + 1, pattern))
            .await;
    }
    raw.send_envelope(&Ping { nonce: 1 }).await;
    while raw.recv().await.expect("a PONG").kind != kind::PONG {}
}

/// Reads interest updates until `done` says the set is complete; answers the set and how
/// many updates carried it. Every update must be within the bound.
async fn read_interest(
    peer: &mut Raw,
    mut set: BTreeSet<String>,
    done: impl Fn(&BTreeSet<String>, &InterestUpdate) -> bool,
) -> (BTreeSet<String>, usize) {
    let mut updates = 0;
    recv_or_fail("the hub's interest", async {
        loop {
            let frame = peer.recv().await.expect("the link stays up");
            if frame.kind != kind::BRIDGE_INTEREST {
                continue;
            }
            let update = InterestUpdate::from_frame(&frame).unwrap();
            updates += 1;
            assert!(
                update.add.len() + update.remove.len() <= DEFAULT_UPDATE_ITEMS,
                "an update of {} items",
                update.add.len() + update.remove.len()
            );
            if update
                .full
                .as_ref()
                .is_some_and(|part| part.after.is_none())
            {
                set.clear();
            }
            for gone in &update.remove {
                set.remove(&gone.pattern.to_string());
            }
            set.extend(update.add.iter().map(|i| i.pattern.to_string()));
            if done(&set, &update) {
                return;
            }
        }
    })
    .await;
    (set, updates)
}

#[tokio::test]
async fn interest_comes_in_bounded_parts_and_too_much_of_it_is_summarized() {
    let port = ports(1)[0];
    let hub = bridged_hub(port, &[]);
    let mut subscriber = Raw::handshake(&hub.tcp()).await;
    subscribe_many(&mut subscriber, 0, 600).await;
    // Changes are announced at the table's next tick; a link that comes up before it gets
    // them as deltas after its full set, which is not what this test is about.
    until("600 interests announced", || {
        gauge(&hub, "bridge.announced") == 600
    })
    .await;

    // A new link gets the whole set, in parts.
    let (mut peer, _) = admitted_peer(&hub).await;
    let (set, parts) = read_interest(&mut peer, BTreeSet::new(), |_, update| {
        update.full.as_ref().is_some_and(|part| part.last)
    })
    .await;
    assert_eq!(set.len(), 600);
    assert!(parts >= 3, "600 interests in {parts} parts");

    // Past 4096 distinct patterns the hub announces `**` instead.
    subscribe_many(&mut subscriber, 600, 4000).await;
    let (set, _) = read_interest(&mut peer, set, |set, _| set.contains("**")).await;
    assert!(set.len() <= 4096, "{} interests announced", set.len());
}

#[tokio::test]
async fn churn_is_coalesced_into_a_bounded_rate_of_updates() {
    const PAIRS: usize = 3000;
    let port = ports(1)[0];
    let hub = bridged_hub(port, &[]);
    let (mut peer, _) = admitted_peer(&hub).await;
    let mut churner = Raw::handshake(&hub.tcp()).await;
    // The link's first full set (empty) is in before the churn starts.
    read_interest(&mut peer, BTreeSet::new(), |_, update| {
        update.full.as_ref().is_some_and(|part| part.last)
    })
    .await;
    let started = std::time::Instant::now();
    for i in 0..PAIRS {
        let pattern = Pattern::parse(&format!("churn/{i}")).unwrap();
        churner
            .send_envelope(&Subscribe::new(i as u64 + 1, pattern))
            .await;
        churner
            .send_envelope(&Unsubscribe { sid: i as u64 + 1 })
            .await;
    }
    churner.send_envelope(&Ping { nonce: 1 }).await;
    while churner.recv().await.expect("a PONG").kind != kind::PONG {}
    // Then one lasting subscription marks the end of the churn on the link.
    churner
        .send_envelope(&Subscribe::new(1, Pattern::parse("after/churn").unwrap()))
        .await;
    let (set, updates) = read_interest(&mut peer, BTreeSet::new(), |set, _| {
        set.contains("after/churn")
    })
    .await;
    let ticks = started.elapsed().as_millis() as usize / 20 + 2;
    assert!(
        updates <= 8 * ticks,
        "{updates} updates in {ticks} ticks: more than 8 a tick"
    );
    assert!(
        updates < PAIRS / 10,
        "{PAIRS} subscribe-unsubscribe pairs took {updates} updates: not coalesced"
    );
    assert!(
        set.iter().all(|p| !p.starts_with("churn/")),
        "nothing of the churn is left: {set:?}"
    );
}
