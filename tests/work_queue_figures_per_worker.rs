//! Guards the per-worker figures of a dispatcher (what `hubwire.stats` shows under `work`):
//! each worker's name, queues, credit, items in flight, delivered and acked counts, its last
//! STATUS, and when it was last heard from, which moves on with its PONGs while it works.

mod support;

use std::time::Duration;

use hubwire::work::{
    figures_of_all, start_dispatcher, DispatcherOptions, JobOutcome, Producer, WorkQueue, Worker,
    WorkerOptions,
};
use support::recv_or_fail;

#[actix::test]
async fn each_worker_shows_its_status_load_and_last_word() {
    let options = DispatcherOptions::new("tcp://127.0.0.1:0".parse().unwrap())
        .name("figures-per-worker")
        .queue(WorkQueue::in_memory("jobs"))
        // PINGs every 100 ms: a worker that answers them is heard from that often.
        .heartbeat_timeout(Duration::from_millis(300));
    let dispatcher = start_dispatcher(options, None).unwrap();
    let status = hubwire::encode_body(&serde_json::json!({"gpu": "a100"})).unwrap();
    let options = WorkerOptions::new(["jobs"])
        .credit(4)
        .name("gpu-1")
        .status(status.clone());
    let status = status.to_vec();
    let worker = Worker::connect(&dispatcher.address, options).await.unwrap();
    // The first item is done at once; the next two are held until the test lets them go.
    let (release_tx, release_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(worker.run(move |job| {
        let mut release = release_rx.clone();
        async move {
            if job.body.as_ref() != b"quick" {
                let _ = release.wait_for(|go| *go).await;
            }
            JobOutcome::Done
        }
    }));
    let producer = Producer::connect(&dispatcher.address).await.unwrap();
    producer.enqueue("jobs", &b"quick"[..]).await.unwrap();
    producer
        .enqueue_many("jobs", vec!["slow".into(), "slow".into()])
        .await
        .unwrap();

    let mine = |all: &std::collections::BTreeMap<String, hubwire::work::WorkFigures>| {
        all["figures-per-worker"].workers[0].clone()
    };
    let first = recv_or_fail("one acked and two in flight", async {
        loop {
            let all = figures_of_all().await;
            let w = mine(&all);
            if w.acked == 1 && w.in_flight == 2 {
                break w;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert_eq!(first.name, "gpu-1");
    assert_eq!(first.queues, ["jobs"]);
    assert_eq!((first.credit, first.delivered), (4, 3));
    assert_eq!(first.status, status, "its last STATUS, as sent");

    // It is working (nothing acked) but answers PINGs: it is heard from again and again.
    let later = recv_or_fail("a later word from the worker", async {
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let w = mine(&figures_of_all().await);
            if w.last_heard_ms > first.last_heard_ms + 150 {
                break w;
            }
        }
    })
    .await;
    assert_eq!((later.in_flight, later.acked), (2, 1), "still working");

    let _ = release_tx.send(true);
    recv_or_fail("all acked", async {
        loop {
            let w = mine(&figures_of_all().await);
            if w.acked == 3 && w.in_flight == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}
