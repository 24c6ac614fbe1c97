//! Guards `hubwire work ...` and the work queue's place among the app's queues, against real
//! processes: `work enqueue` prints the stored ids (and names a refused queue), `work stats`
//! and `work workers` print the dispatcher's figures with each worker's STATUS, and a
//! rejected item waits in the error queue where `hubwire queue errors|inspect|requeue` see
//! and requeue it, and the dispatcher delivers it again.

#[path = "../../tests/support/mod.rs"]
mod support;

use std::process::{Command, Output};
use std::time::Duration;

use hubwire::protocol::{Ack, Reject};
use hubwire_cli::{EXIT_OK, EXIT_REMOTE_ERROR};
use serde_json::Value;
use support::process::TempDir;
use support::work::*;

fn hubwire(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hubwire"))
        .args(args)
        .output()
        .expect("hubwire runs")
}

fn json_ok(args: &[&str]) -> Value {
    let out = hubwire(args);
    assert_eq!(out.status.code(), Some(EXIT_OK), "{args:?}: {out:?}");
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

#[tokio::test(flavor = "current_thread")]
async fn work_queues_are_fed_and_operated_from_the_shell() {
    let dir = TempDir::new("work-cli");
    let d = dispatcher(&dir, r#""max_deliveries": 3"#);
    let (work, app) = (d.work.to_string(), d.app.to_string());

    let stored = json_ok(&[
        "work",
        "enqueue",
        &work,
        "jobs",
        r#"{"n": 1}"#,
        "--count",
        "3",
    ]);
    assert_eq!(stored["ids"].as_array().unwrap().len(), 3);
    let refused = hubwire(&["work", "enqueue", &work, "nope", "1"]);
    assert_eq!(refused.status.code(), Some(EXIT_REMOTE_ERROR));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("404"));

    // A raw worker rejects the first item and acks the others.
    let mut raw = RawWorker::connect(&d.work, "jobs", 1).await;
    let first = raw.next_delivery().await;
    raw.send(&Reject {
        lease: first.lease,
        reason: "cannot render".into(),
    })
    .await;
    for _ in 0..2 {
        let next = raw.next_delivery().await;
        raw.send(&Ack { lease: next.lease }).await;
    }
    let id = first.id.to_string();
    let mut errors = Value::Null;
    wait_until(
        "the rejected item in the error queue",
        Duration::from_secs(5),
        || {
            errors = json_ok(&["queue", "errors", &app, "jobs"]);
            errors["ids"].as_array().is_some_and(|ids| ids.len() == 1)
        },
    )
    .await;
    assert_eq!(errors["ids"][0].as_u64(), Some(first.id));
    let item = json_ok(&["queue", "inspect", &app, "jobs", &id]);
    assert!(
        item.to_string().contains("rejected: cannot render"),
        "{item}"
    );

    let stats = json_ok(&["work", "stats", &app]);
    let jobs = &stats["work_dispatcher"]["queues"]["jobs"];
    assert_eq!(
        (jobs["acked"].as_u64(), jobs["dead_lettered"].as_u64()),
        (Some(2), Some(1))
    );
    let workers = json_ok(&["work", "workers", &app]);
    assert_eq!(workers["work_dispatcher"][0]["name"], "raw-worker");
    assert_eq!(workers["work_dispatcher"][0]["credit"], 1);

    // Requeued, it comes back to a worker.
    let said = hubwire(&["queue", "requeue", &app, "jobs", &id]);
    assert_eq!(said.status.code(), Some(EXIT_OK), "{said:?}");
    assert!(String::from_utf8_lossy(&said.stdout).starts_with(&format!("requeued item {id} ")));
    let again = raw.next_delivery().await;
    assert_eq!(again.id, first.id);
    raw.send(&Ack { lease: again.lease }).await;
    wait_until("the requeued item acked", Duration::from_secs(5), || {
        json_ok(&["work", "stats", &app])["work_dispatcher"]["queues"]["jobs"]["acked"] == 3
    })
    .await;
}
