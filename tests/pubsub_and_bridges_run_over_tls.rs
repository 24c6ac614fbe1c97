//! Guards pub/sub over TLS: spokes dial a hub's `tls://` listener (with a CA file), and
//! publishes reach subscribers through it.

mod support;

use bytes::Bytes;
use hubwire::hub::HubLimits;
use hubwire::pubsub::{Channel, Pattern};
use hubwire::spoke::{Spoke, SpokeSpec};
use hubwire::stats::StatsRegistry;
use hubwire::tls::{ClientAuth, TlsClient};
use hubwire::Address;
use support::certs::Pki;
use support::hub::quick_spoke_options;
use support::{recv_or_fail, TestServer, PATIENCE};

async fn tls_spoke(address: Address, pki: &Pki, name: &str) -> Spoke {
    let mut options = quick_spoke_options();
    options.tls = Some(TlsClient::builder().ca_file(pki.ca_file()).build().unwrap());
    let (spoke, _supervisor) = SpokeSpec::new(address)
        .name(name)
        .options(options)
        .start(&StatsRegistry::new());
    spoke
        .ready(PATIENCE)
        .await
        .expect("the spoke connects over TLS");
    spoke
}

#[actix::test]
async fn a_publish_reaches_a_subscriber_through_a_tls_hub() {
    let pki = Pki::new("test-ca");
    let config = pki.tls_only_config("localhost");
    let hub = TestServer::start(config, |b| b.hub(HubLimits::default())).unwrap();
    let port = hub.tls_address().socket_addr().unwrap().port();
    // By name: the certificate names localhost, and the spoke checks it.
    let address: Address = format!("tls://localhost:{port}").parse().unwrap();
    let subscriber = tls_spoke(address.clone(), &pki, "subscriber").await;
    let publisher = tls_spoke(address, &pki, "publisher").await;
    let (_, mut rx) = subscriber
        .subscribe(Pattern::parse("secure/*").unwrap())
        .await
        .unwrap();
    publisher
        .publish(
            Channel::parse("secure/x").unwrap(),
            Bytes::from_static(b"sealed"),
        )
        .await
        .unwrap();
    let got = recv_or_fail("a message", rx.recv()).await.unwrap();
    assert_eq!(&got.body[..], b"sealed");
}

#[actix::test]
async fn a_bridge_dialled_over_tls_carries_publishes() {
    use support::bridge::{bridged_hub_config, probe, secret};
    use support::hub::{free_port, ready_spoke};
    let pki = Pki::new("test-ca");
    let tls = pki.server_config(&pki.server(&["localhost"]), ClientAuth::None);
    // B listens on TCP (for its spoke) and on TLS (for A's bridge).
    let tls_port = free_port();
    let mut b_config = bridged_hub_config(free_port(), Vec::new(), &secret());
    b_config
        .listen
        .push(format!("tls://127.0.0.1:{tls_port}").parse().unwrap());
    b_config.tls = Some(tls.clone());
    let b = TestServer::start(b_config, |b| b.hub(HubLimits::default())).unwrap();
    // A dials B by name over TLS, trusting the CA in its own tls block.
    let target =
        hubwire::bridge::BridgeTarget::new(format!("tls://localhost:{tls_port}").parse().unwrap());
    let mut a_config = bridged_hub_config(free_port(), vec![target], &secret());
    a_config.tls = Some(tls);
    let a = TestServer::start(a_config, |b| b.hub(HubLimits::default())).unwrap();

    let publisher = ready_spoke(b.tcp(), "publisher").await;
    let subscriber = ready_spoke(a.tcp(), "subscriber").await;
    let (_, mut rx) = subscriber
        .subscribe(Pattern::parse("over/*").unwrap())
        .await
        .unwrap();
    probe(&publisher, "over/tls", &mut rx).await;
}

#[actix::test]
async fn a_bridge_shows_its_client_certificate_to_a_hub_that_requires_one() {
    use support::bridge::{bridged_hub_config, probe, secret};
    use support::hub::{free_port, ready_spoke};
    let pki = Pki::new("test-ca");
    let server = pki.server(&["localhost"]);
    // B requires client certificates on its TLS port.
    let tls_port = free_port();
    let mut b_config = bridged_hub_config(free_port(), Vec::new(), &secret());
    b_config
        .listen
        .push(format!("tls://127.0.0.1:{tls_port}").parse().unwrap());
    b_config.tls = Some(pki.server_config(&server, ClientAuth::Required));
    let b = TestServer::start(b_config, |b| b.hub(HubLimits::default())).unwrap();
    // A dials B and shows a certificate of the same CA.
    let hub_a = pki.client("hub-a");
    let target =
        hubwire::bridge::BridgeTarget::new(format!("tls://localhost:{tls_port}").parse().unwrap());
    let mut a_config = bridged_hub_config(free_port(), vec![target], &secret());
    let mut a_tls = pki.server_config(&server, ClientAuth::None);
    a_tls.bridge_cert_file = Some(hub_a.cert_file.clone());
    a_tls.bridge_key_file = Some(hub_a.key_file.clone());
    a_config.tls = Some(a_tls);
    let a = TestServer::start(a_config, |b| b.hub(HubLimits::default())).unwrap();

    let publisher = ready_spoke(b.tcp(), "publisher").await;
    let subscriber = ready_spoke(a.tcp(), "subscriber").await;
    let (_, mut rx) = subscriber
        .subscribe(Pattern::parse("mutual/*").unwrap())
        .await
        .unwrap();
    probe(&publisher, "mutual/tls", &mut rx).await;
}

#[actix::test]
async fn a_bridge_without_a_client_certificate_gets_no_link_to_a_hub_that_requires_one() {
    use support::bridge::{bridged_hub_config, gauge, secret};
    use support::hub::free_port;
    let pki = Pki::new("test-ca");
    let server = pki.server(&["localhost"]);
    let tls_port = free_port();
    let mut b_config = bridged_hub_config(free_port(), Vec::new(), &secret());
    b_config
        .listen
        .push(format!("tls://127.0.0.1:{tls_port}").parse().unwrap());
    b_config.tls = Some(pki.server_config(&server, ClientAuth::Required));
    let b = TestServer::start(b_config, |b| b.hub(HubLimits::default())).unwrap();
    let target =
        hubwire::bridge::BridgeTarget::new(format!("tls://localhost:{tls_port}").parse().unwrap());
    let mut a_config = bridged_hub_config(free_port(), vec![target], &secret());
    a_config.tls = Some(pki.server_config(&server, ClientAuth::None));
    let a = TestServer::start(a_config, |b| b.hub(HubLimits::default())).unwrap();
    // B counts A's failed handshakes; no link comes up on either side.
    support::bridge::until("a refused bridge handshake", || {
        b.registry
            .snapshot()
            .counter("connections.tls_handshakes_failed", &[("transport", "tls")])
            .unwrap_or(0)
            >= 1
    })
    .await;
    assert_eq!(gauge(&a, "bridge.hubs"), 1, "A knows only itself");
    assert_eq!(gauge(&b, "bridge.hubs"), 1, "B knows only itself");
}
