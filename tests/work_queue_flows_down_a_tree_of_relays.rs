//! Guards relays with real processes: in a 3-level tree (root dispatcher, two relays, a worker
//! under each), every item enqueued at the root is done by a leaf worker, and when one relay
//! is killed with `kill -9` what it held is delivered through the other relay: nothing is lost.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use bytes::Bytes;
use support::process::TempDir;
use support::work::*;

#[tokio::test(flavor = "current_thread")]
async fn a_killed_relays_items_flow_through_the_other_relay() {
    let dir = TempDir::new("work-relay");
    let root = dispatcher(&dir, r#""heartbeat_ms": 3000"#);
    let (mut r1, r1_work) = relay(&dir, &root.work, "r1", 4);
    let (_r2, r2_work) = relay(&dir, &root.work, "r2", 4);
    let _l1 = worker(
        &dir,
        &r1_work,
        "l1",
        &["--credit", "2", "--delay-ms", "100"],
    );
    let _l2 = worker(
        &dir,
        &r2_work,
        "l2",
        &["--credit", "2", "--delay-ms", "100"],
    );
    let producer = producer(&root.work).await;
    let bodies: Vec<Bytes> = (0..40).map(|n| Bytes::from(format!("item-{n}"))).collect();
    let ids = producer.enqueue_many("jobs", bodies).await.unwrap();
    assert_eq!(ids.len(), 40);
    wait_until("both leaves to be working", Duration::from_secs(10), || {
        !dones(&dir, "l1").is_empty() && !dones(&dir, "l2").is_empty()
    })
    .await;
    r1.child.kill().expect("SIGKILL");
    r1.wait();
    let all: BTreeSet<String> = (0..40).map(|n| format!("item-{n}")).collect();
    wait_until("every item done by a leaf", Duration::from_secs(30), || {
        let done: BTreeSet<String> = done_bodies(&dir, "l1")
            .into_iter()
            .chain(done_bodies(&dir, "l2"))
            .collect();
        all.is_subset(&done)
    })
    .await;
    let mut jobs = root.figures().await.queues["jobs"].clone();
    for _ in 0..100 {
        if jobs.acked == 40 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        jobs = root.figures().await.queues["jobs"].clone();
    }
    assert_eq!((jobs.acked, jobs.pending, jobs.in_flight), (40, 0, 0));
    assert!(
        jobs.released > 0,
        "the root took the killed relay's items back"
    );
}
