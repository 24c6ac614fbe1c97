//! Guards the certificate reload: after the files change and a reload (SIGHUP for an
//! application), new connections get the new certificate while open ones keep working.

mod support;

use hubwire::prelude::*;
use hubwire::standard::Health;
use hubwire::tls::{ClientAuth, TlsClient};
use support::certs::{Issued, Pki};
use support::process::{AppProcess, TempDir};
use support::{loopback_config, recv_or_fail, Echo, Message, TestServer};

/// Client options trusting only `pki`'s CA (not the system roots).
fn trusting_only(pki: &Pki) -> ClientOptions {
    let tls = TlsClient::builder()
        .without_system_roots()
        .ca_file(pki.ca_file())
        .build()
        .unwrap();
    ClientOptions {
        tls: Some(tls),
        ..ClientOptions::default()
    }
}

/// Writes `from`'s certificate and key over `to`'s files (as an operator renewing them).
fn replace(to: &Issued, from: &Issued) {
    std::fs::copy(&from.cert_file, &to.cert_file).unwrap();
    std::fs::copy(&from.key_file, &to.key_file).unwrap();
}

async fn echo(client: &Client, message: &str) -> Result<Message, CallError> {
    let request = Message {
        message: message.into(),
    };
    recv_or_fail("an echo", client.call::<Echo>(&request)).await
}

#[actix::test]
async fn a_reload_serves_new_connections_the_new_certificate_and_keeps_open_ones() {
    let (old_ca, new_ca) = (Pki::new("old-ca"), Pki::new("new-ca"));
    let in_use = old_ca.server(&["127.0.0.1"]);
    let mut config = loopback_config();
    config.listen = vec!["tls://127.0.0.1:0".parse().unwrap()];
    config.tls = Some(old_ca.server_config(&in_use, ClientAuth::None));
    let server = TestServer::with_test_routes(config);
    let address = server.tls_address();

    let open = Client::with_options(address.clone(), trusting_only(&old_ca));
    echo(&open, "before").await.unwrap();

    replace(&in_use, &new_ca.server(&["127.0.0.1"]));
    server.tls.as_ref().expect("TLS settings").reload().unwrap();

    let fresh = Client::with_options(address.clone(), trusting_only(&new_ca));
    assert_eq!(echo(&fresh, "new").await.unwrap().message, "new");
    let stale = Client::with_options(address.clone(), trusting_only(&old_ca));
    let err = echo(&stale, "old").await.unwrap_err();
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");
    assert_eq!(echo(&open, "after").await.unwrap().message, "after");
}

#[actix::test]
async fn a_reload_of_broken_files_keeps_the_certificate_in_use() {
    let pki = Pki::new("test-ca");
    let in_use = pki.server(&["127.0.0.1"]);
    let mut config = loopback_config();
    config.listen = vec!["tls://127.0.0.1:0".parse().unwrap()];
    config.tls = Some(pki.server_config(&in_use, ClientAuth::None));
    let server = TestServer::with_test_routes(config);

    std::fs::write(&in_use.key_file, "not a key").unwrap();
    let err = server.tls.as_ref().unwrap().reload().unwrap_err();
    assert!(err.to_string().contains("private key"), "{err}");
    let client = Client::with_options(server.tls_address(), trusting_only(&pki));
    assert_eq!(echo(&client, "still").await.unwrap().message, "still");
}

#[test]
fn sighup_reloads_the_certificate_of_an_application() {
    let (old_ca, new_ca) = (Pki::new("old-ca"), Pki::new("new-ca"));
    let in_use = old_ca.server(&["127.0.0.1"]);
    let dir = TempDir::new("sighup");
    let config = serde_json::json!({
        "listen": ["tls://127.0.0.1:0"],
        "tls": { "cert_file": in_use.cert_file, "key_file": in_use.key_file },
    });
    let config_file = dir.path("config.json");
    std::fs::write(&config_file, config.to_string()).unwrap();
    let lock = dir.0.display().to_string();
    let args = [
        "--lock-dir",
        lock.as_str(),
        "--config",
        config_file.to_str().unwrap(),
    ];
    let app = AppProcess::start("graceful_shutdown", &args, &[], 1);
    let address = app.address("tls");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let health = |pki: &Pki| {
        let client = Client::with_options(address.clone(), trusting_only(pki));
        runtime.block_on(async move { recv_or_fail("health", client.call::<Health>(&())).await })
    };
    health(&old_ca).expect("the first certificate is served");

    replace(&in_use, &new_ca.server(&["127.0.0.1"]));
    app.signal(libc::SIGHUP);
    // The reload happens on the application's own time: wait until new handshakes show it.
    let deadline = std::time::Instant::now() + support::PATIENCE;
    while health(&new_ca).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the new certificate is never served"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    health(&new_ca).expect("still running after SIGHUP, with the new certificate");
}
