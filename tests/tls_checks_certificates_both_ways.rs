//! Guards TLS on `tls://` listeners and diallers: requests and replies over TLS with a CA file,
//! servers refused for a wrong CA, an expired certificate or another name, client certificates
//! whose subject becomes the peer's identity, and clear errors when one side is not TLS.

mod support;

use hubwire::prelude::*;
use hubwire::routing::FnEndpoint;
use hubwire::tls::{ClientAuth, TlsClient};
use support::certs::{Issued, Pki};
use support::{all_test_routes, loopback_config, recv_or_fail, Echo, Message, TestServer};

route!(pub WhoAmI = "test.whoami", () => Option<String>);

/// A server on `tls://127.0.0.1:0` (and plain `tcp://127.0.0.1:0`) presenting `server`.
fn tls_server(pki: &Pki, server: &Issued, client_auth: ClientAuth) -> TestServer {
    let mut config = loopback_config();
    config.listen.push("tls://127.0.0.1:0".parse().unwrap());
    config.tls = Some(pki.server_config(server, client_auth));
    TestServer::start(config, |builder| {
        let whoami = FnEndpoint::<WhoAmI>::new(builder.registry(), |(), peer| {
            Ok(peer.identity().map(str::to_owned))
        });
        all_test_routes(builder).endpoint(whoami)
    })
    .expect("the TLS server starts")
}

/// Client options trusting `pki`'s CA and showing `cert` to servers that ask.
fn trusting_with_cert(pki: &Pki, cert: &Issued) -> ClientOptions {
    let tls = TlsClient::builder()
        .ca_file(pki.ca_file())
        .client_cert(&cert.cert_file, &cert.key_file)
        .build()
        .unwrap();
    ClientOptions {
        tls: Some(tls),
        ..ClientOptions::default()
    }
}

fn trusting(pki: &Pki) -> ClientOptions {
    ClientOptions {
        tls: Some(TlsClient::builder().ca_file(pki.ca_file()).build().unwrap()),
        ..ClientOptions::default()
    }
}

async fn echo(client: &Client) -> Result<Message, CallError> {
    client
        .call::<Echo>(&Message {
            message: "over tls".into(),
        })
        .await
}

#[actix::test]
async fn requests_are_answered_over_tls_with_a_ca_file() {
    let pki = Pki::new("test-ca");
    let server = tls_server(
        &pki,
        &pki.server(&["127.0.0.1", "localhost"]),
        ClientAuth::None,
    );
    let client = Client::with_options(server.tls_address(), trusting(&pki));
    let reply = recv_or_fail("a reply over TLS", echo(&client))
        .await
        .unwrap();
    assert_eq!(reply.message, "over tls");
    let who = client.call::<WhoAmI>(&()).await.unwrap();
    assert_eq!(who, None, "no client certificate, no identity");
}

#[actix::test]
async fn a_server_signed_by_another_ca_is_refused() {
    let pki = Pki::new("test-ca");
    let other = Pki::new("other-ca");
    let server = tls_server(&other, &other.server(&["127.0.0.1"]), ClientAuth::None);
    let client = Client::with_options(server.tls_address(), trusting(&pki));
    let err = recv_or_fail("a refusal", echo(&client)).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("certificate") && text.contains("UnknownIssuer"),
        "{text}"
    );
}

#[actix::test]
async fn an_expired_certificate_is_refused() {
    let pki = Pki::new("test-ca");
    let server = tls_server(&pki, &pki.expired_server(&["127.0.0.1"]), ClientAuth::None);
    let client = Client::with_options(server.tls_address(), trusting(&pki));
    let err = recv_or_fail("a refusal", echo(&client)).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("certificate expired"), "{text}");
}

#[actix::test]
async fn a_certificate_for_another_name_is_refused() {
    let pki = Pki::new("test-ca");
    let server = tls_server(&pki, &pki.server(&["hub.example.com"]), ClientAuth::None);
    let client = Client::with_options(server.tls_address(), trusting(&pki));
    let err = recv_or_fail("a refusal", echo(&client)).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("not valid for name"), "{text}");
}

#[actix::test]
async fn a_client_certificate_gives_the_peer_its_identity() {
    let pki = Pki::new("test-ca");
    let server = tls_server(&pki, &pki.server(&["127.0.0.1"]), ClientAuth::Required);
    let options = trusting_with_cert(&pki, &pki.client("alice"));
    let client = Client::with_options(server.tls_address(), options);
    let who = recv_or_fail("who am I", client.call::<WhoAmI>(&()))
        .await
        .unwrap();
    assert_eq!(who.as_deref(), Some("alice"));
}

#[actix::test]
async fn a_client_without_a_certificate_is_refused_when_one_is_required() {
    let pki = Pki::new("test-ca");
    let server = tls_server(&pki, &pki.server(&["127.0.0.1"]), ClientAuth::Required);
    let client = Client::with_options(server.tls_address(), trusting(&pki));
    let err = recv_or_fail("a refusal", echo(&client)).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("requires a client certificate"), "{text}");
}

#[actix::test]
async fn a_client_certificate_from_another_ca_is_refused() {
    let pki = Pki::new("test-ca");
    let other = Pki::new("other-ca");
    let server = tls_server(&pki, &pki.server(&["127.0.0.1"]), ClientAuth::Optional);
    let options = trusting_with_cert(&pki, &other.client("mallory"));
    let client = Client::with_options(server.tls_address(), options);
    let err = recv_or_fail("a refusal", echo(&client)).await.unwrap_err();
    assert!(err.is_connection_failure(), "{err}");
    assert!(
        err.to_string()
            .contains("does not accept this client certificate"),
        "{err}"
    );
}

#[actix::test]
async fn a_plain_client_on_a_tls_port_is_told_to_use_tls() {
    let pki = Pki::new("test-ca");
    let server = tls_server(&pki, &pki.server(&["127.0.0.1"]), ClientAuth::None);
    let plain = Address::tcp(server.tls_address().socket_addr().unwrap());
    let err = recv_or_fail("an error", echo(&Client::new(plain)))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("TLS server") && text.contains("tls://"),
        "{text}"
    );
}

#[actix::test]
async fn a_tls_client_on_a_plain_port_is_told_it_is_not_tls() {
    let pki = Pki::new("test-ca");
    let server = tls_server(&pki, &pki.server(&["127.0.0.1"]), ClientAuth::None);
    let tls = Address::tls(server.tcp().socket_addr().unwrap());
    let client = Client::with_options(tls, trusting(&pki));
    let err = recv_or_fail("an error", echo(&client)).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("did not answer TLS") && text.contains("tcp://"),
        "{text}"
    );
}

#[actix::test]
async fn a_peer_off_the_allow_list_is_told_so_over_tls() {
    let pki = Pki::new("test-ca");
    let mut config = pki.tls_only_config("127.0.0.1");
    let entries = vec!["192.0.2.7".to_owned()];
    config.allow = Some(hubwire::AllowList::try_from(entries).unwrap());
    let server = TestServer::with_test_routes(config);
    let client = Client::with_options(server.tls_address(), trusting(&pki));
    let err = recv_or_fail("a refusal", echo(&client)).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Denied), "{err}");
    assert!(err.to_string().contains("allow-list"), "{err}");
}

/// Replies far larger than the socket buffers, many in flight, all arrive over TLS (the socket
/// fills and drains many times over while they are written).
#[actix::test]
async fn large_pipelined_replies_all_arrive_over_tls() {
    let pki = Pki::new("test-ca");
    let server = tls_server(&pki, &pki.server(&["127.0.0.1"]), ClientAuth::None);
    let client = Client::with_options(server.tls_address(), trusting(&pki));
    let big = Message {
        message: "x".repeat(200 * 1024),
    };
    let calls = (0..32).map(|_| client.call::<Echo>(&big));
    let replies = recv_or_fail("every large reply", futures::future::join_all(calls)).await;
    for reply in replies {
        assert_eq!(reply.unwrap().message.len(), big.message.len());
    }
}
