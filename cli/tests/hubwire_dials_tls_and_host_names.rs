//! Guards the `hubwire` command over TLS and host names: `--ca-file` lets it trust a private
//! CA for `tls://` servers (calls and pub/sub), without it the certificate is refused and the
//! exit code says it could not connect, and a name that does not resolve is named.

#[path = "../../tests/support/mod.rs"]
mod support;

use std::process::{Command, Output};

use hubwire::hub::HubLimits;
use hubwire::tls::ClientAuth;
use hubwire_cli::{EXIT_CANNOT_CONNECT, EXIT_OK};
use support::certs::Pki;
use support::*;

fn hubwire(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hubwire"))
        .args(args)
        .output()
        .expect("hubwire runs")
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited normally")
}

/// A server with the test routes and a hub on `tls://127.0.0.1:0`, its certificate naming
/// localhost; returns it and its address by name.
fn tls_server(pki: &Pki) -> (TestServer, String) {
    let mut config = loopback_config();
    config.listen = vec!["tls://127.0.0.1:0".parse().unwrap()];
    config.tls = Some(pki.server_config(&pki.server(&["localhost"]), ClientAuth::None));
    let server = TestServer::start(config, |b| all_test_routes(b).hub(HubLimits::default()))
        .expect("the server starts");
    let port = server.tls_address().socket_addr().unwrap().port();
    (server, format!("tls://localhost:{port}"))
}

#[test]
fn a_call_over_tls_trusts_the_ca_file_given() {
    let pki = Pki::new("cli-ca");
    let (_server, address) = tls_server(&pki);
    let ca = pki.ca_file().display().to_string();
    let out = hubwire(&[
        "call",
        &address,
        "test.echo",
        r#"{"message":"sealed"}"#,
        "--ca-file",
        &ca,
    ]);
    assert_eq!(code(&out), EXIT_OK, "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"{"message":"sealed"}"#
    );

    let out = hubwire(&["call", &address, "test.echo", r#"{"message":"x"}"#]);
    assert_eq!(code(&out), EXIT_CANNOT_CONNECT, "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("certificate"), "{stderr}");
}

#[test]
fn rpc_over_tls_reaches_the_hub() {
    let pki = Pki::new("cli-ca");
    let (_server, address) = tls_server(&pki);
    let ca = pki.ca_file().display().to_string();
    // Nobody answers: the hub says so, which it can only do once the spoke is connected.
    let out = hubwire(&["rpc", "-s", &address, "--ca-file", &ca, "nobody/home"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no-responders") || stderr.contains("no responders"),
        "{out:?}"
    );
}

#[test]
fn a_name_that_does_not_resolve_is_named() {
    let out = hubwire(&["call", "tcp://nosuchhost.invalid:7400", "test.echo"]);
    assert_eq!(code(&out), EXIT_CANNOT_CONNECT, "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot resolve host nosuchhost.invalid"),
        "{stderr}"
    );
}
