//! Guards the dispatcher against a worker that stops reading: producers are answered and the
//! other workers served while it is stuck, and once it misses its heartbeat it is taken for
//! lost and what it held is delivered to others. Connections past the dispatcher's bound are
//! refused with ERROR 500 `busy`, and those it holds are still served.

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

#[tokio::test(flavor = "current_thread")]
async fn connections_past_the_bound_are_refused_busy() {
    use hubwire::protocol::{kind, Envelope, ErrorCode, ErrorFrame, Hello, PROTOCOL_VERSION};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = TempDir::new("work-max-conns");
    let d = dispatcher(&dir, r#""durable": false, "max_connections": 2"#);
    let mut first = RawWorker::connect(&d.work, "jobs", 1).await;
    let producer = producer(&d.work).await;
    let hp = d.work.to_string().trim_start_matches("tcp://").to_owned();
    let mut third = tokio::net::TcpStream::connect(hp).await.unwrap();
    let hello = Hello {
        version: PROTOCOL_VERSION,
        agent: "third".into(),
        max_frame: 1 << 20,
        max_in_flight: 0,
    };
    third
        .write_all(&hello.to_frame_bytes().unwrap())
        .await
        .unwrap();
    let mut buf = bytes::BytesMut::new();
    let frame = loop {
        if let Some(frame) = hubwire::protocol::decode_frame(&mut buf, 1 << 20).unwrap() {
            break frame;
        }
        let n = tokio::time::timeout(Duration::from_secs(10), third.read_buf(&mut buf))
            .await
            .expect("an answer in time")
            .unwrap();
        assert!(n > 0, "closed without a word");
    };
    assert_eq!(frame.kind, kind::ERROR);
    assert_eq!(
        ErrorFrame::from_frame(&frame).unwrap().code,
        ErrorCode::Busy
    );
    // The two it holds are served.
    let id = producer.enqueue("jobs", "still served").await.unwrap();
    assert_eq!(first.next_delivery().await.id, id);
}
