//! Guards `hubwire hub --nats-tls`: with `--cert-file` and `--key-file` its `nats://` listener
//! requires TLS nats-server's way (INFO says `tls_required`, the client upgrades), so the
//! official `async-nats` client publishes and subscribes over TLS and a client that does not
//! trust the certificate gets nowhere; without a certificate the hub does not start, and says
//! what is missing.

/// NATS clients of a hub (`async-nats`).
#[path = "../../tests/support/nats.rs"]
mod nats_support;
#[path = "../../tests/support/mod.rs"]
mod support;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use hubwire::app::EXIT_START;
use nats_support::{nats_client_with, subscribed};
use support::certs::Pki;
use support::process::{AppProcess, TempDir};
use support::{recv_or_fail, PATIENCE};

fn hubwire() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_hubwire"))
}

#[tokio::test(flavor = "current_thread")]
async fn a_hub_with_nats_tls_serves_nats_clients_over_tls() {
    let pki = Pki::new("hub-nats-tls-ca");
    let server = pki.server(&["127.0.0.1"]);
    let dir = TempDir::new("hub-nats-tls");
    let lock = dir.0.display().to_string();
    let cert = server.cert_file.display().to_string();
    let key = server.key_file.display().to_string();
    let args = [
        "hub",
        "--listen",
        "nats://127.0.0.1:0",
        "--nats-tls",
        "--cert-file",
        &cert,
        "--key-file",
        &key,
        "--lock-dir",
        &lock,
    ];
    let mut hub = AppProcess::start_program(hubwire(), &args, &[], 1);
    let url = hub.address("nats").to_string();

    let trusting = async_nats::ConnectOptions::new().add_root_certificates(pki.ca_file());
    let client = nats_client_with(&url, trusting).await;
    assert!(
        client.server_info().tls_required,
        "INFO without tls_required"
    );
    let mut sub = client.subscribe("secure.*").await.unwrap();
    subscribed(&client).await;
    client
        .publish("secure.one", Bytes::from_static(b"sealed"))
        .await
        .unwrap();
    let m = recv_or_fail("a message over TLS", sub.next())
        .await
        .expect("the subscription is open");
    assert_eq!(&m.payload[..], b"sealed");

    // The system roots do not know the test's CA: the handshake fails, so it is TLS.
    let attempt = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(5))
        .connect(&url);
    let refused = tokio::time::timeout(PATIENCE, attempt)
        .await
        .expect("in time");
    assert!(
        refused.is_err(),
        "a client that does not trust the CA got in"
    );

    drop(client);
    hub.signal(libc::SIGTERM);
    assert!(hub.wait().success());
}

#[test]
fn nats_tls_without_a_certificate_stops_the_hub_with_the_reason() {
    let dir = TempDir::new("hub-nats-tls-no-cert");
    let lock = dir.0.display().to_string();
    let data = dir.path("data").display().to_string();
    let mut child = Command::new(hubwire())
        .args(["hub", "--listen", "nats://127.0.0.1:0", "--nats-tls"])
        .args(["--lock-dir", &lock, "--data-dir", &data])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hubwire runs");
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the hub started without a certificate");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(i32::from(EXIT_START)), "{stderr}");
    assert!(
        stderr.contains("cannot listen on nats://127.0.0.1:0") && stderr.contains("tls.cert_file"),
        "{stderr}"
    );
}
