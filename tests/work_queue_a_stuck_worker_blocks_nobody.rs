//! Guards the dispatcher against a worker that stops reading: producers are answered and the
//! other workers served while it is stuck, and once it misses its heartbeat it is taken for
//! lost and what it held is delivered to others.

mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use support::process::TempDir;
use support::work::*;

#[tokio::test(flavor = "current_thread")]
async fn a_worker_that_stops_reading_never_blocks_the_others() {
    let dir = TempDir::new("work-stuck");
    let d = dispatcher(&dir, r#""durable": false, "heartbeat_ms": 2000"#);
    // Credit for everything, and never a byte read after TAKEN.
    let stuck = RawWorker::connect(&d.work, "jobs", 1000).await;
    let producer = producer(&d.work).await;
    let body = Bytes::from(vec![7u8; 64 * 1024]);
    let started = Instant::now();
    let mut ids = Vec::new();
    for _ in 0..10 {
        let batch = vec![body.clone(); 10];
        ids.extend(producer.enqueue_many("jobs", batch).await.unwrap());
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the producer was answered while the stuck worker's socket filled"
    );
    let _b = worker(&dir, &d.work, "b", &["--credit", "8"]);
    wait_until("b to do every item", Duration::from_secs(15), || {
        dones(&dir, "b").len() >= ids.len()
    })
    .await;
    let done: std::collections::BTreeSet<u64> = dones(&dir, "b").into_iter().collect();
    assert_eq!(done.len(), ids.len());
    let figures = d.figures().await;
    assert_eq!(
        figures.workers.len(),
        1,
        "the stuck worker was taken for lost"
    );
    assert_eq!(figures.queues["jobs"].released, 100);
    drop(stuck);
}
