//! Guards redelivery with real processes: a worker killed with `kill -9` while it holds items
//! has each of them delivered to another worker exactly once more (delivery 2), and nothing
//! else is delivered again.

mod support;

use std::time::Duration;

use support::process::TempDir;
use support::work::*;

#[tokio::test(flavor = "current_thread")]
async fn a_killed_workers_items_go_to_another_worker_exactly_once_more() {
    let dir = TempDir::new("work-kill-worker");
    let d = dispatcher(&dir, r#""durable": false, "heartbeat_ms": 3000"#);
    let producer = producer(&d.work).await;
    // A holds four items for a minute each: it is mid-item when killed.
    let mut a = worker(
        &dir,
        &d.work,
        "a",
        &["--credit", "4", "--delay-ms", "60000"],
    );
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(producer.enqueue("jobs", format!("job {n}")).await.unwrap());
    }
    wait_until("a to start its four items", Duration::from_secs(10), || {
        starts(&dir, "a").len() == 4
    })
    .await;
    let b = worker(&dir, &d.work, "b", &["--credit", "4"]);
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    wait_until("b to finish a's items", Duration::from_secs(10), || {
        dones(&dir, "b").len() == 4
    })
    .await;
    let mut held: Vec<u64> = starts(&dir, "a").iter().map(|s| s.0).collect();
    held.sort();
    assert_eq!(held, ids, "a held every item");
    let mut again = starts(&dir, "b");
    again.sort();
    assert_eq!(
        again,
        ids.iter().map(|&id| (id, 2)).collect::<Vec<_>>(),
        "each of a's items went to b once, as its second delivery"
    );
    // Nothing more comes: the figures say four redeliveries, four acks, nothing in flight.
    let figures = d.figures().await;
    let jobs = &figures.queues["jobs"];
    assert_eq!(
        (jobs.redelivered, jobs.acked, jobs.in_flight, jobs.pending),
        (4, 4, 0, 0)
    );
    assert_eq!(
        jobs.released, 4,
        "the loss was the worker's, not counted against the items"
    );
    assert_eq!(starts(&dir, "b").len(), 4);
    drop(b);
}
