//! Guards the durability of work queues with real processes: every enqueue the dispatcher
//! acknowledged (answered with ids) is processed after `kill -9` of the dispatcher and a
//! restart on the same store, whether it was waiting, leased, or being acked at the kill.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use bytes::Bytes;
use support::process::TempDir;
use support::work::*;

#[tokio::test(flavor = "current_thread")]
async fn no_acknowledged_enqueue_is_lost_across_kill_9() {
    let dir = TempDir::new("work-kill-dispatcher");
    let mut d = dispatcher(&dir, r#""heartbeat_ms": 3000"#);
    let _w1 = worker(&dir, &d.work, "w1", &["--credit", "4", "--delay-ms", "5"]);
    let producer = producer(&d.work).await;
    let mut acked = BTreeSet::new();
    for batch in 0..30 {
        let bodies = (0..10)
            .map(|n| Bytes::from(format!("{batch}-{n}")))
            .collect();
        acked.extend(producer.enqueue_many("jobs", bodies).await.unwrap());
    }
    assert_eq!(acked.len(), 300);
    wait_until(
        "some items to be processed",
        Duration::from_secs(20),
        || dones(&dir, "w1").len() >= 40,
    )
    .await;
    d.process.child.kill().expect("SIGKILL");
    d.process.wait();
    let before: BTreeSet<u64> = dones(&dir, "w1").into_iter().collect();
    assert!(before.len() < acked.len(), "a backlog was left at the kill");

    let d = dispatcher(&dir, r#""heartbeat_ms": 3000"#);
    let _w2 = worker(&dir, &d.work, "w2", &["--credit", "8"]);
    wait_until(
        "every acknowledged item to be processed",
        Duration::from_secs(30),
        || {
            let done: BTreeSet<u64> = dones(&dir, "w1")
                .into_iter()
                .chain(dones(&dir, "w2"))
                .collect();
            acked.is_subset(&done)
        },
    )
    .await;
    // Run twice only what was leased or being acked at the kill: a handful, not the backlog.
    let twice = counts(dones(&dir, "w1").into_iter().chain(dones(&dir, "w2")))
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .count();
    assert!(twice <= 16, "{twice} items ran twice");
    let figures = d.figures().await;
    assert_eq!(figures.queues["jobs"].pending, 0);
}
