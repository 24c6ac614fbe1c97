//! Guards `hubwire queue ...` on an in-memory work queue, against real processes (the
//! `work_dispatcher` example with `durable: false`): the queue is listed; a rejected item and
//! one nacked past `max_deliveries` wait in its error queue, which keeps at most `max_errors`
//! (the first errored dropped, counted in `work stats` as `dead_dropped`), and is in
//! `hubwire stats` with the app's other queues; `errors`,
//! `inspect`, `data`, `requeue`, `requeue-all`, `pop` and `clear` work as on a durable queue;
//! `pause --processing` holds a requeued item back until `unpause`, and `pause --receiving`
//! refuses enqueues.

#[path = "../../tests/support/mod.rs"]
mod support;

use std::process::{Command, Output};
use std::time::Duration;

use hubwire::protocol::{Ack, Deliver, Nack, Reject};
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

fn ok(args: &[&str]) -> String {
    let out = hubwire(args);
    assert_eq!(out.status.code(), Some(EXIT_OK), "{args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json_ok(args: &[&str]) -> Value {
    serde_json::from_str(&ok(args)).expect("JSON on stdout")
}

async fn reject(raw: &mut RawWorker, d: &Deliver, reason: &str) {
    let reason = reason.into();
    raw.send(&Reject {
        lease: d.lease,
        reason,
    })
    .await;
}

#[tokio::test(flavor = "current_thread")]
async fn in_memory_work_queues_are_operated_from_the_shell() {
    let dir = TempDir::new("work-mem-cli");
    let settings = r#""durable": false, "max_deliveries": 2, "max_errors": 2"#;
    let d = dispatcher(&dir, settings);
    let (work, app) = (d.work.to_string(), d.app.to_string());
    assert_eq!(
        json_ok(&["queue", "list", &app]),
        serde_json::json!(["jobs"])
    );

    let stored = json_ok(&["work", "enqueue", &work, "jobs", r#""x""#, "--count", "3"]);
    let ids: Vec<u64> = stored["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_u64().unwrap())
        .collect();
    // Credit 1: the first is rejected, the second nacked twice (its last counted failure),
    // the third rejected, which drops the first from the full error queue.
    let mut raw = RawWorker::connect(&d.work, "jobs", 1).await;
    let first = raw.next_delivery().await;
    reject(&mut raw, &first, "cannot render").await;
    for reason in ["slow disk", "slower disk"] {
        let second = raw.next_delivery().await;
        assert_eq!(second.id, ids[1]);
        let reason = reason.into();
        raw.send(&Nack {
            lease: second.lease,
            delay_ms: 0,
            reason,
        })
        .await;
    }
    let third = raw.next_delivery().await;
    assert_eq!(third.id, ids[2]);
    reject(&mut raw, &third, "cannot render either").await;

    wait_until(
        "the error queue at its bound",
        Duration::from_secs(5),
        || {
            let stats = json_ok(&["work", "stats", &app]);
            stats["work_dispatcher"]["queues"]["jobs"]["dead_lettered"] == 3
        },
    )
    .await;
    let stats = json_ok(&["work", "stats", &app]);
    assert_eq!(
        stats["work_dispatcher"]["queues"]["jobs"]["dead_dropped"],
        1
    );
    let errors = json_ok(&["queue", "errors", &app, "jobs"]);
    assert_eq!(errors["ids"], serde_json::json!(ids[1..]));
    let nacked = json_ok(&["queue", "inspect", &app, "jobs", &ids[1].to_string()]);
    let messages: Vec<&str> = nacked["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        ["slow disk", "slower disk (failure 2 of at most 2)"]
    );
    assert_eq!(
        (nacked["attempts"].as_u64(), &nacked["body"]),
        (Some(2), &Value::from("x"))
    );
    let data = json_ok(&["queue", "data", &app, "jobs"]);
    assert_eq!(
        (data["errors"].as_u64(), data["failed"].as_u64()),
        (Some(2), Some(3))
    );
    let stats = json_ok(&["stats", "--json", &app]);
    assert_eq!(stats["queues"]["jobs"]["errors"], 2, "{stats}");
    let gone = hubwire(&["queue", "inspect", &app, "jobs", &ids[0].to_string()]);
    assert_eq!(gone.status.code(), Some(EXIT_REMOTE_ERROR));

    // Paused processing holds the requeued item back until unpaused; then it comes again
    // as a first delivery.
    ok(&["queue", "pause", &app, "jobs", "--processing"]);
    let said = ok(&["queue", "requeue", &app, "jobs", &ids[1].to_string()]);
    assert!(
        said.starts_with(&format!("requeued item {} ", ids[1])),
        "{said}"
    );
    let early = tokio::time::timeout(Duration::from_millis(600), raw.next_delivery()).await;
    assert!(early.is_err(), "delivered while paused: {early:?}");
    let data = json_ok(&["queue", "data", &app, "jobs"]);
    assert_eq!(data["pause"]["processing_paused"], true);
    ok(&["queue", "unpause", &app, "jobs", "--processing"]);
    let again = raw.next_delivery().await;
    assert_eq!((again.id, again.delivery), (ids[1], 1));
    raw.send(&Ack { lease: again.lease }).await;

    let said = ok(&["queue", "requeue-all", &app, "jobs"]);
    assert!(said.starts_with("requeued 1 errored item"), "{said}");
    let last = raw.next_delivery().await;
    assert_eq!(last.id, ids[2]);
    reject(&mut raw, &last, "never").await;
    wait_until(
        "the item back in the error queue",
        Duration::from_secs(5),
        || json_ok(&["queue", "errors", &app, "jobs"])["ids"] == serde_json::json!([ids[2]]),
    )
    .await;
    let popped = json_ok(&["queue", "pop", &app, "jobs", &ids[2].to_string()]);
    assert_eq!(popped["requeue_count"], 1);
    let more = json_ok(&["work", "enqueue", &work, "jobs", r#""y""#]);
    let next = raw.next_delivery().await;
    assert_eq!(Some(next.id), more["ids"][0].as_u64());
    reject(&mut raw, &next, "no").await;
    wait_until("one more errored item", Duration::from_secs(5), || {
        json_ok(&["queue", "data", &app, "jobs"])["errors"] == 1
    })
    .await;
    let said = ok(&["queue", "clear", &app, "jobs"]);
    assert!(said.starts_with("deleted 1 errored item"), "{said}");

    // Paused receiving refuses enqueues until unpaused.
    ok(&["queue", "pause", &app, "jobs", "--receiving"]);
    let refused = hubwire(&["work", "enqueue", &work, "jobs", "1"]);
    assert_eq!(refused.status.code(), Some(EXIT_REMOTE_ERROR));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("paused"),
        "{refused:?}"
    );
    ok(&["queue", "unpause", &app, "jobs"]);
    json_ok(&["work", "enqueue", &work, "jobs", "1"]);
}
