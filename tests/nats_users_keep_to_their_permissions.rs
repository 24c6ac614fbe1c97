//! Guards the hub's users (`docs/security.md`) on its `nats://` listener, with the official
//! `async-nats` client: INFO says credentials are required; a user and password and a token
//! are admitted; a wrong password, an unknown user and no credentials are refused with
//! `-ERR 'Authorization Violation'` and closed, counted in `auth.failures` and slowed down
//! like any transport's; a denied publish or subscription is answered `-ERR 'Permissions
//! Violation for ...'` and the connection stays open; a read-only user receives but cannot
//! publish; requests and their answers need no grant on the reply inboxes.

#[path = "support/nats.rs"]
mod nats_support;
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use hubwire::auth::{hash_password_with, token_sha256, UserSpec};
use nats_support::*;
use support::*;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

fn user(json: serde_json::Value) -> UserSpec {
    serde_json::from_value(json).expect("a user")
}

/// writer: password, may publish and subscribe under news; reader: token, may only subscribe
/// under news; asker: may publish to svc.* (requests) and nothing else; server: may
/// subscribe to svc.* and publish nothing (its answers go to reply inboxes).
fn users() -> BTreeMap<String, UserSpec> {
    // Cheap argon2 parameters: the checks are real, the test stays quick.
    let hash = |password: &str| hash_password_with(password, 8, 1);
    BTreeMap::from([
        (
            "writer".to_owned(),
            user(serde_json::json!({
                "password_hash": hash("quill"),
                "permissions": {"publish": ["news/**"], "subscribe": ["news/**"]}
            })),
        ),
        (
            "reader".to_owned(),
            user(serde_json::json!({
                "token_sha256": token_sha256("reader-token-0123456789"),
                "permissions": {"subscribe": ["news/**"]}
            })),
        ),
        (
            "asker".to_owned(),
            user(serde_json::json!({
                "password_hash": hash("ask"),
                "permissions": {"publish": ["svc/*"]}
            })),
        ),
        (
            "server".to_owned(),
            user(serde_json::json!({
                "password_hash": hash("serve"),
                "permissions": {"subscribe": ["svc/*"]}
            })),
        ),
    ])
}

fn hub_with_users(failure_delay: Duration) -> TestServer {
    let mut config = nats_hub_config(0, 0);
    config.users = users();
    config.auth_failure_delay = failure_delay;
    config.auth_failure_max_delay = failure_delay.max(config.auth_failure_max_delay);
    start_nats_hub(config)
}

fn as_user(user: &str, password: &str) -> async_nats::ConnectOptions {
    async_nats::ConnectOptions::with_user_and_password(user.into(), password.into())
}

/// Options that pass the `-ERR`s the server sends on to `errors`.
fn reporting(
    options: async_nats::ConnectOptions,
) -> (async_nats::ConnectOptions, mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let options = options.event_callback(move |event| {
        let tx = tx.clone();
        async move {
            if let async_nats::Event::ServerError(e) = event {
                let _ = tx.send(e.to_string());
            }
        }
    });
    (options, rx)
}

async fn next_error(errors: &mut mpsc::UnboundedReceiver<String>) -> String {
    recv_or_fail("an -ERR from the hub", errors.recv())
        .await
        .expect("an error")
}

/// What `subscription` gets once `publisher` publishes its subject as the payload to
/// `subject` until it arrives (these users may not publish the barrier request of
/// `nats_support::subscribed`, so this waits for the subscription to be in force).
async fn delivered(
    publisher: &async_nats::Client,
    subject: &str,
    subscription: &mut async_nats::Subscriber,
) -> async_nats::Message {
    recv_or_fail("a delivered message", async {
        loop {
            publisher
                .publish(subject.to_owned(), Bytes::from(subject.to_owned()))
                .await
                .unwrap();
            publisher.flush().await.unwrap();
            let next = tokio::time::timeout(Duration::from_millis(50), subscription.next());
            if let Ok(Some(m)) = next.await {
                return m;
            }
        }
    })
    .await
}

fn counter(server: &TestServer, name: &str, labels: &[(&str, &str)]) -> u64 {
    server
        .registry
        .snapshot()
        .counter(name, labels)
        .unwrap_or(0)
}

async fn refused(server: &TestServer, options: async_nats::ConnectOptions) -> String {
    let attempt = tokio::time::timeout(PATIENCE, options.connect(server.nats_url()))
        .await
        .expect("an answer in time");
    match attempt {
        Ok(_) => panic!("admitted"),
        Err(e) => e.to_string(),
    }
}

/// One CONNECT over a raw socket: the lines after INFO the hub answers until it closes or
/// `PONG`.
async fn raw_connect(server: &TestServer, connect: &str) -> Vec<String> {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", server.nats_port()))
        .await
        .unwrap();
    let (rd, mut wr) = stream.into_split();
    let mut lines = BufReader::new(rd).lines();
    let info = recv_or_fail("INFO", lines.next_line()).await.unwrap();
    assert!(info.is_some_and(|i| i.contains("\"auth_required\":true")));
    wr.write_all(format!("CONNECT {connect}\r\nPING\r\n").as_bytes())
        .await
        .unwrap();
    let mut seen = Vec::new();
    while let Some(line) = recv_or_fail("a line", lines.next_line()).await.unwrap() {
        let pong = line == "PONG";
        seen.push(line);
        if pong {
            break;
        }
    }
    seen
}

#[actix::test]
async fn users_are_admitted_by_password_or_token_and_others_refused() {
    let hub = hub_with_users(Duration::from_millis(1));

    let writer = nats_client_with(&hub.nats_url(), as_user("writer", "quill")).await;
    assert!(writer.server_info().auth_required);
    let reader = nats_client_with(
        &hub.nats_url(),
        async_nats::ConnectOptions::with_token("reader-token-0123456789".into()),
    )
    .await;
    let mut news = reader.subscribe("news.today").await.unwrap();
    reader.flush().await.unwrap();
    let got = delivered(&writer, "news.today", &mut news).await;
    assert_eq!(got.subject.as_str(), "news.today");

    for (options, why) in [
        (as_user("writer", "wrong"), "a wrong password"),
        (as_user("nobody", "quill"), "an unknown user"),
        (
            async_nats::ConnectOptions::with_token("not-a-token".into()),
            "a wrong token",
        ),
        (async_nats::ConnectOptions::new(), "no credentials"),
    ] {
        let error = refused(&hub, options).await;
        assert!(error.contains("authorization violation"), "{why}: {error}");
    }
    assert_eq!(
        counter(&hub, "auth.failures", &[("reason", "bad-password")]),
        1
    );
    assert!(counter(&hub, "auth.failures", &[("reason", "unknown-user")]) >= 1);

    // The exact text, then the close, as nats-server.
    let lines = raw_connect(&hub, r#"{"user":"writer","pass":"nope"}"#).await;
    assert_eq!(lines, ["-ERR 'Authorization Violation'"]);
    let lines = raw_connect(&hub, r#"{"user":"writer","pass":"quill"}"#).await;
    assert_eq!(lines, ["PONG"]);
}

#[actix::test]
async fn denied_publishes_and_subscriptions_get_their_violation_and_the_connection_stays() {
    let hub = hub_with_users(Duration::from_millis(1));
    let (options, mut errors) = reporting(as_user("writer", "quill"));
    let writer = nats_client_with(&hub.nats_url(), options).await;

    writer
        .publish("secret.plans", Bytes::from_static(b"x"))
        .await
        .unwrap();
    writer.flush().await.unwrap();
    assert_eq!(
        next_error(&mut errors).await,
        "nats: Permissions Violation for Publish to \"secret.plans\""
    );

    let _denied = writer.subscribe("secret.>").await.unwrap();
    writer.flush().await.unwrap();
    assert_eq!(
        next_error(&mut errors).await,
        "nats: Permissions Violation for Subscription to \"secret.>\""
    );
    // A pattern wider than the grant is denied too.
    let _wider = writer.subscribe(">").await.unwrap();
    writer.flush().await.unwrap();
    assert_eq!(
        next_error(&mut errors).await,
        "nats: Permissions Violation for Subscription to \">\""
    );

    // Still connected and served within its grant.
    let mut news = writer.subscribe("news.*").await.unwrap();
    let m = delivered(&writer, "news.now", &mut news).await;
    assert_eq!(&m.payload[..], b"news.now");
    assert_eq!(
        writer.connection_state(),
        async_nats::connection::State::Connected
    );
}

#[actix::test]
async fn a_read_only_user_receives_but_cannot_publish() {
    let hub = hub_with_users(Duration::from_millis(1));
    let (options, mut errors) = reporting(async_nats::ConnectOptions::with_token(
        "reader-token-0123456789".into(),
    ));
    let reader = nats_client_with(&hub.nats_url(), options).await;
    let writer = nats_client_with(&hub.nats_url(), as_user("writer", "quill")).await;
    let mut news = reader.subscribe("news.>").await.unwrap();
    reader.flush().await.unwrap();

    reader
        .publish("news.fake", Bytes::from_static(b"no"))
        .await
        .unwrap();
    reader.flush().await.unwrap();
    assert_eq!(
        next_error(&mut errors).await,
        "nats: Permissions Violation for Publish to \"news.fake\""
    );
    // Requests need a publish grant too.
    let request = reader.request("news.ask", Bytes::new());
    let _ = tokio::time::timeout(Duration::from_secs(1), request).await;
    assert_eq!(
        next_error(&mut errors).await,
        "nats: Permissions Violation for Publish to \"news.ask\""
    );

    let got = delivered(&writer, "news.a.b", &mut news).await;
    assert_eq!(&got.payload[..], b"news.a.b");
    assert_eq!(got.subject.as_str(), "news.a.b");
}

#[actix::test]
async fn requests_and_answers_need_no_grant_on_reply_inboxes() {
    let hub = hub_with_users(Duration::from_millis(1));
    let server = nats_client_with(&hub.nats_url(), as_user("server", "serve")).await;
    let mut calls = server.subscribe("svc.*").await.unwrap();
    server.flush().await.unwrap();
    let answering = server.clone();
    let responder = tokio::spawn(async move {
        while let Some(call) = calls.next().await {
            let reply = call.reply.expect("a reply subject");
            let mut answer = b"re: ".to_vec();
            answer.extend_from_slice(&call.payload);
            answering.publish(reply, answer.into()).await.unwrap();
        }
    });

    let (options, mut errors) = reporting(as_user("asker", "ask"));
    let asker = nats_client_with(&hub.nats_url(), options).await;
    let answer = recv_or_fail("an answer", async {
        loop {
            // The server's subscription may not be in force yet: no responders, then retry.
            match asker.request("svc.echo", Bytes::from_static(b"hi")).await {
                Ok(answer) => return answer,
                Err(e) if e.kind() == async_nats::RequestErrorKind::NoResponders => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await;
    assert_eq!(&answer.payload[..], b"re: hi");
    assert!(errors.try_recv().is_err(), "no violation on the inboxes");

    // Somebody else's inboxes as a whole are not the asker's.
    let _all = asker.subscribe("_INBOX.>").await.unwrap();
    asker.flush().await.unwrap();
    assert_eq!(
        next_error(&mut errors).await,
        "nats: Permissions Violation for Subscription to \"_INBOX.>\""
    );
    responder.abort();
}

#[actix::test]
async fn repeated_failures_from_one_address_are_slowed_down() {
    let hub = hub_with_users(Duration::from_secs(1));
    for _ in 0..2 {
        let error = refused(&hub, as_user("writer", "wrong")).await;
        assert!(error.contains("authorization violation"), "{error}");
    }
    assert_eq!(
        counter(&hub, "auth.failures", &[("reason", "bad-password")]),
        2
    );
    // The second attempt waited out the first failure's delay before it was checked.
    assert_eq!(counter(&hub, "auth.delayed", &[]), 1);
    let started = std::time::Instant::now();
    let _writer = nats_client_with(&hub.nats_url(), as_user("writer", "quill")).await;
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "the right password waits out the delay too: {:?}",
        started.elapsed()
    );
    assert_eq!(counter(&hub, "auth.delayed", &[]), 2);
}
