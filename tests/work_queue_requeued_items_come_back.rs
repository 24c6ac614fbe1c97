//! Guards the error queue of a durable work queue: a rejected item is in the store's error
//! queue, and once an operator requeues it (one item, then all) the dispatcher finds it and
//! delivers it again, while enqueues keep flowing; nothing else is delivered twice.

mod support;

use std::time::Duration;

use hubwire::queue::{QueueAdmin, StoreHandle};
use hubwire::store::{ItemId, MemoryStore};
use hubwire::work::{
    start_dispatcher, DispatcherOptions, JobOutcome, Producer, WorkQueue, Worker, WorkerOptions,
};
use support::recv_or_fail;

#[actix::test]
async fn requeued_items_are_delivered_again() {
    let store = StoreHandle::start(Box::new(MemoryStore::new())).unwrap();
    let options = DispatcherOptions::new("tcp://127.0.0.1:0".parse().unwrap())
        .queue(WorkQueue::durable("jobs"));
    let dispatcher = start_dispatcher(options, Some(&store)).unwrap();
    let producer = Producer::connect(&dispatcher.address).await.unwrap();
    let worker = Worker::connect(&dispatcher.address, WorkerOptions::new(["jobs"]).credit(4))
        .await
        .unwrap();
    // Bodies starting with "bad" are rejected the first time they come, done the next (a
    // requeued item starts its deliveries again, so the worker remembers the ids it saw).
    let (seen_tx, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let met = std::sync::Mutex::new(std::collections::HashSet::new());
    tokio::spawn(worker.run(move |job| {
        let _ = seen_tx.send((job.id, job.delivery, job.body.clone()));
        let first_bad = job.body.starts_with(b"bad") && met.lock().unwrap().insert(job.id);
        std::future::ready(match first_bad {
            true => JobOutcome::Reject {
                reason: "not yet".into(),
            },
            false => JobOutcome::Done,
        })
    }));
    let bad = producer
        .enqueue_many("jobs", vec!["bad-1".into(), "bad-2".into(), "bad-3".into()])
        .await
        .unwrap();
    for _ in 0..3 {
        recv_or_fail("a first delivery", seen.recv()).await;
    }
    let admin = QueueAdmin::new(store.clone());
    recv_or_fail("three items in the error queue", async {
        while admin.data("jobs").await.unwrap().errors < 3 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;

    admin.requeue("jobs", ItemId(bad[0])).await.unwrap();
    let (id, _, _) = recv_or_fail("the requeued item", seen.recv())
        .await
        .unwrap();
    assert_eq!(id, bad[0]);

    // Enqueues meanwhile, then the rest of the error queue at once.
    let good = producer.enqueue("jobs", &b"good"[..]).await.unwrap();
    let (id, _, _) = recv_or_fail("the new item", seen.recv()).await.unwrap();
    assert_eq!(id, good);
    assert_eq!(admin.requeue_all("jobs").await.unwrap(), 2);
    let mut again = Vec::new();
    for _ in 0..2 {
        let (id, _, _) = recv_or_fail("a requeued item", seen.recv()).await.unwrap();
        again.push(id);
    }
    again.sort();
    assert_eq!(again, bad[1..]);
    recv_or_fail("the error queue emptied and nothing pending", async {
        loop {
            let data = admin.data("jobs").await.unwrap();
            if data.errors == 0 && data.pending == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    // Nothing more comes: each requeued item once, every other item once.
    let extra = tokio::time::timeout(Duration::from_millis(1200), seen.recv()).await;
    assert!(extra.is_err(), "delivered once more: {extra:?}");
}
