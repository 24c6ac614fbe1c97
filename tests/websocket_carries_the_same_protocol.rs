//! Guards the WebSocket transport: a `ws://` or `wss://` listener carries the protocol of every
//! other stream, one frame per binary message: calls to routes, pub/sub on a hub, over TLS
//! too, and hubwire's own clients dial it.

mod support;
#[path = "support/websocket.rs"]
mod ws;

use bytes::Bytes;
use hubwire::hub::HubLimits;
use hubwire::prelude::*;
use hubwire::protocol::{kind, Envelope, Ping, Pong, Publish, Subscribe};
use hubwire::pubsub::{Channel, Pattern};
use hubwire::tls::{ClientAuth, TlsClient};
use support::certs::Pki;
use support::*;
use ws::{Seen, WsPeer};

/// A config that listens on an ephemeral `ws://` loopback port only.
fn ws_config() -> Config {
    Config {
        listen: vec!["ws://127.0.0.1:0".parse().unwrap()],
        ..loopback_config()
    }
}

fn ws_address(server: &TestServer) -> Address {
    server
        .addresses
        .iter()
        .find(|a| a.scheme() == "ws" || a.scheme() == "wss")
        .cloned()
        .expect("a WebSocket listener")
}

#[tokio::test]
async fn a_call_over_ws_gets_its_reply_in_one_binary_message() {
    let server = TestServer::with_test_routes(ws_config());
    let address = ws_address(&server);
    assert!(
        address.to_string().starts_with("ws://127.0.0.1:"),
        "{address}"
    );
    let mut peer = WsPeer::handshake(&address).await;
    let echo = Message {
        message: "over websocket".into(),
    };
    let reply = peer.call(1, "test.echo", &echo).await.expect("a RESPONSE");
    assert_eq!(reply.id, 1);
    assert_eq!(hubwire::decode_body::<Message>(&reply.body).unwrap(), echo);
    // Errors are the same typed frames as over TCP.
    let unknown = peer.call(2, "no.such.route", &()).await.unwrap_err();
    assert_eq!(
        (unknown.id, unknown.code),
        (Some(2), ErrorCode::UnknownRoute)
    );
}

#[tokio::test]
async fn the_typed_client_dials_ws_addresses() {
    let server = TestServer::with_test_routes(ws_config());
    let client = Client::new(ws_address(&server));
    for n in 0..3 {
        let echo = Message {
            message: format!("call {n}"),
        };
        let reply = recv_or_fail("a call", client.call::<Echo>(&echo))
            .await
            .unwrap();
        assert_eq!(reply, echo);
    }
}

#[tokio::test]
async fn a_publish_over_ws_reaches_a_subscriber_over_ws() {
    let hub = TestServer::start(ws_config(), |b| b.hub(HubLimits::default())).unwrap();
    let address = ws_address(&hub);
    let mut subscriber = WsPeer::handshake(&address).await;
    subscriber
        .send_envelope(&Subscribe::new(7, Pattern::parse("rooms/*").unwrap()))
        .await;
    // PONG comes after the subscription is applied (the PING barrier).
    subscriber.send_envelope(&Ping { nonce: 1 }).await;
    match subscriber.next().await {
        Seen::Frame(frame) => assert_eq!(Pong::from_frame(&frame).unwrap().nonce, 1),
        other => panic!("expected PONG, saw {other:?}"),
    }
    let mut publisher = WsPeer::handshake(&address).await;
    publisher
        .send_envelope(&Publish {
            channel: Channel::parse("rooms/kitchen").unwrap(),
            flags: hubwire::protocol::MessageFlags::NONE,
            reply_to: None,
            headers: Default::default(),
            body: Bytes::from_static(b"warm"),
        })
        .await;
    match subscriber.next().await {
        Seen::Frame(frame) => {
            assert_eq!(frame.kind, kind::MESSAGE);
            let message = hubwire::protocol::Message::from_frame(&frame).unwrap();
            assert_eq!(message.sids, [7]);
            assert_eq!(message.channel.as_str(), "rooms/kitchen");
            assert_eq!(&message.body[..], b"warm");
        }
        other => panic!("expected MESSAGE, saw {other:?}"),
    }
}

#[actix::test]
async fn spokes_dial_a_hub_over_ws() {
    use support::hub::ready_spoke;
    let hub = TestServer::start(ws_config(), |b| b.hub(HubLimits::default())).unwrap();
    let address = ws_address(&hub);
    let subscriber = ready_spoke(address.clone(), "subscriber").await;
    let publisher = ready_spoke(address, "publisher").await;
    let (_, mut rx) = subscriber
        .subscribe(Pattern::parse("news/**").unwrap())
        .await
        .unwrap();
    publisher
        .publish(
            Channel::parse("news/today").unwrap(),
            Bytes::from_static(b"hi"),
        )
        .await
        .unwrap();
    let got = recv_or_fail("a message", rx.recv()).await.unwrap();
    assert_eq!(&got.body[..], b"hi");
}

#[tokio::test]
async fn wss_carries_calls_with_the_servers_certificate() {
    let pki = Pki::new("ws-ca");
    let config = Config {
        listen: vec!["wss://127.0.0.1:0".parse().unwrap()],
        tls: Some(pki.server_config(&pki.server(&["localhost"]), ClientAuth::None)),
        ..loopback_config()
    };
    let server = TestServer::with_test_routes(config);
    let port = ws_address(&server).socket_addr().unwrap().port();
    let address: Address = format!("wss://localhost:{port}").parse().unwrap();
    let trust = TlsClient::builder().ca_file(pki.ca_file()).build().unwrap();
    // A raw WebSocket client over TLS.
    let mut peer = WsPeer::open(&address, "/", None, Some(trust.clone()))
        .await
        .expect("the upgrade over TLS succeeds");
    peer.hello().await;
    let echo = Message {
        message: "sealed".into(),
    };
    let reply = peer.call(1, "test.echo", &echo).await.unwrap();
    assert_eq!(hubwire::decode_body::<Message>(&reply.body).unwrap(), echo);
    // hubwire's client dials wss:// and checks the certificate.
    let options = ClientOptions {
        tls: Some(trust),
        ..ClientOptions::default()
    };
    let client = recv_or_fail("connect", Client::connect(address.clone(), options))
        .await
        .unwrap();
    assert_eq!(client.call::<Echo>(&echo).await.unwrap(), echo);
    // Without the CA the certificate is refused.
    let err = Client::connect(address, ClientOptions::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("certificate"), "{err}");
}

#[tokio::test]
async fn wss_without_tls_settings_does_not_start() {
    let config = Config {
        listen: vec!["wss://127.0.0.1:0".parse().unwrap()],
        ..loopback_config()
    };
    let err = TestServer::start(config, |b| b).err().expect("refused");
    assert!(err.contains("tls.cert_file"), "{err}");
}

#[tokio::test]
async fn a_listen_path_is_the_only_one_served() {
    let config = Config {
        listen: vec!["ws://127.0.0.1:0/hubwire".parse().unwrap()],
        ..loopback_config()
    };
    let server = TestServer::with_test_routes(config);
    let address = ws_address(&server);
    assert!(address.to_string().ends_with("/hubwire"), "{address}");
    let refused = WsPeer::open(&address, "/elsewhere", None, None).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 404)
        }
        Err(e) => panic!("expected HTTP 404, got {e}"),
        Ok(_) => panic!("expected HTTP 404, the upgrade succeeded"),
    }
    let mut peer = WsPeer::open(&address, "/hubwire", None, None)
        .await
        .unwrap();
    peer.hello().await;
    // hubwire's client says why a path is refused.
    let elsewhere: Address = address
        .to_string()
        .replace("/hubwire", "/else")
        .parse()
        .unwrap();
    let err = Client::connect(elsewhere, ClientOptions::default())
        .await
        .unwrap_err();
    let says = format!("{err}: {:?}", std::error::Error::source(&err));
    assert!(says.contains("HTTP 404"), "{says}");
    // hubwire's client asks for the address's path.
    let client = Client::new(address);
    let echo = Message {
        message: "at the path".into(),
    };
    assert_eq!(
        recv_or_fail("a call", client.call::<Echo>(&echo))
            .await
            .unwrap(),
        echo
    );
}

route!(pub WhoAmI = "test.whoami", () => Option<String>);

/// Over `wss://` a client certificate gives the peer its identity, as over `tls://`.
#[actix::test]
async fn a_client_certificate_over_wss_gives_the_peer_its_identity() {
    let pki = Pki::new("wss-mtls");
    let config = Config {
        listen: vec!["wss://127.0.0.1:0".parse().unwrap()],
        tls: Some(pki.server_config(&pki.server(&["127.0.0.1"]), ClientAuth::Required)),
        ..loopback_config()
    };
    let server = TestServer::start(config, |builder| {
        let whoami = hubwire::routing::FnEndpoint::<WhoAmI>::new(builder.registry(), |(), peer| {
            Ok(peer.identity().map(str::to_owned))
        });
        builder.endpoint(whoami)
    })
    .unwrap();
    let alice = pki.client("alice");
    let tls = TlsClient::builder()
        .ca_file(pki.ca_file())
        .client_cert(&alice.cert_file, &alice.key_file)
        .build()
        .unwrap();
    let options = ClientOptions {
        tls: Some(tls),
        ..ClientOptions::default()
    };
    let client = Client::with_options(ws_address(&server), options);
    let who = recv_or_fail("who am I", client.call::<WhoAmI>(&()))
        .await
        .unwrap();
    assert_eq!(who.as_deref(), Some("alice"));
}
