//! Guards `hubwire queue ...` and the `hubwire.queue.*` endpoints behind it, against a real
//! application process: figures, error pages with a cursor, inspect with every error message,
//! requeue, pop, bounded requeue-all and clear, pause and unpause; errors that name the problem
//! (unknown queue, malformed id, no such id); changes refused to non-admin peers; queue figures
//! in `hubwire stats`.

#[path = "../../tests/support/mod.rs"]
mod support;

use std::process::{Command, Output};

use hubwire::prelude::*;
use hubwire_cli::{EXIT_OK, EXIT_REMOTE_ERROR, EXIT_USAGE};
use serde_json::Value;
use support::journal::*;
use support::process::TempDir;

fn hubwire(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hubwire"))
        .args(args)
        .output()
        .expect("hubwire runs")
}

/// Runs `hubwire queue ARGS`, expects exit 0, and parses what it printed.
fn queue_ok(args: &[&str]) -> Value {
    let mut all = vec!["queue"];
    all.extend_from_slice(args);
    let out = hubwire(&all);
    assert_eq!(out.status.code(), Some(EXIT_OK), "{args:?}: {out:?}");
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// Runs `hubwire queue ARGS`, expects exit 0, and answers the line it printed.
fn queue_says(args: &[&str]) -> String {
    let mut all = vec!["queue"];
    all.extend_from_slice(args);
    let out = hubwire(&all);
    assert_eq!(out.status.code(), Some(EXIT_OK), "{args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

/// Runs `hubwire queue ARGS`, expects exit `code`, and answers its standard error.
fn queue_fails(code: i32, args: &[&str]) -> String {
    let mut all = vec!["queue"];
    all.extend_from_slice(args);
    let out = hubwire(&all);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn ids(page: &Value) -> Vec<u64> {
    page["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_u64().unwrap())
        .collect()
}

/// Three failing requests land in the error queue; the operator pages, inspects, requeues,
/// pops and clears them from the shell.
#[tokio::test(flavor = "current_thread")]
async fn the_error_queue_is_operated_from_the_shell() {
    let dir = TempDir::new("queue-cli");
    let server = journal(&dir, 0);
    let address = server.address("tcp").to_string();
    let a = address.as_str();
    let client = Client::new(server.address("tcp"));
    let mut failed = Vec::new();
    for n in 0..3 {
        failed.push(enqueue(&client, &format!("bad{n}"), true).await.unwrap());
    }
    wait_for(&client, "three errors", |d| d.errors == 3).await;

    assert_eq!(queue_ok(&["list", a]), serde_json::json!([QUEUE]));
    let data = queue_ok(&["data", a, QUEUE]);
    assert_eq!(
        (data["pending"].as_u64(), data["errors"].as_u64()),
        (Some(0), Some(3))
    );
    assert_eq!(data["failed"], 3);

    // Pages of two, with a cursor.
    let first = queue_ok(&["errors", a, QUEUE, "--limit", "2"]);
    assert_eq!(ids(&first), failed[..2]);
    let next = first["next"].as_u64().expect("a cursor").to_string();
    let second = queue_ok(&["errors", a, QUEUE, "--limit", "2", "--after", &next]);
    assert_eq!(ids(&second), failed[2..]);
    assert!(second["next"].is_null());

    // Every attempt's error message, and the body as sent.
    let id0 = failed[0].to_string();
    let item = queue_ok(&["inspect", a, QUEUE, &id0]);
    assert_eq!(item["attempts"], 3);
    let errors = item["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 3);
    for error in errors {
        assert_eq!(error["message"], format!("note {id0} asked to fail"));
        // Times are shown as dates (`--json`: milliseconds since the epoch, as answered).
        let at = error["at"].as_str().expect("a date");
        humantime::parse_rfc3339(at).unwrap_or_else(|e| panic!("{at}: {e}"));
    }
    let raw = queue_ok(&["inspect", a, QUEUE, &id0, "--json"]);
    for error in raw["errors"].as_array().unwrap() {
        assert!(error["at_ms"].as_u64().unwrap() > 0);
    }
    assert_eq!(item["body"]["note"], "bad0");

    // Requeued, it fails three more times and comes back with all six messages.
    assert_eq!(
        queue_says(&["requeue", a, QUEUE, &id0]),
        format!(
            "requeued item {id0} of queue {QUEUE}: back in its place, to be tried again at once"
        )
    );
    let data = wait_for(&client, "the requeued item fails again", |d| d.failed == 4).await;
    assert_eq!(data.errors, 3);
    let item = queue_ok(&["inspect", a, QUEUE, &id0]);
    assert_eq!(item["errors"].as_array().unwrap().len(), 6);
    assert_eq!(item["requeue_count"], 1);

    // Pop hands the item over and removes it.
    let id1 = failed[1].to_string();
    let popped = queue_ok(&["pop", a, QUEUE, &id1]);
    assert_eq!(popped["id"].as_u64(), Some(failed[1]));
    let e = queue_fails(EXIT_REMOTE_ERROR, &["inspect", a, QUEUE, &id1]);
    assert!(e.contains("not-found") && e.contains(&id1), "{e}");

    // Bulk operations up to an id leave later ones alone.
    let id2 = failed[2].to_string();
    assert_eq!(
        queue_says(&["clear", a, QUEUE, "--up-to", &id0]),
        format!("deleted 1 errored item with ids up to {id0} of queue {QUEUE}")
    );
    assert_eq!(ids(&queue_ok(&["errors", a, QUEUE])), vec![failed[2]]);
    assert_eq!(
        queue_says(&["requeue-all", a, QUEUE]),
        format!("requeued 1 errored item of queue {QUEUE}")
    );
    wait_for(&client, "it fails again", |d| {
        d.failed == 5 && d.errors == 1
    })
    .await;
    assert_eq!(
        queue_says(&["clear", a, QUEUE]),
        format!("deleted 1 errored item of queue {QUEUE}")
    );
    assert_eq!(
        queue_ok(&["clear", a, QUEUE, "--json"]),
        serde_json::json!({"count": 0, "up_to": null})
    );
    let e = queue_fails(EXIT_REMOTE_ERROR, &["requeue", a, QUEUE, &id2]);
    assert!(e.contains("not-found"), "{e}");

    // Figures in hubwire stats too.
    let out = hubwire(&["stats", "--json", a]);
    let stats: Value = serde_json::from_slice(&out.stdout).expect("stats JSON");
    assert_eq!(stats["queues"][QUEUE]["errors"], 0);
    assert_eq!(stats["queues"][QUEUE]["failed"], 5);
}

/// Pause and unpause from the shell, each half on its own.
#[tokio::test(flavor = "current_thread")]
async fn pause_and_unpause_from_the_shell() {
    let dir = TempDir::new("queue-cli-pause");
    let server = journal(&dir, 0);
    let address = server.address("tcp").to_string();
    let a = address.as_str();
    let client = Client::new(server.address("tcp"));

    let state = queue_ok(&["pause", a, QUEUE, "--receiving"]);
    assert_eq!(
        state,
        serde_json::json!({"receiving_paused": true, "processing_paused": false})
    );
    let refused = enqueue(&client, "no", false).await;
    assert!(
        matches!(
            refused,
            Err(CallError::Remote {
                code: ErrorCode::Paused,
                ..
            })
        ),
        "{refused:?}"
    );
    let state = queue_ok(&["pause", a, QUEUE]);
    assert_eq!(
        state,
        serde_json::json!({"receiving_paused": true, "processing_paused": true})
    );
    let state = queue_ok(&["unpause", a, QUEUE, "--receiving"]);
    assert_eq!(
        state,
        serde_json::json!({"receiving_paused": false, "processing_paused": true})
    );
    let id = enqueue(&client, "held", false).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(queue_data(&client).await.pending, 1);
    queue_ok(&["unpause", a, QUEUE]);
    drained(&client).await;
    assert_eq!(journal_ids(&dir), vec![id]);
}

/// Errors name the problem: unknown queue and missing id (remote, 404), malformed id (refused
/// before calling).
#[test]
fn errors_name_the_problem() {
    let dir = TempDir::new("queue-cli-errors");
    let server = journal(&dir, 0);
    let address = server.address("tcp").to_string();
    let a = address.as_str();

    let e = queue_fails(EXIT_REMOTE_ERROR, &["data", a, "no.such.queue"]);
    assert!(
        e.contains("not-found (404)") && e.contains("no.such.queue"),
        "{e}"
    );
    let e = queue_fails(EXIT_REMOTE_ERROR, &["inspect", a, QUEUE, "77"]);
    assert!(
        e.contains("not-found (404)") && e.contains("no item 77"),
        "{e}"
    );
    for bad in ["abc", "0", "1x"] {
        let e = queue_fails(EXIT_USAGE, &["pop", a, QUEUE, bad]);
        assert!(e.contains("malformed id"), "{e}");
    }
    // A typed client sending a malformed id gets invalid-body, naming it.
    let out = hubwire(&[
        "call",
        a,
        "hubwire.queue.inspect",
        r#"{"queue": "journal.write", "id": "x"}"#,
    ]);
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("invalid-body") && e.contains("malformed id"),
        "{e}"
    );
}

/// A peer outside `admin_allow` reads the figures but may not change anything.
#[test]
fn changes_are_for_admin_peers_only() {
    let dir = TempDir::new("queue-cli-admin");
    let server = journal_with(&dir, 0, &["--admin-allow", "10.9.9.9"]);
    let address = server.address("tcp").to_string();
    let a = address.as_str();

    queue_ok(&["data", a, QUEUE]);
    queue_ok(&["errors", a, QUEUE]);
    for change in [
        vec!["pause", a, QUEUE],
        vec!["unpause", a, QUEUE],
        vec!["requeue-all", a, QUEUE],
        vec!["clear", a, QUEUE],
        vec!["requeue", a, QUEUE, "1"],
        vec!["pop", a, QUEUE, "1"],
    ] {
        let e = queue_fails(EXIT_REMOTE_ERROR, &change);
        assert!(
            e.contains("denied (200)") && e.contains("admin"),
            "{change:?}: {e}"
        );
    }
    let data = queue_ok(&["data", a, QUEUE]);
    assert_eq!(data["pause"]["receiving_paused"], false);
}

/// The same idempotency key twice while its request is queued is stored once, from the shell
/// and from the typed client.
#[tokio::test(flavor = "current_thread")]
async fn an_idempotency_key_is_stored_once_from_the_shell_and_the_typed_client() {
    let dir = TempDir::new("queue-cli-key");
    let server = journal(&dir, 0);
    let address = server.address("tcp").to_string();
    let client = Client::new(server.address("tcp"));
    // Held in the queue, so the key is still known when the second request comes.
    pause(&client, None, Some(true)).await;
    let body = r#"{"note": "once", "fail": false}"#;
    let call = || {
        let out = hubwire(&[
            "call",
            &address,
            QUEUE,
            body,
            "--header",
            "idempotency-key=k-1",
        ]);
        assert_eq!(out.status.code(), Some(EXIT_OK), "{out:?}");
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["id"]
            .as_u64()
            .unwrap()
    };
    let first = call();
    assert_eq!(call(), first);

    let mut headers = hubwire::protocol::Headers::new();
    headers.insert("idempotency-key", "k-2");
    let note = Note {
        note: "typed".into(),
        fail: false,
    };
    let timeout = std::time::Duration::from_secs(5);
    let a = client
        .call_with_headers::<Enqueue<WriteNote>>(&note, headers.clone(), timeout)
        .await
        .unwrap();
    let b = client
        .call_with_headers::<Enqueue<WriteNote>>(&note, headers, timeout)
        .await
        .unwrap();
    assert_eq!(a, b);
    assert_ne!(a.id, first);
    assert_eq!(queue_data(&client).await.pending, 2);
    pause(&client, None, Some(false)).await;
    drained(&client).await;
    let mut journal = journal_ids(&dir);
    journal.sort();
    assert_eq!(journal, vec![first, a.id]);
}
