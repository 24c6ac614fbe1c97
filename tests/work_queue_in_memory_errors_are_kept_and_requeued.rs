//! Guards the error queue and pause of an in-memory work queue, reached by name through the
//! operator's `QueueAdmin` as a durable one is: an item rejected, or nacked past
//! `max_deliveries`, waits in the error queue with every failure reason and its time; requeued
//! it is delivered again with its counted failures reset; pop and clear take items out;
//! pausing processing stops deliveries and pausing receiving refuses enqueues until unpaused;
//! and the error queue's bound drops the item that errored first, counted in `dead_dropped`.
//! A lease that lapses at the last counted failure errors the item too.

mod support;

use std::time::Duration;

use hubwire::protocol::{Ack, ErrorCode, Nack, Reject};
use hubwire::queue::{PauseChange, QueueAdmin, QueueError, StoreHandle};
use hubwire::store::{ItemId, MemoryStore};
use hubwire::work::{
    start_dispatcher, DispatcherHandle, DispatcherOptions, Producer, WorkClientError, WorkQueue,
    WorkQueueDirectory,
};
use support::recv_or_fail;
use support::work::RawWorker;

/// A dispatcher serving `queue`, and the operator's handle that reaches it by name.
fn serve(queue: WorkQueue) -> (DispatcherHandle, QueueAdmin) {
    let store = StoreHandle::start(Box::new(MemoryStore::new())).unwrap();
    let options = DispatcherOptions::new("tcp://127.0.0.1:0".parse().unwrap()).queue(queue);
    let dispatcher = start_dispatcher(options, Some(&store)).unwrap();
    let directory = WorkQueueDirectory::default().with(&dispatcher);
    let admin = QueueAdmin::new(store).with_work_queues(directory);
    (dispatcher, admin)
}

async fn producer(dispatcher: &DispatcherHandle) -> Producer {
    recv_or_fail(
        "the producer connects",
        Producer::connect(&dispatcher.address),
    )
    .await
    .unwrap()
}

/// Waits until the error queue of `queue` holds `n` items; answers their ids.
async fn errors_reach(admin: &QueueAdmin, queue: &str, n: usize) -> Vec<u64> {
    recv_or_fail("the error queue to fill", async {
        loop {
            let page = admin.error_ids(queue, None, 100).await.unwrap();
            if page.ids.len() == n {
                return page.ids.into_iter().map(|id| id.0).collect();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
}

#[actix::test]
async fn failed_items_wait_with_their_reasons_and_come_back_when_requeued() {
    let (dispatcher, admin) = serve(WorkQueue::in_memory("thumbs").max_deliveries(2));
    let producer = producer(&dispatcher).await;
    let mut worker = RawWorker::connect(&dispatcher.address, "thumbs", 1).await;
    let ids = producer
        .enqueue_many("thumbs", vec!["tired".into(), "broken".into()])
        .await
        .unwrap();
    assert_eq!(admin.queues().await.unwrap(), vec!["thumbs".to_owned()]);

    // "tired": nacked twice (its max_deliveries); "broken": rejected at once.
    let first = worker.next_delivery().await;
    assert_eq!((first.id, first.delivery), (ids[0], 1));
    worker
        .send(&Nack {
            lease: first.lease,
            delay_ms: 0,
            reason: "out of memory".into(),
        })
        .await;
    let second = worker.next_delivery().await;
    assert_eq!((second.id, second.delivery), (ids[0], 2));
    worker
        .send(&Nack {
            lease: second.lease,
            delay_ms: 0,
            reason: "out of memory again".into(),
        })
        .await;
    let third = worker.next_delivery().await;
    assert_eq!(third.id, ids[1]);
    worker
        .send(&Reject {
            lease: third.lease,
            reason: "not an image".into(),
        })
        .await;

    assert_eq!(errors_reach(&admin, "thumbs", 2).await, ids);
    let tired = admin.inspect("thumbs", ItemId(ids[0])).await.unwrap();
    let reasons: Vec<&str> = tired
        .item
        .errors
        .iter()
        .map(|e| e.message.as_str())
        .collect();
    assert_eq!(
        reasons,
        [
            "out of memory",
            "out of memory again (failure 2 of at most 2)"
        ]
    );
    assert_eq!(
        (tired.item.attempts, &tired.item.body[..]),
        (2, &b"tired"[..])
    );
    assert!(tired
        .item
        .errors
        .iter()
        .all(|e| e.at_ms > 0 && e.at_ms <= tired.failed_at_ms));
    assert!(tired.item.enqueued_at_ms > 0 && tired.item.enqueued_at_ms <= tired.failed_at_ms);
    let broken = admin.inspect("thumbs", ItemId(ids[1])).await.unwrap();
    assert_eq!(broken.item.errors.len(), 1);
    assert_eq!(broken.item.errors[0].message, "rejected: not an image");
    assert_eq!(broken.item.attempts, 1);
    let data = admin.data("thumbs").await.unwrap();
    assert_eq!((data.errors, data.failed, data.pending), (2, 2, 0));

    // Requeued, "tired" comes again as a first delivery: its counted failures are reset.
    admin.requeue("thumbs", ItemId(ids[0])).await.unwrap();
    let again = worker.next_delivery().await;
    assert_eq!((again.id, again.delivery), (ids[0], 1));
    assert_eq!(&again.body[..], b"tired");
    worker.send(&Ack { lease: again.lease }).await;
    assert!(matches!(
        admin.requeue("thumbs", ItemId(ids[0])).await,
        Err(QueueError::NoSuchError { .. })
    ));

    // The rest at once; then one more failure popped, and one cleared.
    assert_eq!(admin.requeue_all("thumbs").await.unwrap(), 1);
    let back = worker.next_delivery().await;
    assert_eq!((back.id, back.delivery), (ids[1], 1));
    worker
        .send(&Reject {
            lease: back.lease,
            reason: "still not an image".into(),
        })
        .await;
    assert_eq!(errors_reach(&admin, "thumbs", 1).await, [ids[1]]);
    let popped = admin.pop("thumbs", ItemId(ids[1])).await.unwrap();
    // A requeue keeps the reasons: both rejects are there, and the requeue is counted.
    assert_eq!(popped.item.errors.len(), 2);
    assert_eq!(popped.item.requeue_count, 1);
    assert!(admin
        .error_ids("thumbs", None, 10)
        .await
        .unwrap()
        .ids
        .is_empty());
    let last = producer.enqueue("thumbs", &b"last"[..]).await.unwrap();
    let delivered = worker.next_delivery().await;
    assert_eq!(delivered.id, last);
    worker
        .send(&Reject {
            lease: delivered.lease,
            reason: "no".into(),
        })
        .await;
    errors_reach(&admin, "thumbs", 1).await;
    assert_eq!(admin.clear_all("thumbs").await.unwrap(), 1);
    assert_eq!(admin.data("thumbs").await.unwrap().errors, 0);
    assert!(matches!(
        admin.data("nope").await,
        Err(QueueError::UnknownQueue { .. })
    ));
}

#[actix::test]
async fn pause_stops_deliveries_and_refuses_enqueues_until_unpaused() {
    let (dispatcher, admin) = serve(WorkQueue::in_memory("thumbs"));
    let producer = producer(&dispatcher).await;
    let mut worker = RawWorker::connect(&dispatcher.address, "thumbs", 4).await;

    let processing = PauseChange {
        processing: Some(true),
        receiving: None,
    };
    let state = admin.pause("thumbs", processing).await.unwrap();
    assert!(state.processing_paused && !state.receiving_paused);
    let held = producer.enqueue("thumbs", &b"held"[..]).await.unwrap();
    let early = tokio::time::timeout(Duration::from_millis(600), worker.next_delivery()).await;
    assert!(early.is_err(), "delivered while paused: {early:?}");
    assert_eq!(admin.data("thumbs").await.unwrap().pending, 1);

    let receiving = PauseChange {
        receiving: Some(true),
        processing: None,
    };
    let state = admin.pause("thumbs", receiving).await.unwrap();
    assert!(state.processing_paused && state.receiving_paused);
    match producer.enqueue("thumbs", &b"refused"[..]).await {
        Err(WorkClientError::Refused { code, .. }) => assert_eq!(code, ErrorCode::Paused),
        other => panic!("an enqueue while receiving is paused: {other:?}"),
    }

    let resume = PauseChange {
        receiving: Some(false),
        processing: Some(false),
    };
    let state = admin.pause("thumbs", resume).await.unwrap();
    assert!(!state.processing_paused && !state.receiving_paused);
    let delivered = worker.next_delivery().await;
    assert_eq!(delivered.id, held);
    let more = producer.enqueue("thumbs", &b"more"[..]).await.unwrap();
    assert_eq!(worker.next_delivery().await.id, more);
}

#[actix::test]
async fn a_full_error_queue_drops_the_first_errored_and_counts_it() {
    let (dispatcher, admin) = serve(WorkQueue::in_memory("thumbs").max_errors(2));
    let producer = producer(&dispatcher).await;
    let mut worker = RawWorker::connect(&dispatcher.address, "thumbs", 1).await;
    let ids = producer
        .enqueue_many("thumbs", vec!["a".into(), "b".into(), "c".into()])
        .await
        .unwrap();
    for _ in &ids {
        let d = worker.next_delivery().await;
        worker
            .send(&Reject {
                lease: d.lease,
                reason: "no".into(),
            })
            .await;
    }
    recv_or_fail("the third item rejected", async {
        loop {
            let figures = dispatcher.figures().await.unwrap();
            if figures.queues["thumbs"].dead_lettered == 3 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert_eq!(errors_reach(&admin, "thumbs", 2).await, ids[1..]);
    let figures = dispatcher.figures().await.unwrap();
    assert_eq!(figures.queues["thumbs"].dead_dropped, 1);
    assert!(matches!(
        admin.inspect("thumbs", ItemId(ids[0])).await,
        Err(QueueError::NoSuchError { .. })
    ));
}

#[actix::test]
async fn a_lease_that_lapses_at_the_last_failure_goes_to_the_error_queue() {
    let queue = WorkQueue::in_memory("thumbs")
        .max_deliveries(1)
        .visibility(Duration::from_millis(200));
    let (dispatcher, admin) = serve(queue);
    let producer = producer(&dispatcher).await;
    let mut worker = RawWorker::connect(&dispatcher.address, "thumbs", 1).await;
    let id = producer.enqueue("thumbs", &b"stuck"[..]).await.unwrap();
    // Delivered, never answered nor extended: its lease lapses, its only counted failure.
    assert_eq!(worker.next_delivery().await.id, id);
    assert_eq!(errors_reach(&admin, "thumbs", 1).await, [id]);
    let stuck = admin.inspect("thumbs", ItemId(id)).await.unwrap();
    let reason = &stuck.item.errors[0].message;
    assert!(
        reason.starts_with("the lease lapsed") && reason.ends_with("(failure 1 of at most 1)"),
        "{reason}"
    );
}
