//! Guards TLS on a hub's `nats://` listener (`nats_tls`), nats-server's way, with the official
//! `async-nats` client and certificates made by the test: INFO in plain text says
//! `tls_required`, the client upgrades, and pub/sub and credentials run inside TLS; a client
//! that does not upgrade gets nothing more and is closed; one that does not trust the
//! certificate fails; a client certificate naming a user (`tls_identity`) admits the client
//! as that user without credentials; and `nats_tls` without a `tls` block is a start error.

#[path = "support/nats.rs"]
mod nats_support;
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use hubwire::auth::{hash_password_with, UserSpec};
use hubwire::hub::HubLimits;
use hubwire::tls::ClientAuth;
use nats_support::*;
use support::certs::{Issued, Pki};
use support::*;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

fn user(json: serde_json::Value) -> UserSpec {
    serde_json::from_value(json).expect("a user")
}

/// writer: password, may publish and subscribe under news; device: the TLS identity
/// `device-17`, may publish under dev.
fn users() -> BTreeMap<String, UserSpec> {
    BTreeMap::from([
        (
            "writer".to_owned(),
            user(serde_json::json!({
                "password_hash": hash_password_with("quill", 8, 1),
                "permissions": {"publish": ["news/**"], "subscribe": ["news/**", "dev/**"]}
            })),
        ),
        (
            "device".to_owned(),
            user(serde_json::json!({
                "tls_identity": "device-17",
                "permissions": {"publish": ["dev/*"]}
            })),
        ),
    ])
}

/// A hub whose `nats://` listener requires TLS with `server`'s certificate; client
/// certificates are optional; with or without users.
fn tls_hub(pki: &Pki, server: &Issued, with_users: bool) -> TestServer {
    let mut config = nats_hub_config(0, 0);
    config.nats_tls = true;
    config.tls = Some(pki.server_config(server, ClientAuth::Optional));
    if with_users {
        config.users = users();
        config.auth_failure_delay = Duration::from_millis(1);
    }
    start_nats_hub(config)
}

fn trusting(pki: &Pki) -> async_nats::ConnectOptions {
    async_nats::ConnectOptions::new().add_root_certificates(pki.ca_file())
}

#[actix::test]
async fn clients_upgrade_after_info_and_pub_sub_runs_inside_tls() {
    let pki = Pki::new("nats-ca");
    let hub = tls_hub(&pki, &pki.server(&["127.0.0.1"]), false);
    let client = nats_client_with(&hub.nats_url(), trusting(&pki)).await;
    assert!(client.server_info().tls_required);
    let mut sub = client.subscribe("secure.*").await.unwrap();
    subscribed(&client).await;
    client
        .publish("secure.one", Bytes::from_static(b"sealed"))
        .await
        .unwrap();
    let m = recv_or_fail("a message over TLS", sub.next())
        .await
        .unwrap();
    assert_eq!(&m.payload[..], b"sealed");
    let other = nats_client_with(&hub.nats_url(), trusting(&pki)).await;
    let answer = recv_or_fail(
        "no responders over TLS",
        other.request("none.here", Bytes::new()),
    )
    .await
    .expect_err("nobody answers");
    assert_eq!(answer.kind(), async_nats::RequestErrorKind::NoResponders);
}

#[actix::test]
async fn a_client_that_does_not_upgrade_or_does_not_trust_the_certificate_is_not_served() {
    let pki = Pki::new("nats-ca");
    let hub = tls_hub(&pki, &pki.server(&["127.0.0.1"]), false);

    // Plain text after INFO: the handshake fails and the socket is closed, unanswered.
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", hub.nats_port()))
        .await
        .unwrap();
    let (rd, mut wr) = stream.into_split();
    let mut rd = BufReader::new(rd);
    let mut info = String::new();
    recv_or_fail("INFO", rd.read_line(&mut info)).await.unwrap();
    assert!(info.starts_with("INFO {"), "{info}");
    assert!(info.contains("\"tls_required\":true"), "{info}");
    wr.write_all(b"CONNECT {}\r\nPING\r\n").await.unwrap();
    let mut rest = Vec::new();
    let _ = recv_or_fail("the close", rd.read_to_end(&mut rest)).await;
    assert!(
        !String::from_utf8_lossy(&rest).contains("PONG"),
        "served in plain text: {rest:?}"
    );

    // A client with another CA's roots refuses the certificate.
    let other = Pki::new("other-ca");
    let attempt = async_nats::ConnectOptions::new()
        .add_root_certificates(other.ca_file())
        .connection_timeout(Duration::from_secs(5))
        .connect(hub.nats_url());
    let result = tokio::time::timeout(PATIENCE, attempt)
        .await
        .expect("in time");
    assert!(
        result.is_err(),
        "a certificate of an unknown CA was accepted"
    );
    // Both failed upgrades are counted (the server may learn of the second a moment after
    // the client gave up).
    let failed = || {
        hub.registry
            .snapshot()
            .counter(
                "connections.tls_handshakes_failed",
                &[("transport", "nats")],
            )
            .unwrap_or(0)
    };
    recv_or_fail("two failed upgrades counted", async {
        while failed() < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

#[actix::test]
async fn a_client_certificate_naming_a_user_admits_it_as_that_user() {
    let pki = Pki::new("nats-ca");
    let hub = tls_hub(&pki, &pki.server(&["127.0.0.1"]), true);
    let writer = nats_client_with(
        &hub.nats_url(),
        trusting(&pki).user_and_password("writer".into(), "quill".into()),
    )
    .await;
    assert!(writer.server_info().auth_required && writer.server_info().tls_required);
    let mut readings = writer.subscribe("dev.*").await.unwrap();
    writer.flush().await.unwrap();

    let cert = pki.client("device-17");
    let (tx, mut errors) = tokio::sync::mpsc::unbounded_channel();
    let device = nats_client_with(
        &hub.nats_url(),
        trusting(&pki)
            .add_client_certificate(cert.cert_file.clone(), cert.key_file.clone())
            .event_callback(move |event| {
                let tx = tx.clone();
                async move {
                    if let async_nats::Event::ServerError(e) = event {
                        let _ = tx.send(e.to_string());
                    }
                }
            }),
    )
    .await;
    // Held to the device's permissions: dev.* yes, news no.
    device
        .publish("news.fake", Bytes::from_static(b"no"))
        .await
        .unwrap();
    device.flush().await.unwrap();
    let error = recv_or_fail("the violation", errors.recv()).await.unwrap();
    assert_eq!(
        error,
        "nats: Permissions Violation for Publish to \"news.fake\""
    );
    let m = recv_or_fail("the device's reading", async {
        loop {
            device
                .publish("dev.temp", Bytes::from_static(b"21"))
                .await
                .unwrap();
            device.flush().await.unwrap();
            let next = tokio::time::timeout(Duration::from_millis(50), readings.next());
            if let Ok(Some(m)) = next.await {
                return m;
            }
        }
    })
    .await;
    assert_eq!(&m.payload[..], b"21");

    // Without the certificate and without credentials: refused.
    let refused = tokio::time::timeout(PATIENCE, trusting(&pki).connect(hub.nats_url()))
        .await
        .expect("in time");
    let error = refused.expect_err("refused").to_string();
    assert!(error.contains("authorization violation"), "{error}");
}

#[test]
fn nats_tls_without_a_certificate_is_a_start_error() {
    let mut config = nats_hub_config(0, 0);
    config.nats_tls = true;
    let error = TestServer::start(config, |b| b.hub(HubLimits::default()))
        .err()
        .expect("refused at start")
        .to_string();
    assert!(
        error.contains("nats://") && error.contains("tls.cert_file"),
        "{error}"
    );
}
