//! Guards bridges with real hubs on loopback: a chain carries a publish from one end to the
//! other once and stops carrying it when the far subscriber leaves; a ring of three and a mesh
//! of four deliver every message exactly once to every subscriber; calls cross bridges, and a
//! call whose provider is gone gets no-responders.

mod support;

use std::time::Duration;

use bytes::Bytes;
use hubwire::pubsub::{Channel, Pattern};
use hubwire::spoke::{Delivery, RpcError, Spoke};
use support::bridge::*;
use support::hub::ready_spoke;
use support::*;
use tokio::sync::mpsc;

fn channel(s: &str) -> Channel {
    Channel::parse(s).unwrap()
}

fn pattern(s: &str) -> Pattern {
    Pattern::parse(s).unwrap()
}

/// [`probe`], then the probes still on their way are drained.
async fn probe_until_delivered(
    publisher: &Spoke,
    on: &str,
    subscriber: &mut mpsc::Receiver<Delivery>,
) {
    probe(publisher, on, subscriber).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    while subscriber.try_recv().is_ok() {}
}

/// Reads what arrives on `rx` until `quiet` passes without anything.
async fn drain(rx: &mut mpsc::Receiver<Delivery>, quiet: Duration) -> Vec<Bytes> {
    let mut got = Vec::new();
    while let Ok(Some(delivery)) = tokio::time::timeout(quiet, rx.recv()).await {
        got.push(delivery.body);
    }
    got
}

#[actix::test]
async fn a_chain_carries_a_publish_end_to_end_once_and_stops_when_interest_goes() {
    // A and C dial B.
    let Chain {
        ports: p,
        a,
        b: _b,
        c,
    } = chain().await;
    let publisher = ready_spoke(a.tcp(), "publisher").await;
    let subscriber = ready_spoke(c.tcp(), "subscriber").await;
    let (sid, mut news) = subscriber.subscribe(pattern("news/*")).await.unwrap();
    probe_until_delivered(&publisher, "news/probe", &mut news).await;
    for i in 0..50 {
        publisher
            .publish(channel("news/today"), Bytes::from(format!("{i}")))
            .await
            .unwrap();
    }
    let got = drain(&mut news, Duration::from_millis(300)).await;
    let want: Vec<Bytes> = (0..50).map(|i| Bytes::from(format!("{i}"))).collect();
    assert_eq!(got, want, "each message once, in order");

    // C's subscriber leaves (its spoke's call inbox stays): A stops sending news over its
    // bridge to B.
    let a_to_b = format!("tcp://127.0.0.1:{}", p[1]);
    let interest_before = bridge_figure(&a, "bridge.interest", &a_to_b);
    subscriber.unsubscribe(sid).await.unwrap();
    until("A to learn that nobody beyond B listens to news", || {
        bridge_figure(&a, "bridge.interest", &a_to_b) == interest_before - 1
    })
    .await;
    let sent_before = bridge_figure(&a, "bridge.messages_out", &a_to_b);
    for _ in 0..20 {
        publisher
            .publish(channel("news/today"), Bytes::from_static(b"late"))
            .await
            .unwrap();
    }
    // The spoke's publishes are through A once a barrier comes back.
    publisher.ready(PATIENCE).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        bridge_figure(&a, "bridge.messages_out", &a_to_b),
        sent_before,
        "nothing crosses A-B without interest beyond it"
    );
}

/// Every hub has a subscriber and a publisher; every publisher sends `count` messages; every
/// subscriber must get each message exactly once.
async fn exactly_once_everywhere(hubs: &[&TestServer], count: usize) {
    converged(hubs).await;
    let mut publishers = Vec::new();
    let mut inboxes = Vec::new();
    for (i, hub) in hubs.iter().enumerate() {
        let spoke = ready_spoke(hub.tcp(), &format!("spoke{i}")).await;
        let (_, rx) = spoke.subscribe(pattern("mesh/**")).await.unwrap();
        inboxes.push(rx);
        publishers.push(spoke);
    }
    // Every subscriber hears from every publisher before the count starts.
    for (i, publisher) in publishers.iter().enumerate() {
        for rx in inboxes.iter_mut() {
            probe_until_delivered(publisher, &format!("mesh/probe/{i}"), rx).await;
        }
    }
    for (i, publisher) in publishers.iter().enumerate() {
        for n in 0..count {
            publisher
                .publish(
                    channel(&format!("mesh/{i}")),
                    Bytes::from(format!("{i}:{n}")),
                )
                .await
                .unwrap();
        }
    }
    for (hub, rx) in inboxes.iter_mut().enumerate() {
        // Late probes (every probe reaches every subscriber) are not counted.
        let mut got: Vec<String> = drain(rx, Duration::from_millis(400))
            .await
            .iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .filter(|b| b != "probe")
            .collect();
        got.sort();
        let mut want: Vec<String> = (0..hubs.len())
            .flat_map(|i| (0..count).map(move |n| format!("{i}:{n}")))
            .collect();
        want.sort();
        assert_eq!(got, want, "hub {hub}: every message exactly once");
    }
}

#[actix::test]
async fn a_ring_of_three_delivers_exactly_once() {
    let p = ports(3);
    let a = bridged_hub(p[0], &[p[1]]);
    let b = bridged_hub(p[1], &[p[2]]);
    let c = bridged_hub(p[2], &[p[0]]);
    exactly_once_everywhere(&[&a, &b, &c], 30).await;
}

#[actix::test]
async fn a_mesh_of_four_delivers_exactly_once() {
    let p = ports(4);
    let hubs: Vec<TestServer> = (0..4).map(|i| bridged_hub(p[i], &p[i + 1..])).collect();
    let refs: Vec<&TestServer> = hubs.iter().collect();
    exactly_once_everywhere(&refs, 30).await;
}

#[actix::test]
async fn a_call_crosses_bridges_and_no_responders_comes_once_the_provider_is_gone() {
    // A and C dial B.
    let Chain {
        ports: _,
        a,
        b: _b,
        c,
    } = chain().await;
    let caller = ready_spoke(a.tcp(), "caller").await;
    let provider = ready_spoke(c.tcp(), "provider").await;
    let sid = provider
        .provide(pattern("svc/upper"), |request| async move {
            Ok(Bytes::from(request.body.to_ascii_uppercase()))
        })
        .await
        .unwrap();
    // Interest spreads a tick per hop: until the provider is known on A a call is answered
    // no-responders.
    let reply = call_until_answered(&caller, "svc/upper").await;
    assert_eq!(&reply[..], b"HI");
    // Until A learns the provider left, a call goes to C, where nobody takes it (a hub
    // answers no-responders only for calls published on it): not acknowledged.
    provider.unsubscribe(sid).await.unwrap();
    recv_or_fail("A to answer no-responders at once", async {
        loop {
            match caller
                .call(
                    channel("svc/upper"),
                    Bytes::new(),
                    Duration::from_millis(300),
                )
                .await
            {
                Err(RpcError::NoResponders { .. }) => return,
                Err(RpcError::NotAcknowledged { .. }) => {}
                other => panic!("unexpected outcome {other:?}"),
            }
        }
    })
    .await;
}
