//! Guards authentication and permissions over real sockets: on a server with users a peer
//! without credentials, with a wrong password or an unknown name is refused (ERROR denied,
//! then closed); a token and a TLS client certificate authenticate; a denied call, publish or
//! subscription is answered `denied` naming it and the connection stays open; a read-only user
//! subscribes but cannot publish; failing addresses are slowed down and counted.

mod support;

use std::collections::BTreeMap;

use hubwire::auth::{hash_password_with, token_sha256, Credentials, UserSpec};
use hubwire::hub::HubLimits;
use hubwire::prelude::*;
use hubwire::protocol::{
    kind, Auth, AuthOk, Envelope, MessageFlags, Ping, Publish, Refused, Subscribe,
};
use hubwire::pubsub::{Channel, Pattern};
use hubwire::spoke::{SpokeError, SpokeSpec};
use hubwire::tls::{ClientAuth, TlsClient};
use support::certs::Pki;
use support::hub::quick_spoke_options;
use support::{all_test_routes, loopback_config, recv_or_fail, Echo, Message, Raw, TestServer};

/// Cheap argon2 parameters: the checks are real, the test stays quick.
fn hash(password: &str) -> String {
    hash_password_with(password, 8, 1)
}

fn user(json: serde_json::Value) -> UserSpec {
    serde_json::from_value(json).expect("a user")
}

/// alice: password, may call test.*; reader: token, may subscribe to news/** only;
/// writer: password, may publish to news/*; device: a TLS identity, may call test.echo.
fn users() -> BTreeMap<String, UserSpec> {
    BTreeMap::from([
        (
            "alice".to_owned(),
            user(serde_json::json!({
                "password_hash": hash("wonderland"),
                "permissions": {"call": ["test.*"]}
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
            "writer".to_owned(),
            user(serde_json::json!({
                "password_hash": hash("quill"),
                "permissions": {"publish": ["news/*"], "subscribe": ["news/**"]}
            })),
        ),
        (
            "device".to_owned(),
            user(serde_json::json!({
                "tls_identity": "device-17",
                "permissions": {"call": ["test.echo"]}
            })),
        ),
    ])
}

fn hub_with_users() -> TestServer {
    let mut config = loopback_config();
    config.users = users();
    TestServer::start(config, |b| all_test_routes(b).hub(HubLimits::default())).unwrap()
}

fn client_as(server: &TestServer, credentials: Option<Credentials>) -> Client {
    let options = ClientOptions {
        credentials,
        ..ClientOptions::default()
    };
    Client::with_options(server.tcp(), options)
}

async fn echo(client: &Client) -> Result<Message, CallError> {
    let hi = Message {
        message: "hi".into(),
    };
    recv_or_fail("an echo", client.call::<Echo>(&hi)).await
}

fn denied_message(err: CallError) -> String {
    match err {
        CallError::Remote {
            code: ErrorCode::Denied,
            message,
        } => message,
        other => panic!("expected denied, got {other:?}"),
    }
}

fn counter(server: &TestServer, name: &str, labels: &[(&str, &str)]) -> u64 {
    server
        .registry
        .snapshot()
        .counter(name, labels)
        .unwrap_or(0)
}

/// A raw connection that sends CONN and AUTH and reads CONN.
async fn raw_auth(server: &TestServer, credentials: Credentials) -> Raw {
    let mut raw = Raw::handshake(&server.tcp()).await;
    raw.send_envelope(&Auth { credentials }).await;
    raw
}

#[actix::test]
async fn a_peer_without_credentials_is_refused_and_closed() {
    let server = hub_with_users();
    let err = echo(&client_as(&server, None)).await.unwrap_err();
    assert!(
        denied_message(err).contains("authentication required"),
        "the message says what to give"
    );
    // On the wire: CONN, then ERROR denied for the first frame, then the close.
    let mut raw = Raw::handshake(&server.tcp()).await;
    raw.send_envelope(&Ping { nonce: 1 }).await;
    let err = raw.expect_error().await;
    assert_eq!(err.code, ErrorCode::Denied);
    raw.expect_closed().await;
    assert!(counter(&server, "requests.dispatched", &[("route", "test.echo")]) == 0);
}

/// A WebSocket peer goes through the same session: refused without credentials, served with
/// them, and held to the same grant.
#[actix::test]
async fn a_websocket_peer_authenticates_like_any_other() {
    let mut config = loopback_config();
    config.users = users();
    config.listen.push("ws://127.0.0.1:0".parse().unwrap());
    let server =
        TestServer::start(config, |b| all_test_routes(b).hub(HubLimits::default())).unwrap();
    let ws = server
        .addresses
        .iter()
        .find(|a| a.scheme() == "ws")
        .cloned()
        .expect("a ws listener");
    let over_ws = |credentials| {
        let options = ClientOptions {
            credentials,
            ..ClientOptions::default()
        };
        Client::with_options(ws.clone(), options)
    };
    let err = echo(&over_ws(None)).await.unwrap_err();
    assert!(denied_message(err).contains("authentication required"));
    let alice = over_ws(Some(Credentials::password("alice", "wonderland")));
    assert_eq!(echo(&alice).await.unwrap().message, "hi");
    let reader = over_ws(Some(Credentials::token("reader-token-0123456789")));
    assert!(denied_message(echo(&reader).await.unwrap_err()).contains("test.echo"));
}

#[actix::test]
async fn a_wrong_password_and_an_unknown_user_are_refused_alike_and_counted_apart() {
    let server = hub_with_users();
    let wrong = client_as(
        &server,
        Some(Credentials::password("alice", "looking-glass")),
    );
    let wrong = denied_message(echo(&wrong).await.unwrap_err());
    let unknown = client_as(
        &server,
        Some(Credentials::password("mallory", "wonderland")),
    );
    let unknown = denied_message(echo(&unknown).await.unwrap_err());
    assert_eq!(wrong, "authentication failed: wrong user name or password");
    assert_eq!(wrong, unknown, "the peer cannot tell which part was wrong");
    assert_eq!(
        counter(&server, "auth.failures", &[("reason", "bad-password")]),
        1
    );
    assert_eq!(
        counter(&server, "auth.failures", &[("reason", "unknown-user")]),
        1
    );
    // The connection is closed after the refusal.
    let mut raw = raw_auth(&server, Credentials::password("alice", "nope")).await;
    assert_eq!(raw.expect_error().await.code, ErrorCode::Denied);
    raw.expect_closed().await;
}

#[actix::test]
async fn a_missing_or_wrong_token_is_refused_and_a_right_one_accepted() {
    let server = hub_with_users();
    let wrong = client_as(&server, Some(Credentials::token("not-the-token")));
    let message = denied_message(echo(&wrong).await.unwrap_err());
    assert!(message.contains("token"), "{message}");
    let mut raw = raw_auth(&server, Credentials::token("reader-token-0123456789")).await;
    let ok = raw.recv().await.expect("AUTH_OK");
    assert_eq!(ok.kind, kind::AUTH_OK);
    assert_eq!(AuthOk::from_frame(&ok).unwrap().user, "reader");
    assert_eq!(counter(&server, "auth.succeeded", &[]), 1);
}

#[actix::test]
async fn a_route_outside_the_users_grant_is_denied_and_the_connection_stays_open() {
    let server = hub_with_users();
    // alice may call test.*; reader may call nothing.
    let alice = client_as(&server, Some(Credentials::password("alice", "wonderland")));
    assert_eq!(echo(&alice).await.unwrap().message, "hi");
    let reader = client_as(&server, Some(Credentials::token("reader-token-0123456789")));
    let message = denied_message(echo(&reader).await.unwrap_err());
    assert!(
        message.contains("\"reader\"") && message.contains("test.echo"),
        "{message}"
    );
    let again = denied_message(echo(&reader).await.unwrap_err());
    assert_eq!(again, message, "the same connection answers again");
    assert_eq!(
        counter(&server, "requests.dispatched", &[("route", "test.echo")]),
        1
    );
}

#[actix::test]
async fn a_read_only_user_subscribes_but_cannot_publish() {
    let server = hub_with_users();
    let mut raw = raw_auth(&server, Credentials::token("reader-token-0123456789")).await;
    assert_eq!(raw.recv().await.unwrap().kind, kind::AUTH_OK);
    // A subscription inside the grant is applied; the PING barrier answers after it.
    let inside = Subscribe::new(1, Pattern::parse("news/*").unwrap());
    raw.send_envelope(&inside).await;
    // A publish is refused, naming the channel.
    let publish = Publish {
        channel: Channel::parse("news/today").unwrap(),
        flags: MessageFlags::NONE,
        reply_to: None,
        headers: Default::default(),
        body: "x".into(),
    };
    raw.send_envelope(&publish).await;
    let refused = raw.recv().await.expect("REFUSED");
    assert_eq!(refused.kind, kind::REFUSED);
    let refused = Refused::from_frame(&refused).unwrap();
    assert_eq!(refused.code, ErrorCode::Denied);
    assert_eq!(refused.sid, None);
    assert!(
        refused
            .message
            .contains("publish to channel \"news/today\""),
        "{}",
        refused.message
    );
    // A subscription outside the grant is refused under its sid.
    raw.send_envelope(&Subscribe::new(2, Pattern::parse("**").unwrap()))
        .await;
    raw.send_envelope(&Ping { nonce: 9 }).await;
    let refused = Refused::from_frame(&raw.recv().await.unwrap()).unwrap();
    assert_eq!((refused.sid, refused.code), (Some(2), ErrorCode::Denied));
    assert!(
        refused.message.contains("subscribe to \"**\""),
        "{}",
        refused.message
    );
    // Still open: the PONG comes.
    let pong = raw.recv().await.expect("PONG");
    assert_eq!(pong.kind, kind::PONG);
}

#[actix::test]
async fn spokes_authenticate_and_a_subscription_outside_the_grant_fails_typed() {
    let server = hub_with_users();
    let spoke_as = |credentials: Credentials| {
        let mut options = quick_spoke_options();
        options.credentials = Some(credentials);
        SpokeSpec::new(server.tcp())
            .options(options)
            .start(&StatsRegistry::new())
    };
    // The supervisors are kept: dropping one stops its spoke.
    let (reader, _reader_supervisor) = spoke_as(Credentials::token("reader-token-0123456789"));
    let (writer, _writer_supervisor) = spoke_as(Credentials::password("writer", "quill"));
    reader
        .ready(support::PATIENCE)
        .await
        .expect("the reader connects");
    writer
        .ready(support::PATIENCE)
        .await
        .expect("the writer connects");
    let (_, mut news) = reader
        .subscribe(Pattern::parse("news/**").unwrap())
        .await
        .unwrap();
    let err = reader
        .subscribe(Pattern::parse("alerts/*").unwrap())
        .await
        .unwrap_err();
    match err {
        SpokeError::Refused { code, message, .. } => {
            assert_eq!(code, ErrorCode::Denied);
            assert!(message.contains("alerts/*"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    writer
        .publish(Channel::parse("news/today").unwrap(), "extra".into())
        .await
        .unwrap();
    let got = recv_or_fail("the news", news.recv()).await.unwrap();
    assert_eq!(&got.body[..], b"extra");
}

#[actix::test]
async fn a_tls_identity_is_its_mapped_user_with_its_permissions() {
    let pki = Pki::new("test-ca");
    let mut config = loopback_config();
    config.listen.push("tls://127.0.0.1:0".parse().unwrap());
    config.tls = Some(pki.server_config(&pki.server(&["127.0.0.1"]), ClientAuth::Optional));
    config.users = users();
    config.users.insert(
        "admin".into(),
        user(serde_json::json!({"password_hash": hash("root"), "permissions": {"call": ["**"], "admin": true}})),
    );
    let server = TestServer::start(config, all_test_routes).unwrap();
    let tls_as = |name: &str| {
        let cert = pki.client(name);
        let tls = TlsClient::builder()
            .ca_file(pki.ca_file())
            .client_cert(&cert.cert_file, &cert.key_file)
            .build()
            .unwrap();
        Client::with_options(
            server.tls_address(),
            ClientOptions {
                tls: Some(tls),
                ..ClientOptions::default()
            },
        )
    };
    // device-17 maps to "device", which may call test.echo and nothing else: no AUTH sent.
    let device = tls_as("device-17");
    assert_eq!(echo(&device).await.unwrap().message, "hi");
    let x = "x".to_owned();
    let failed = device.call::<support::Fail>(&x);
    let message = denied_message(recv_or_fail("a refusal", failed).await.unwrap_err());
    assert!(
        message.contains("\"device\"") && message.contains("test.fail"),
        "{message}"
    );
    // A certificate that names no user is still asked to authenticate.
    let stranger = tls_as("stranger");
    let message = denied_message(echo(&stranger).await.unwrap_err());
    assert!(message.contains("authentication required"), "{message}");
}

#[actix::test]
async fn repeated_failures_from_one_address_are_slowed_down_and_counted() {
    let mut config = loopback_config();
    config.users = users();
    // Long enough that the next attempt always comes inside the delay.
    config.auth_failure_delay = std::time::Duration::from_secs(1);
    let server = TestServer::start(config, all_test_routes).unwrap();
    for _ in 0..2 {
        let wrong = client_as(&server, Some(Credentials::password("alice", "wrong")));
        denied_message(echo(&wrong).await.unwrap_err());
    }
    assert_eq!(
        counter(&server, "auth.failures", &[("reason", "bad-password")]),
        2
    );
    // The second attempt waited out the first failure's delay before it was checked.
    assert_eq!(counter(&server, "auth.delayed", &[]), 1);
    let snapshot = server.registry.snapshot();
    assert_eq!(snapshot.gauge("auth.throttled_addresses", &[]), Some(1));
    // The right password is still checked (after the delay), and clears the address.
    let right = client_as(&server, Some(Credentials::password("alice", "wonderland")));
    assert_eq!(echo(&right).await.unwrap().message, "hi");
    assert_eq!(counter(&server, "auth.delayed", &[]), 2);
    let snapshot = server.registry.snapshot();
    assert_eq!(snapshot.gauge("auth.throttled_addresses", &[]), Some(0));
}

#[actix::test]
async fn plain_text_passwords_and_udp_with_users_are_refused_at_start() {
    let mut config = loopback_config();
    config.users = BTreeMap::from([(
        "alice".to_owned(),
        user(serde_json::json!({"password": "wonderland"})),
    )]);
    let err = TestServer::start(config, all_test_routes).err().unwrap();
    assert!(err.contains("plain-text passwords are refused"), "{err}");
    let mut config = loopback_config();
    config.users = users();
    config.listen.push("udp://127.0.0.1:0".parse().unwrap());
    let err = TestServer::start(config, all_test_routes).err().unwrap();
    assert!(err.contains("UDP carries no authentication"), "{err}");
}

#[actix::test]
async fn a_queued_sender_authenticates_and_one_without_credentials_parks_its_items() {
    use hubwire::queue::{QueueAdmin, StoreHandle};
    use hubwire::sender::{Destination, SenderSpec};
    use hubwire::store::MemoryStore;
    let server = hub_with_users();
    let store = StoreHandle::start(Box::new(MemoryStore::new())).unwrap();
    let registry = StatsRegistry::new();
    let to_echo = || Destination::new(server.tcp(), "test.echo");
    let (with, _with_supervisor) = SenderSpec::new("with", to_echo())
        .credentials(Credentials::password("alice", "wonderland"))
        .start(&store, &registry)
        .unwrap();
    let (without, _without_supervisor) = SenderSpec::new("without", to_echo())
        .start(&store, &registry)
        .unwrap();
    let message = Message {
        message: "queued".into(),
    };
    with.send(&message).await.unwrap();
    without.send(&message).await.unwrap();
    let admin = QueueAdmin::senders(store.clone());
    recv_or_fail("the delivery and the parking", async {
        loop {
            let delivered = admin.data("with").await.unwrap().processed;
            let parked = admin.data("without").await.unwrap().errors;
            if delivered == 1 && parked == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await;
    assert_eq!(
        counter(&server, "requests.dispatched", &[("route", "test.echo")]),
        1
    );
}

#[actix::test]
async fn bridges_between_hubs_with_users_keep_to_their_shared_secret() {
    use support::bridge::{bridged_hub_config, probe, secret, target};
    use support::hub::free_port;
    let (a_port, b_port) = (free_port(), free_port());
    let mut b_config = bridged_hub_config(b_port, Vec::new(), &secret());
    b_config.users = users();
    let b = TestServer::start(b_config, |b| b.hub(HubLimits::default())).unwrap();
    let mut a_config = bridged_hub_config(a_port, vec![target(b_port)], &secret());
    a_config.users = users();
    let a = TestServer::start(a_config, |b| b.hub(HubLimits::default())).unwrap();
    let spoke_as = |hub: &TestServer, credentials: Credentials| {
        let mut options = quick_spoke_options();
        options.credentials = Some(credentials);
        SpokeSpec::new(hub.tcp())
            .options(options)
            .start(&StatsRegistry::new())
    };
    let (writer, _w) = spoke_as(&b, Credentials::password("writer", "quill"));
    let (reader, _r) = spoke_as(&a, Credentials::token("reader-token-0123456789"));
    writer.ready(support::PATIENCE).await.unwrap();
    reader.ready(support::PATIENCE).await.unwrap();
    let (_, mut rx) = reader
        .subscribe(Pattern::parse("news/*").unwrap())
        .await
        .unwrap();
    // The writer's publishes cross the bridge A dialled (no user, the secret) to the reader.
    probe(&writer, "news/bridged", &mut rx).await;
}

#[actix::test]
async fn a_call_over_pubsub_needs_only_a_publish_grant_and_its_answer_only_a_subscribe_grant() {
    let server = hub_with_users();
    let spoke_as = |credentials: Credentials| {
        let mut options = quick_spoke_options();
        options.credentials = Some(credentials);
        SpokeSpec::new(server.tcp())
            .options(options)
            .start(&StatsRegistry::new())
    };
    // writer may publish to news/* (and so call there); reader may only subscribe (and so
    // serve, answering into the caller's inbox without a grant).
    let (caller, _c) = spoke_as(Credentials::password("writer", "quill"));
    let (provider, _p) = spoke_as(Credentials::token("reader-token-0123456789"));
    caller.ready(support::PATIENCE).await.unwrap();
    provider.ready(support::PATIENCE).await.unwrap();
    provider
        .provide(Pattern::parse("news/echo").unwrap(), |request| async move {
            Ok(request.body)
        })
        .await
        .unwrap();
    let reply = support::bridge::call_until_answered(&caller, "news/echo").await;
    assert_eq!(&reply[..], b"hi");
}

hubwire::route!(pub Drill = "hubwire.fault.drill", () => ());

#[actix::test]
async fn a_mutating_operator_endpoint_needs_an_admin_user() {
    use hubwire::routing::FnEndpoint;
    let mut config = loopback_config();
    config.users = users();
    config.users.insert(
        "ops".into(),
        user(serde_json::json!({"password_hash": hash("root"), "permissions": {"call": ["**"], "admin": true}})),
    );
    config.users.insert(
        "viewer".into(),
        user(serde_json::json!({"password_hash": hash("look"), "permissions": {"call": ["**"]}})),
    );
    let server = TestServer::start(config, |b| {
        let drill = FnEndpoint::<Drill>::new(b.registry(), |(), _peer| Ok(()));
        all_test_routes(b).endpoint(drill)
    })
    .unwrap();
    let viewer = client_as(&server, Some(Credentials::password("viewer", "look")));
    let refused = recv_or_fail("a refusal", viewer.call::<Drill>(&())).await;
    let message = denied_message(refused.unwrap_err());
    assert!(message.contains("permissions.admin"), "{message}");
    let ops = client_as(&server, Some(Credentials::password("ops", "root")));
    recv_or_fail("the drill", ops.call::<Drill>(&()))
        .await
        .unwrap();
}

#[actix::test]
async fn credentials_sent_to_a_server_without_users_change_nothing() {
    let server = TestServer::with_test_routes(loopback_config());
    let client = client_as(&server, Some(Credentials::password("alice", "anything")));
    assert_eq!(echo(&client).await.unwrap().message, "hi");
    let mut raw = raw_auth(&server, Credentials::token("whatever")).await;
    let ok = AuthOk::from_frame(&raw.recv().await.expect("AUTH_OK")).unwrap();
    assert_eq!(ok.user, "", "no user on a server without users");
}
