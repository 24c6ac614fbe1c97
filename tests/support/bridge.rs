//! Bridged hubs for tests: hubs on chosen loopback ports with a shared secret and quick
//! bridge back-off, and waits on their figures.

use std::time::Duration;

use bytes::Bytes;
use hubwire::backoff::BackoffPolicy;
use hubwire::bridge::{BridgeTarget, Secret};
use hubwire::hub::HubLimits;
use hubwire::pubsub::Channel;
use hubwire::spoke::{Delivery, RpcError, Spoke};
use tokio::sync::mpsc;

use super::hub::free_port;
use hubwire::bridge::routing::auth::{LinkParties, Role};
use hubwire::bridge::routing::HubId;
use hubwire::protocol::{BridgeChallenge, BridgeHello, BridgeProof, Envelope};

use super::{loopback_config, recv_or_fail, Raw, TestServer};
use hubwire::Config;

/// The bridge secret of the hubs this test (thread) starts: tests running side by side never
/// bridge into each other's hubs, even if a port is reused.
pub fn secret() -> String {
    thread_local! {
        static SECRET: String = format!("test secret {:016x}", fastrand::u64(..));
    }
    SECRET.with(Clone::clone)
}

/// `n` free loopback ports.
pub fn ports(n: usize) -> Vec<u16> {
    (0..n).map(|_| free_port()).collect()
}

/// A bridge to the hub on `port`.
pub fn target(port: u16) -> BridgeTarget {
    BridgeTarget::new(format!("tcp://127.0.0.1:{port}").parse().unwrap())
}

/// A hub on `port` that dials a bridge to each of `to`, with `secret`.
pub fn bridged_hub_with(port: u16, to: &[u16], secret: &str) -> TestServer {
    bridged_hub_to(port, to.iter().map(|p| target(*p)).collect(), secret)
}

/// A hub on `port` that dials each of `targets`, with `secret`.
pub fn bridged_hub_to(port: u16, targets: Vec<BridgeTarget>, secret: &str) -> TestServer {
    let config = bridged_hub_config(port, targets, secret);
    TestServer::start(config, |b| b.hub(HubLimits::default())).expect("the hub starts")
}

/// The configuration of [`bridged_hub_to`].
pub fn bridged_hub_config(port: u16, targets: Vec<BridgeTarget>, secret: &str) -> Config {
    let mut config = loopback_config();
    config.listen = vec![format!("tcp://127.0.0.1:{port}").parse().unwrap()];
    config.bridge_secret = Some(Secret::new(secret));
    config.bridges = targets;
    config.bridge_backoff =
        BackoffPolicy::exponential(Duration::from_millis(20), Duration::from_millis(200))
            .with_max_attempts(None);
    config.bridge_prune_grace = Duration::from_millis(200);
    config
}

/// [`bridged_hub_with`] this test's [`secret`].
pub fn bridged_hub(port: u16, to: &[u16]) -> TestServer {
    bridged_hub_with(port, to, &secret())
}

/// A gauge of `server` (no labels), -1 if it has none.
pub fn gauge(server: &TestServer, name: &str) -> i64 {
    server.registry.snapshot().gauge(name, &[]).unwrap_or(-1)
}

/// A figure of bridge `bridge` of `server` (a gauge or a counter), -1 if it has none.
pub fn bridge_figure(server: &TestServer, name: &str, bridge: &str) -> i64 {
    let snapshot = server.registry.snapshot();
    let labels = [("bridge", bridge)];
    snapshot
        .gauge(name, &labels)
        .or_else(|| snapshot.counter(name, &labels).map(|c| c as i64))
        .unwrap_or(-1)
}

/// Waits until `what` holds.
pub async fn until(what: &str, check: impl Fn() -> bool) {
    recv_or_fail(what, async {
        while !check() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
}

/// Waits until every one of `hubs` reaches all `hubs.len()` hubs.
pub async fn converged(hubs: &[&TestServer]) {
    let n = hubs.len() as i64;
    until(&format!("{n} hubs reaching each other"), || {
        hubs.iter().all(|hub| gauge(hub, "bridge.hubs") == n)
    })
    .await
}

/// Publishes probes on `on` from `publisher` until `rx` has one of them: the interest has
/// crossed the bridges. Other deliveries (earlier probes, others' messages) are skipped.
pub async fn probe(publisher: &Spoke, on: &str, rx: &mut mpsc::Receiver<Delivery>) {
    let channel = Channel::parse(on).unwrap();
    recv_or_fail(&format!("a probe on {on} to cross the bridges"), async {
        loop {
            publisher
                .publish(channel.clone(), Bytes::from_static(b"probe"))
                .await
                .unwrap();
            while let Ok(Some(delivery)) =
                tokio::time::timeout(Duration::from_millis(50), rx.recv()).await
            {
                if delivery.channel == channel {
                    return;
                }
            }
        }
    })
    .await
}

/// Calls `on` until it is answered (while the provider's interest spreads: no-responders, or
/// silence while a departed provider's is).
pub async fn call_until_answered(caller: &Spoke, on: &str) -> Bytes {
    let channel = Channel::parse(on).unwrap();
    recv_or_fail(&format!("a call on {on} to be answered"), async {
        loop {
            let hi = Bytes::from_static(b"hi");
            match caller
                .call(channel.clone(), hi, Duration::from_millis(500))
                .await
            {
                Ok(reply) => return reply,
                Err(RpcError::NoResponders { .. } | RpcError::NotAcknowledged { .. }) => {
                    tokio::time::sleep(Duration::from_millis(20)).await
                }
                Err(e) => panic!("unexpected call outcome: {e}"),
            }
        }
    })
    .await
}

/// A chain A-B-C (A and C dial B), converged: its ports and hubs.
pub struct Chain {
    /// The ports of A, B and C.
    pub ports: Vec<u16>,
    /// The hubs.
    pub a: TestServer,
    pub b: TestServer,
    pub c: TestServer,
}

/// Starts a [`Chain`] and waits until its hubs reach each other.
pub async fn chain() -> Chain {
    let ports = ports(3);
    let b = bridged_hub(ports[1], &[]);
    let a = bridged_hub(ports[0], &[ports[1]]);
    let c = bridged_hub(ports[2], &[ports[1]]);
    converged(&[&a, &b, &c]).await;
    Chain { ports, a, b, c }
}

/// A raw connection to `hub` admitted as bridge peer `HubId(7)`, and the hub's id: the test
/// plays a whole hub, frame by frame.
pub async fn admitted_peer(hub: &TestServer) -> (Raw, HubId) {
    let mut raw = Raw::handshake(&hub.tcp()).await;
    raw.send_envelope(&BridgeHello {
        hub: HubId(7),
        nonce: [7; 16],
        name: "raw peer".into(),
    })
    .await;
    let challenge = BridgeChallenge::from_frame(&raw.recv().await.unwrap()).unwrap();
    let parties = LinkParties {
        dialer: (HubId(7), [7; 16]),
        listener: (challenge.hub, challenge.nonce),
    };
    let secret = secret();
    let secret = secret.as_bytes();
    raw.send_envelope(&BridgeProof {
        mac: parties.proof(secret, Role::Dialer),
    })
    .await;
    let proof = BridgeProof::from_frame(&raw.recv().await.unwrap()).unwrap();
    assert!(
        parties.verify(secret, Role::Listener, &proof.mac),
        "the hub proves itself"
    );
    (raw, challenge.hub)
}

/// [`admitted_peer`], which then tells `hub` it is its neighbor (a LinkState of hub 7) and
/// waits until `hub` reaches it.
pub async fn admitted_neighbor(hub: &TestServer) -> (Raw, HubId) {
    let (mut peer, hub_id) = admitted_peer(hub).await;
    peer.send_envelope(&hubwire::bridge::routing::LinkState {
        origin: HubId(7),
        seq: 1,
        neighbors: vec![hub_id],
    })
    .await;
    until("the hub to reach hub 7", || gauge(hub, "bridge.hubs") == 2).await;
    (peer, hub_id)
}
