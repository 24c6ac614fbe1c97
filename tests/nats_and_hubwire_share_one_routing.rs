//! Guards one routing for both protocols: NATS clients (`async-nats`) and hubwire spokes on
//! the same hub see each other's messages, subjects and channels map as documented, calls go
//! both ways (a NATS request answered by a hubwire provider, a hubwire call answered by a
//! NATS responder), errors and no-responders carry over, and NATS messages cross a bridge
//! between two hubs like any other.

/// Hubs with a `nats://` listener and NATS clients of them (a module of its own, not in
/// `support`: only the tests that speak NATS build it).
#[path = "support/nats.rs"]
mod nats_support;
mod support;

use std::time::Duration;

use async_nats::{Message, Subscriber};
use bytes::Bytes;
use futures::StreamExt;
use hubwire::hub::HubLimits;
use hubwire::protocol::{ErrorCode, Headers};
use hubwire::pubsub::{Channel, Pattern};
use hubwire::spoke::{PublishOptions, RpcError};
use nats_support::*;
use support::bridge::{bridged_hub_config, converged, ports, secret, target};
use support::hub::ready_spoke;
use support::*;

fn channel(s: &str) -> Channel {
    Channel::parse(s).unwrap()
}

fn pattern(s: &str) -> Pattern {
    Pattern::parse(s).unwrap()
}

async fn next(sub: &mut Subscriber, what: &str) -> Message {
    recv_or_fail(what, sub.next())
        .await
        .unwrap_or_else(|| panic!("the subscription ended before {what}"))
}

/// Answers NATS requests on `subject` with the payload in upper case.
async fn nats_upper_responder(url: &str, subject: &'static str) {
    let responder = nats_client(url).await;
    let mut calls = responder.subscribe(subject).await.unwrap();
    subscribed(&responder).await;
    tokio::spawn(async move {
        while let Some(call) = calls.next().await {
            let upper = Bytes::from(call.payload.to_ascii_uppercase());
            responder.publish(call.reply.unwrap(), upper).await.unwrap();
        }
    });
}

#[actix::test]
async fn nats_clients_and_spokes_see_each_others_messages() {
    let hub = nats_hub();
    let spoke = ready_spoke(hub.tcp(), "spoke").await;
    let client = nats_client(&hub.nats_url()).await;

    // NATS to hubwire: `a.b` is `a/b`, headers become hubwire headers.
    let (_sid, mut on_spoke) = spoke.subscribe(pattern("mix/*/temp")).await.unwrap();
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("unit", "celsius");
    client
        .publish_with_headers("mix.kitchen.temp", headers, Bytes::from("21"))
        .await
        .unwrap();
    let got = recv_or_fail("the NATS message on the spoke", on_spoke.recv())
        .await
        .unwrap();
    assert_eq!(got.channel.as_str(), "mix/kitchen/temp");
    assert_eq!(&got.body[..], b"21");
    assert_eq!(got.headers.get("unit"), Some("celsius"));

    // hubwire to NATS: `**` after a `*` is `>`.
    let mut on_nats = client.subscribe("mix.>").await.unwrap();
    subscribed(&client).await;
    let mut headers = Headers::new();
    headers.insert("unit", "kelvin");
    let options = PublishOptions {
        headers,
        ..PublishOptions::default()
    };
    spoke
        .publish_with(channel("mix/hall/temp"), Bytes::from("294"), options)
        .await
        .unwrap();
    let m = next(&mut on_nats, "the spoke's message on the NATS client").await;
    assert_eq!(m.subject.as_str(), "mix.hall.temp");
    assert_eq!(&m.payload[..], b"294");
    let headers = m.headers.expect("headers");
    assert_eq!(headers.get("unit").map(|v| v.as_str()), Some("kelvin"));
}

#[actix::test]
async fn a_nats_request_is_answered_by_a_hubwire_provider_and_its_errors_carry_over() {
    let hub = nats_hub();
    let provider = ready_spoke(hub.tcp(), "provider").await;
    provider
        .provide(pattern("svc/double"), |request| async move {
            let n: u64 = std::str::from_utf8(&request.body)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or((ErrorCode::InvalidBody, "not a number".to_owned()))?;
            Ok(Bytes::from((n * 2).to_string()))
        })
        .await
        .unwrap();
    let client = nats_client(&hub.nats_url()).await;
    let reply = client
        .request("svc.double", Bytes::from("21"))
        .await
        .unwrap();
    assert_eq!(
        &reply.payload[..],
        b"42",
        "the reply, not the provider's ACK"
    );

    let failed = client
        .request("svc.double", Bytes::from("x"))
        .await
        .unwrap();
    let headers = failed.headers.expect("the error's headers");
    assert_eq!(
        headers.get("Nats-Service-Error-Code").map(|v| v.as_str()),
        Some("300")
    );
    assert_eq!(
        headers.get("Nats-Service-Error").map(|v| v.as_str()),
        Some("not a number")
    );
}

#[actix::test]
async fn a_hubwire_call_is_answered_by_a_nats_responder_or_told_no_responders() {
    let hub = nats_hub();
    nats_upper_responder(&hub.nats_url(), "svc.upper").await;
    let caller = ready_spoke(hub.tcp(), "caller").await;
    let reply = caller
        .call(channel("svc/upper"), Bytes::from("hi"), PATIENCE)
        .await
        .unwrap();
    assert_eq!(&reply[..], b"HI");
    let err = caller
        .call(channel("svc/nobody"), Bytes::from("hi"), PATIENCE)
        .await
        .unwrap_err();
    assert!(matches!(err, RpcError::NoResponders { .. }), "{err}");
}

/// Two bridged hubs, each with a NATS listener.
fn bridged_nats_hubs() -> (TestServer, TestServer) {
    let p = ports(2);
    let with_nats = |port: u16, to: Vec<_>| {
        let mut config = bridged_hub_config(port, to, &secret());
        config.listen.push("nats://127.0.0.1:0".parse().unwrap());
        TestServer::start(config, |b| b.hub(HubLimits::default())).expect("the hub starts")
    };
    let a = with_nats(p[0], vec![]);
    let b = with_nats(p[1], vec![target(p[0])]);
    (a, b)
}

#[actix::test]
async fn nats_messages_and_requests_cross_a_bridge() {
    let (a, b) = bridged_nats_hubs();
    converged(&[&a, &b]).await;
    let on_a = nats_client(&a.nats_url()).await;
    let on_b = nats_client(&b.nats_url()).await;
    let mut sub = on_a.subscribe("far.news").await.unwrap();
    subscribed(&on_a).await;
    // The subscription's interest crosses the bridge: publish until it has.
    recv_or_fail("a NATS message across the bridge", async {
        loop {
            on_b.publish("far.news", Bytes::from("hello"))
                .await
                .unwrap();
            if let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(100), sub.next()).await
            {
                assert_eq!(&m.payload[..], b"hello");
                return;
            }
        }
    })
    .await;

    // A hubwire spoke on B hears a NATS client on A, and answers its requests.
    let spoke = ready_spoke(b.tcp(), "far spoke").await;
    spoke
        .provide(
            pattern("far/echo"),
            |request| async move { Ok(request.body) },
        )
        .await
        .unwrap();
    let reply = recv_or_fail("a NATS request answered across the bridge", async {
        loop {
            match on_a.request("far.echo", Bytes::from("ping")).await {
                Ok(reply) => return reply,
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    })
    .await;
    assert_eq!(&reply.payload[..], b"ping");
}
