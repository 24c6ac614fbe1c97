//! Bridged hubs for tests: hubs on chosen loopback ports with a shared secret and quick
//! bridge back-off, and waits on their figures.

use std::time::Duration;

use hubwire::backoff::BackoffPolicy;
use hubwire::bridge::{BridgeTarget, Secret};
use hubwire::hub::HubLimits;

use super::hub::free_port;
use super::{loopback_config, recv_or_fail, TestServer};

/// The secret of the tests' bridges.
pub const SECRET: &str = "correct horse battery";

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
    let mut config = loopback_config();
    config.listen = vec![format!("tcp://127.0.0.1:{port}").parse().unwrap()];
    config.bridge_secret = Some(Secret::new(secret));
    config.bridges = targets;
    config.bridge_backoff =
        BackoffPolicy::exponential(Duration::from_millis(20), Duration::from_millis(200))
            .with_max_attempts(None);
    config.bridge_prune_grace = Duration::from_millis(200);
    TestServer::start(config, |b| b.hub(HubLimits::default())).expect("the hub starts")
}

/// [`bridged_hub_with`] the tests' secret.
pub fn bridged_hub(port: u16, to: &[u16]) -> TestServer {
    bridged_hub_with(port, to, SECRET)
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
