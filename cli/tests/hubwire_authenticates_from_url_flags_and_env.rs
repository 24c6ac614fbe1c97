//! Guards credentials on the command line: `hubwire passwd` makes a hash a server accepts;
//! `hubwire call` authenticates from the URL's user info, from `--user/--password`, from
//! `HUBWIRE_TOKEN`; without them a server with users refuses it (exit 3, denied); and
//! `hubwire sub` outside the user's grant is refused, and `hubwire pub` outside it fails (exit 3).

#[path = "../../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Output, Stdio};

use hubwire::auth::{token_sha256, UserSpec};
use hubwire::hub::HubLimits;
use hubwire_cli::{EXIT_OK, EXIT_REMOTE_ERROR};
use support::*;

fn hubwire(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hubwire"))
        .args(args)
        .env_remove("HUBWIRE_USER")
        .env_remove("HUBWIRE_PASSWORD")
        .env_remove("HUBWIRE_TOKEN")
        .envs(env.iter().copied())
        .output()
        .expect("hubwire runs")
}

/// `hubwire passwd` with cheap parameters, fed `password` on stdin.
fn passwd(password: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hubwire"))
        .args(["passwd", "--memory-kib", "64", "--passes", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hubwire runs");
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn server() -> TestServer {
    let alice: UserSpec = serde_json::from_value(serde_json::json!({
        "password_hash": passwd("p@ss:word"),
        "permissions": {"call": ["test.*"]}
    }))
    .unwrap();
    let bot: UserSpec = serde_json::from_value(serde_json::json!({
        "token_sha256": token_sha256("bot-token"),
        "permissions": {"call": ["test.echo"], "subscribe": ["**"]}
    }))
    .unwrap();
    let mut config = loopback_config();
    config.users = BTreeMap::from([("alice".to_owned(), alice), ("bot".to_owned(), bot)]);
    TestServer::start(config, |b| all_test_routes(b).hub(HubLimits::default())).unwrap()
}

const HI: &str = r#"{"message":"hi"}"#;

#[test]
fn a_call_authenticates_from_the_url_the_flags_or_the_environment() {
    let server = server();
    let port = server.tcp().socket_addr().unwrap().port();
    let plain = format!("tcp://127.0.0.1:{port}");
    // The URL's user info, escaped.
    let url = format!("tcp://alice:p%40ss%3Aword@127.0.0.1:{port}");
    let out = hubwire(&["call", &url, "test.echo", HI], &[]);
    assert_eq!(out.status.code(), Some(EXIT_OK), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), HI);
    // Flags.
    let flags = [
        "call",
        &plain,
        "test.echo",
        HI,
        "--user",
        "alice",
        "--password",
        "p@ss:word",
    ];
    let out = hubwire(&flags, &[]);
    assert_eq!(out.status.code(), Some(EXIT_OK), "{out:?}");
    // The environment.
    let out = hubwire(
        &["call", &plain, "test.echo", HI],
        &[("HUBWIRE_TOKEN", "bot-token")],
    );
    assert_eq!(out.status.code(), Some(EXIT_OK), "{out:?}");
    // Nothing: refused, saying what to give.
    let out = hubwire(&["call", &plain, "test.echo", HI], &[]);
    assert_eq!(out.status.code(), Some(EXIT_REMOTE_ERROR), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("denied") && stderr.contains("authentication required"),
        "{stderr}"
    );
    // A route outside the grant: denied, naming it.
    let out = hubwire(
        &["call", &plain, "test.fail", r#""x""#],
        &[("HUBWIRE_TOKEN", "bot-token")],
    );
    assert_eq!(out.status.code(), Some(EXIT_REMOTE_ERROR), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("test.fail"),
        "{out:?}"
    );
}

#[test]
fn a_subscription_outside_the_users_grant_is_refused() {
    let server = server();
    let url = format!(
        "tcp://alice:p%40ss%3Aword@{}",
        server.tcp().socket_addr().unwrap()
    );
    let out = hubwire(&["sub", "-s", &url, "news/*", "--count", "1"], &[]);
    assert_ne!(out.status.code(), Some(EXIT_OK), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("may not subscribe to \"news/*\""),
        "{stderr}"
    );
}

#[test]
fn a_publish_outside_the_users_grant_fails_the_command() {
    let server = server();
    let url = format!("tcp://{}", server.tcp().socket_addr().unwrap());
    let bot = [("HUBWIRE_TOKEN", "bot-token")];
    // The bot may subscribe to everything but publish nothing.
    let out = hubwire(&["pub", "-s", &url, "news/today", "1"], &bot);
    assert_eq!(out.status.code(), Some(EXIT_REMOTE_ERROR), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("refused the publish") && stderr.contains("denied"),
        "{stderr}"
    );
    // Repeated: one reason, and how many were refused.
    let out = hubwire(
        &["pub", "-s", &url, "news/today", "1", "--count", "3"],
        &bot,
    );
    assert_eq!(out.status.code(), Some(EXIT_REMOTE_ERROR), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("3 publishes refused"), "{stderr}");
}
