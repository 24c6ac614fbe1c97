//! Guards how the `hubwire` command finds its server: `--server/-s URL` on every subcommand
//! that talks to one, the `HUBWIRE_URL` environment variable when no flag or address argument
//! names one, the flag and the argument beating the variable, and a usage error that says
//! what to do when nothing names a server.

#[path = "../../tests/support/mod.rs"]
mod support;

use std::process::{Command, Output};

use hubwire_cli::{EXIT_OK, EXIT_REMOTE_ERROR, EXIT_USAGE};
use support::hub::hub;
use support::*;

/// Runs the command with `HUBWIRE_URL` set to `env` (or unset), bounded by `--timeout 5`
/// where the subcommand calls.
fn hubwire(env: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hubwire"));
    command.args(args);
    match env {
        Some(url) => command.env("HUBWIRE_URL", url),
        None => command.env_remove("HUBWIRE_URL"),
    };
    command.output().expect("hubwire runs")
}

/// An address where nothing listens (bound, then released).
fn nobody() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("tcp://{}", listener.local_addr().unwrap())
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

const ECHO: &str = r#"{"message":"hi"}"#;

#[test]
fn call_takes_the_server_from_the_flag_or_the_environment() {
    let server = TestServer::with_test_routes(loopback_config());
    let address = server.tcp().to_string();
    for args in [
        vec!["call", "-s", &address, "test.echo", ECHO],
        vec!["call", "test.echo", ECHO, "--server", &address],
    ] {
        let out = hubwire(None, &args);
        assert_eq!(out.status.code(), Some(EXIT_OK), "{args:?}: {out:?}");
        assert_eq!(stdout(&out), ECHO);
    }
    let out = hubwire(
        Some(&address),
        &["call", "test.echo", ECHO, "--timeout", "5"],
    );
    assert_eq!(out.status.code(), Some(EXIT_OK), "{out:?}");
    assert_eq!(stdout(&out), ECHO);
}

#[test]
fn the_flag_and_the_address_argument_beat_the_environment() {
    let server = TestServer::with_test_routes(loopback_config());
    let address = server.tcp().to_string();
    let dead = nobody();
    for args in [
        vec!["call", "-s", &address, "test.echo", ECHO],
        vec!["call", &address, "test.echo", ECHO],
    ] {
        let out = hubwire(Some(&dead), &args);
        assert_eq!(out.status.code(), Some(EXIT_OK), "{args:?}: {out:?}");
    }
}

#[test]
fn nothing_naming_a_server_is_a_usage_error_that_says_what_to_do() {
    let out = hubwire(None, &["call", "test.echo"]);
    assert_eq!(out.status.code(), Some(EXIT_USAGE), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--server") && stderr.contains("HUBWIRE_URL"),
        "{stderr}"
    );
    let out = hubwire(
        None,
        &[
            "call",
            "tcp://127.0.0.1:1",
            "test.echo",
            "-s",
            "tcp://127.0.0.1:2",
        ],
    );
    assert_eq!(out.status.code(), Some(EXIT_USAGE), "{out:?}");
}

/// `health`, `stats`, `queue` and `sender` reach the server the flag or variable names: a
/// plain server has no standard endpoints, so reaching it is a remote error naming the route.
#[test]
fn the_standard_and_queue_commands_take_the_flag_and_the_environment() {
    let server = TestServer::with_test_routes(loopback_config());
    let address = server.tcp().to_string();
    let cases: [(Option<&str>, Vec<&str>, &str); 5] = [
        (
            Some(&address),
            vec!["health", "--timeout", "5"],
            "hubwire.health",
        ),
        (None, vec!["stats", "-s", &address], "hubwire.stats"),
        (
            None,
            vec!["queue", "-s", &address, "data", "q"],
            "hubwire.queue.data",
        ),
        (
            Some(&address),
            vec!["sender", "inspect", "mail", "7"],
            "hubwire.sender.inspect",
        ),
        (Some(&address), vec!["queue", "list"], "hubwire.queue.list"),
    ];
    for (env, args, route) in cases {
        let out = hubwire(env, &args);
        assert_eq!(
            out.status.code(),
            Some(EXIT_REMOTE_ERROR),
            "{args:?}: {out:?}"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(route), "{args:?}: {stderr}");
    }
}

/// The pub/sub commands, whose default is the hub's default address, read the variable too.
#[test]
fn rpc_takes_the_hub_from_the_environment_or_the_flag() {
    let server = hub();
    let address = server.tcp().to_string();
    for (env, args) in [
        (Some(address.as_str()), vec!["rpc", "svc/nobody"]),
        (
            Some(nobody().as_str()),
            vec!["rpc", "svc/nobody", "-s", &address],
        ),
    ] {
        let out = hubwire(env, &args);
        assert_eq!(
            out.status.code(),
            Some(EXIT_REMOTE_ERROR),
            "{args:?}: {out:?}"
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("no responders"));
    }
}
