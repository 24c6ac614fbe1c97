//! Guards host names in addresses: a client, a spoke and a listener given `localhost` resolve it
//! when they connect or bind, and a failed dial names what failed (the name that does not
//! resolve, the address that refused).

mod support;

use bytes::Bytes;
use hubwire::prelude::*;
use hubwire::pubsub::{Channel, Pattern};
use support::hub::{hub, ready_spoke};
use support::{loopback_config, recv_or_fail, Echo, Message, TestServer};

/// `address` with its IP literal replaced by `localhost`.
fn by_name(address: &Address) -> Address {
    let port = address.socket_addr().expect("a bound IP address").port();
    format!("{}://localhost:{port}", address.scheme())
        .parse()
        .unwrap()
}

fn hello() -> Message {
    Message {
        message: "by name".into(),
    }
}

#[actix::test]
async fn a_client_dials_a_host_name() {
    let server = TestServer::with_test_routes(loopback_config());
    let client = Client::new(by_name(&server.tcp()));
    let reply = recv_or_fail("a reply", client.call::<Echo>(&hello()))
        .await
        .unwrap();
    assert_eq!(reply, hello());
}

#[actix::test]
async fn a_server_listens_on_what_a_host_name_resolves_to() {
    let mut config = loopback_config();
    config.listen = vec!["tcp://localhost:0".parse().unwrap()];
    let server = TestServer::with_test_routes(config);
    assert!(!server.addresses.is_empty());
    for address in &server.addresses {
        let addr = address.socket_addr().expect("bound to an IP address");
        assert!(addr.ip().is_loopback(), "{address}");
        let client = Client::new(address.clone());
        recv_or_fail("a reply", client.call::<Echo>(&hello()))
            .await
            .unwrap();
    }
}

#[actix::test]
async fn a_spoke_dials_a_host_name() {
    let hub = hub();
    let subscriber = ready_spoke(by_name(&hub.tcp()), "subscriber").await;
    let publisher = ready_spoke(by_name(&hub.tcp()), "publisher").await;
    let (_, mut rx) = subscriber
        .subscribe(Pattern::parse("names/*").unwrap())
        .await
        .unwrap();
    publisher
        .publish(
            Channel::parse("names/x").unwrap(),
            Bytes::from_static(b"hi"),
        )
        .await
        .unwrap();
    let got = recv_or_fail("a message", rx.recv()).await.unwrap();
    assert_eq!(&got.body[..], b"hi");
}

/// What connecting to `address` fails with.
async fn connect_error(address: &str) -> CallError {
    let address: Address = address.parse().unwrap();
    let connect = Client::connect(address, ClientOptions::default());
    recv_or_fail("an error", connect).await.unwrap_err()
}

#[actix::test]
async fn a_name_that_does_not_resolve_is_named_in_the_error() {
    let err = connect_error("tcp://nosuchhost.invalid:7400").await;
    let text = err.to_string();
    assert!(
        text.contains("cannot resolve host nosuchhost.invalid"),
        "{text}"
    );
    assert!(err.never_sent());
}

#[actix::test]
async fn a_refused_port_says_refused() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let err = connect_error(&format!("tcp://localhost:{port}")).await;
    let text = err.to_string();
    assert!(
        text.contains(&format!(":{port} refused the connection")),
        "{text}"
    );
}

#[test]
fn a_listen_name_that_does_not_resolve_stops_the_start() {
    let mut config = loopback_config();
    config.listen = vec!["tcp://nosuchhost.invalid:0".parse().unwrap()];
    let err = TestServer::start(config, |b| b)
        .err()
        .expect("the start fails");
    assert!(err.contains("nosuchhost.invalid"), "{err}");
}
