//! Guards the TLS flags of `hubwire hub`: `--cert-file` and `--key-file` make a `tls://`
//! listener without a config file, and `hubwire health --ca-file` reaches it; without them a
//! TLS address is refused with the flags' names.

#[path = "../../tests/support/mod.rs"]
mod support;

use std::process::Command;

use support::certs::Pki;
use support::process::{AppProcess, TempDir};

#[test]
fn a_hub_serves_tls_from_its_flags() {
    let pki = Pki::new("hub-flags-ca");
    let server = pki.server(&["127.0.0.1"]);
    let dir = TempDir::new("hub-tls-flags");
    let lock = dir.0.display().to_string();
    let cert = server.cert_file.display().to_string();
    let key = server.key_file.display().to_string();
    let args = [
        "hub",
        "--listen",
        "tls://127.0.0.1:0",
        "--lock-dir",
        &lock,
        "--cert-file",
        &cert,
        "--key-file",
        &key,
    ];
    let path = std::path::Path::new(env!("CARGO_BIN_EXE_hubwire"));
    let mut hub = AppProcess::start_program(path, &args, &[], 1);
    let address = hub.address("tls").to_string();
    let ca = pki.ca_file().display().to_string();
    let out = Command::new(path)
        .args(["health", &address, "--ca-file", &ca])
        .output()
        .expect("hubwire runs");
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("\"ok\""),
        "{out:?}"
    );
    hub.signal(libc::SIGTERM);
    assert!(hub.wait().success());
}

/// Without them the hub does not start, and says which flags it needs.
#[test]
fn a_tls_address_without_the_flags_names_them() {
    let dir = TempDir::new("hub-tls-no-flags");
    let lock = dir.0.display().to_string();
    let path = std::path::Path::new(env!("CARGO_BIN_EXE_hubwire"));
    for listen in [
        vec!["--listen", "tls://127.0.0.1:0"],
        vec!["--listen", "nats://127.0.0.1:0", "--nats-tls"],
    ] {
        let out = Command::new(path)
            .args(["hub", "--lock-dir", &lock, "--data-dir", &lock])
            .args(&listen)
            .output()
            .expect("hubwire runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{listen:?}: {out:?}");
        assert!(
            stderr.contains("pass --cert-file and --key-file"),
            "{listen:?}: {stderr}"
        );
    }
}
