//! Guards leases, credit and dispatch with real processes: a long job that extends its lease
//! past the visibility time is not delivered again, a lease not extended lapses and goes to
//! another worker, no worker holds more than its credit, a STATUS-driven policy steers items
//! away from a worker that reports itself busy, and `send_all` reaches every worker.

mod support;

use std::time::Duration;

use hubwire::protocol::{kind, Ack, Envelope, Take};
use support::process::TempDir;
use support::work::*;

#[tokio::test(flavor = "current_thread")]
async fn a_long_job_extends_its_lease_and_is_not_redelivered() {
    let dir = TempDir::new("work-long-job");
    let d = dispatcher(&dir, r#""durable": false, "visibility_ms": 1000"#);
    let producer = producer(&d.work).await;
    let _slow = worker(&dir, &d.work, "slow", &["--delay-ms", "3500"]);
    let id = producer.enqueue("jobs", "long").await.unwrap();
    wait_until("slow to start", Duration::from_secs(5), || {
        !starts(&dir, "slow").is_empty()
    })
    .await;
    let _other = worker(&dir, &d.work, "other", &[]);
    wait_until("slow to finish", Duration::from_secs(10), || {
        !dones(&dir, "slow").is_empty()
    })
    .await;
    let figures = d.figures().await;
    assert_eq!(starts(&dir, "slow"), [(id, 1)]);
    assert!(
        starts(&dir, "other").is_empty(),
        "never given to another worker"
    );
    let jobs = &figures.queues["jobs"];
    assert_eq!((jobs.lapsed, jobs.redelivered, jobs.acked), (0, 0, 1));
}

#[tokio::test(flavor = "current_thread")]
async fn a_lease_not_extended_lapses_and_goes_to_another_worker() {
    let dir = TempDir::new("work-lapse");
    let d = dispatcher(&dir, r#""durable": false, "visibility_ms": 500"#);
    let producer = producer(&d.work).await;
    let mut silent = RawWorker::connect(&d.work, "jobs", 1).await;
    let id = producer.enqueue("jobs", "x").await.unwrap();
    let first = silent.next_delivery().await;
    assert_eq!((first.id, first.delivery), (id, 1));
    // It takes nothing more and never extends the lease it holds.
    silent
        .send(&Take {
            queues: vec!["jobs".into()],
            credit: 0,
        })
        .await;
    let _other = worker(&dir, &d.work, "other", &[]);
    wait_until(
        "the lapsed item to be done elsewhere",
        Duration::from_secs(5),
        || !dones(&dir, "other").is_empty(),
    )
    .await;
    assert_eq!(starts(&dir, "other"), [(id, 2)]);
    // The late ACK names a lease that is no longer held: refused, nothing changes.
    silent.send(&Ack { lease: first.lease }).await;
    loop {
        let frame = silent.next_frame().await;
        if frame.kind == kind::ERROR {
            let e = hubwire::protocol::ErrorFrame::from_frame(&frame).unwrap();
            assert_eq!(e.code, hubwire::protocol::ErrorCode::NotFound);
            break;
        }
    }
    let jobs = d.figures().await.queues["jobs"].clone();
    assert_eq!((jobs.lapsed, jobs.acked), (1, 1));
}

#[tokio::test(flavor = "current_thread")]
async fn no_worker_holds_more_than_its_credit() {
    let dir = TempDir::new("work-credit");
    let d = dispatcher(&dir, r#""durable": false"#);
    let producer = producer(&d.work).await;
    let _two = worker(
        &dir,
        &d.work,
        "two",
        &["--credit", "2", "--delay-ms", "150"],
    );
    let _three = worker(
        &dir,
        &d.work,
        "three",
        &["--credit", "3", "--delay-ms", "150"],
    );
    let bodies = (0..30)
        .map(|n| bytes::Bytes::from(format!("{n}")))
        .collect();
    producer.enqueue_many("jobs", bodies).await.unwrap();
    wait_until("all thirty done", Duration::from_secs(20), || {
        dones(&dir, "two").len() + dones(&dir, "three").len() == 30
    })
    .await;
    for (name, credit) in [("two", 2), ("three", 3)] {
        let mut held = 0i32;
        let mut most = 0;
        for event in journal(&dir, name) {
            held += if matches!(event, Event::Start { .. }) {
                1
            } else {
                -1
            };
            most = most.max(held);
        }
        assert_eq!(
            most, credit,
            "{name} held at most (and at times exactly) its credit"
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_busy_status_steers_items_to_the_other_worker() {
    let dir = TempDir::new("work-status");
    let d = dispatcher(&dir, r#""durable": false, "policy": "weighted-by-status""#);
    let producer = producer(&d.work).await;
    let _busy = worker(
        &dir,
        &d.work,
        "busy",
        &["--credit", "10", "--status", r#"{"busy": true}"#],
    );
    let _free = worker(
        &dir,
        &d.work,
        "free",
        &["--credit", "10", "--delay-ms", "20"],
    );
    let bodies = (0..20)
        .map(|n| bytes::Bytes::from(format!("{n}")))
        .collect();
    producer.enqueue_many("jobs", bodies).await.unwrap();
    wait_until("twenty done", Duration::from_secs(10), || {
        dones(&dir, "free").len() == 20
    })
    .await;
    assert!(
        journal(&dir, "busy").is_empty(),
        "the busy worker got nothing"
    );
    let figures = d.figures().await;
    let busy = figures.workers.iter().find(|w| w.name == "busy").unwrap();
    assert!(!busy.status.is_empty(), "its STATUS is in the figures");
}

#[tokio::test(flavor = "current_thread")]
async fn send_all_reaches_every_worker_and_an_item_only_one() {
    let dir = TempDir::new("work-send-all");
    let d = dispatcher(&dir, r#""durable": false"#);
    let producer = producer(&d.work).await;
    let names = ["w1", "w2", "w3"];
    let _workers: Vec<_> = names
        .iter()
        .map(|n| worker(&dir, &d.work, n, &[]))
        .collect();
    let everyone = producer.send_all("jobs", "reload").await.unwrap();
    let one = producer.enqueue("jobs", "once").await.unwrap();
    wait_until(
        "every copy and the item done",
        Duration::from_secs(10),
        || names.iter().map(|n| dones(&dir, n).len()).sum::<usize>() == 4,
    )
    .await;
    for name in names {
        assert!(
            dones(&dir, name).contains(&everyone),
            "{name} got the send_all item"
        );
    }
    let got_one: usize = names
        .iter()
        .map(|n| dones(&dir, n).iter().filter(|&&id| id == one).count())
        .sum();
    assert_eq!(got_one, 1);
}
