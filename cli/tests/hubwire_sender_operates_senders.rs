//! Guards `hubwire sender ...` and the `hubwire.sender.*` endpoints against real processes:
//! a message the destination cannot take (no such route) is errored at once; the operator
//! lists, inspects, requeues, pauses and clears from the shell; senders show in
//! `hubwire stats` and not among the queued routes.

#[path = "../../tests/support/mod.rs"]
mod support;

use std::process::{Command, Output};

use hubwire::prelude::*;
use hubwire_cli::{EXIT_OK, EXIT_REMOTE_ERROR};
use serde_json::{json, Value};
use support::forwarder::*;
use support::journal::*;
use support::process::TempDir;

fn hubwire(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hubwire"))
        .args(args)
        .output()
        .expect("hubwire runs")
}

fn sender_ok(args: &[&str]) -> Value {
    let mut all = vec!["sender"];
    all.extend_from_slice(args);
    let out = hubwire(&all);
    assert_eq!(out.status.code(), Some(EXIT_OK), "{args:?}: {out:?}");
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

async fn wait_for_errors(client: &Client, n: u64) {
    let deadline = std::time::Instant::now() + DRAIN;
    while sender_data(client).await.errors != n {
        assert!(std::time::Instant::now() < deadline, "not errored");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_errored_queue_of_a_sender_is_operated_from_the_shell() {
    let journal_dir = TempDir::new("sender-cli-journal");
    let target = journal(&journal_dir, 0);
    let dir = TempDir::new("sender-cli");
    let sender = forwarder_to(&dir, &target.address("tcp"), "journal.nope");
    let address = sender.address("tcp").to_string();
    let a = address.as_str();
    let client = Client::new(sender.address("tcp"));

    let first = forward(&client, "one").await.unwrap();
    forward(&client, "two").await.unwrap();
    wait_for_errors(&client, 2).await;

    assert_eq!(sender_ok(&["list", a]), json!([SENDER]));
    assert_eq!(
        hubwire(&["queue", "list", a]).stdout,
        b"[]\n",
        "senders are not queued routes"
    );
    let data = sender_ok(&["data", a, SENDER]);
    assert_eq!(
        (data["pending"].as_u64(), data["errors"].as_u64()),
        (Some(0), Some(2))
    );
    let page = sender_ok(&["errors", a, SENDER]);
    assert_eq!(page["ids"][0].as_u64(), Some(first));

    let item = sender_ok(&["inspect", a, SENDER, &first.to_string()]);
    assert_eq!(item["attempts"], 1, "not retried");
    let reason = item["errors"][0]["message"].as_str().unwrap();
    assert!(
        reason.contains("not retried") && reason.contains("unknown-route"),
        "{reason}"
    );
    assert_eq!(item["body"]["note"], "one");
    assert_eq!(item["route"], "journal.nope");

    // Paused sending holds a requeued message; unpaused, it fails again at once.
    sender_ok(&["pause", a, SENDER, "--processing"]);
    let said = hubwire(&["sender", "requeue", a, SENDER, &first.to_string()]);
    assert_eq!(
        String::from_utf8_lossy(&said.stdout).trim_end(),
        format!("requeued item {first} of sender {SENDER}: back in its place, to be tried again at once")
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let data = sender_data(&client).await;
    assert_eq!((data.pending, data.errors), (1, 1), "{data:?}");
    sender_ok(&["unpause", a, SENDER]);
    wait_for_errors(&client, 2).await;

    // Paused receiving refuses new messages (busy), storing nothing.
    sender_ok(&["pause", a, SENDER, "--receiving"]);
    match forward(&client, "refused").await {
        Err(CallError::Remote { code, message }) => {
            assert_eq!(code, ErrorCode::Busy);
            assert!(message.contains("paused"), "{message}");
        }
        other => panic!("a paused sender refuses: {other:?}"),
    }
    sender_ok(&["unpause", a, SENDER, "--receiving"]);

    let stats: Value = serde_json::from_slice(&hubwire(&["stats", "--json", a]).stdout).unwrap();
    assert_eq!(stats["senders"][SENDER]["errors"], 2);
    assert_eq!(
        sender_ok(&["clear", a, SENDER, "--json"]),
        json!({"count": 2, "up_to": null})
    );
    let out = hubwire(&["sender", "inspect", a, SENDER, &first.to_string()]);
    assert_eq!(out.status.code(), Some(EXIT_REMOTE_ERROR));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("not-found") && e.contains("sender to-remote"),
        "{e}"
    );
    let out = hubwire(&["sender", "data", a, "nobody"]);
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("no sender named"), "{e}");
}
