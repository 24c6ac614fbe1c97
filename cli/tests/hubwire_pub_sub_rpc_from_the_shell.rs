//! Guards `hubwire pub`, `hubwire sub` and `hubwire rpc` against a real hub: a published JSON
//! body reaches a subscriber as JSON, retained messages reach a late subscriber, a call nobody
//! serves exits with a remote error naming no responders, and a call a spoke provides prints
//! the reply.

#[path = "../../tests/support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use bytes::Bytes;
use hubwire::pubsub::Pattern;
use hubwire_cli::{EXIT_OK, EXIT_REMOTE_ERROR};
use support::hub::{hub, ready_spoke};

fn hubwire(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hubwire"))
        .args(args)
        .output()
        .expect("hubwire runs")
}

#[test]
fn a_published_message_reaches_a_subscriber_and_a_retained_one_a_late_subscriber() {
    let server = hub();
    let address = server.tcp().to_string();
    let mut sub = Command::new(env!("CARGO_BIN_EXE_hubwire"))
        .args(["sub", "rooms/*/temp", "--count", "2", "--address", &address])
        .stdout(Stdio::piped())
        .spawn()
        .expect("hubwire sub runs");
    let mut lines = BufReader::new(sub.stdout.take().unwrap()).lines();
    // The subscriber is ready once a publish reaches it: retry until the first arrives.
    let first = std::thread::spawn(move || {
        let first = lines.next().unwrap().unwrap();
        let second = lines.next().unwrap().unwrap();
        (first, second)
    });
    for n in 0..50 {
        let out = hubwire(&[
            "pub",
            "rooms/kitchen/temp",
            r#"{"celsius": 21}"#,
            "--address",
            &address,
        ]);
        assert_eq!(out.status.code(), Some(EXIT_OK), "{out:?}");
        if first.is_finished() || n == 49 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let (line, _) = first.join().unwrap();
    let message: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(message["channel"], "rooms/kitchen/temp");
    assert_eq!(message["body"]["celsius"], 21);
    assert!(sub.wait().unwrap().success());

    let out = hubwire(&[
        "pub",
        "rooms/hall/temp",
        "19",
        "--retain",
        "--address",
        &address,
    ]);
    assert_eq!(out.status.code(), Some(EXIT_OK), "{out:?}");
    let out = hubwire(&["sub", "rooms/hall/*", "--count", "1", "--address", &address]);
    let message: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (message["body"].as_i64(), message["retained"].as_bool()),
        (Some(19), Some(true))
    );
}

#[actix::test]
async fn rpc_prints_the_reply_or_says_nobody_is_there() {
    let server = hub();
    let address = server.tcp().to_string();
    let out = tokio::task::spawn_blocking({
        let address = address.clone();
        move || hubwire(&["rpc", "svc/nobody", "{}", "--address", &address])
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_REMOTE_ERROR), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no responders"));

    let provider = ready_spoke(server.tcp(), "provider").await;
    provider
        .provide(Pattern::parse("svc/echo").unwrap(), |request| async move {
            Ok::<Bytes, _>(request.body)
        })
        .await
        .unwrap();
    let out = tokio::task::spawn_blocking(move || {
        hubwire(&[
            "rpc",
            "svc/echo",
            r#"{"hello": "world"}"#,
            "--address",
            &address,
        ])
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_OK), "{out:?}");
    let reply: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reply["hello"], "world");
}

/// A spotty spoke comes and goes a hundred times, cleanly and abruptly: every cycle gets its
/// message through, and the hub holds nothing of it afterwards.
#[test]
fn a_spotty_spoke_leaves_nothing_behind() {
    let server = hub();
    let address = server.tcp().to_string();
    let out = hubwire(&["spotty-spoke", "--cycles", "100", "--address", &address]);
    assert_eq!(out.status.code(), Some(EXIT_OK), "{out:?}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (summary["cycles"].as_u64(), summary["failed"].as_u64()),
        (Some(100), Some(0))
    );
    let figure = |name: &str| server.registry.snapshot().gauge(name, &[]).unwrap_or(-1);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while figure("hub.subscriptions") != 0 || figure("hub.connections") != 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the hub kept subscriptions"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
