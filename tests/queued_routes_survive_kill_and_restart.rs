//! Guards the durability of queued routes with real processes: an acknowledged request is
//! processed or still queued after `kill -9` and a restart; SIGTERM with a backlog loses
//! nothing; pause receiving refuses, pause processing holds, and both hold across a restart.
//! The server is the `job_journal` example: its handler appends the request id to a journal
//! file, so the test can see what was processed, and how often.

mod support;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hubwire::prelude::*;
use support::journal::*;
use support::process::TempDir;

/// kill -9 mid-stream (requests being enqueued and processed), restart: every acknowledged id
/// is processed, the ones still queued at the kill after the restart.
#[tokio::test(flavor = "current_thread")]
async fn every_acknowledged_request_survives_kill_9() {
    let dir = TempDir::new("queue-kill");
    let mut server = journal(&dir, 2);
    let client = Client::new(server.address("tcp"));
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let mut callers = Vec::new();
    for caller in 0..64 {
        let (client, acked) = (client.clone(), acked.clone());
        callers.push(tokio::spawn(async move {
            for n in 0.. {
                match enqueue(&client, &format!("c{caller}-{n}"), false).await {
                    Ok(id) => acked.lock().unwrap().insert(id),
                    Err(_) => return,
                };
            }
        }));
    }
    let deadline = Instant::now() + DRAIN;
    while acked.lock().unwrap().len() < 2000 {
        assert!(Instant::now() < deadline, "the enqueues did not go through");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.child.kill().expect("SIGKILL");
    server.wait();
    for caller in callers {
        caller.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let processed_before = journal_ids(&dir).len();
    assert!(
        processed_before < acked.len(),
        "a backlog was queued at the kill ({processed_before} of {} processed)",
        acked.len()
    );

    let server = journal(&dir, 0);
    let client = Client::new(server.address("tcp"));
    drained(&client).await;
    // Run again: items being processed at the kill, or processed with their removal not yet
    // committed. A commit takes a few ms and an item 2 ms, so a worker finishes a few items per
    // commit: the bound allows 8 per worker, far below the thousands a lost commit would show.
    assert_each_processed(&acked, &journal_ids(&dir), 8 * WORKERS);
}

/// SIGTERM with a backlog exits cleanly and loses nothing: the backlog is processed after the
/// restart.
#[tokio::test(flavor = "current_thread")]
async fn sigterm_with_a_backlog_loses_nothing() {
    let dir = TempDir::new("queue-term");
    let mut server = journal(&dir, 20);
    let client = Client::new(server.address("tcp"));
    let mut acked = BTreeSet::new();
    let calls: Vec<_> = (0..250)
        .map(|n| {
            let client = client.clone();
            tokio::spawn(async move { enqueue(&client, &format!("n{n}"), false).await })
        })
        .collect();
    for call in calls {
        acked.insert(call.await.unwrap().expect("acknowledged"));
    }
    server.signal(libc::SIGTERM);
    assert!(server.wait().success(), "{:?}", server.stderr());
    let processed_before = journal_ids(&dir).len();
    assert!(
        processed_before < acked.len(),
        "a backlog was queued at SIGTERM ({processed_before} of 250 processed)"
    );

    let server = journal(&dir, 0);
    let client = Client::new(server.address("tcp"));
    let data = drained(&client).await;
    assert_eq!(data.errors, 0);
    assert!(
        data.processed as usize >= acked.len() - processed_before,
        "the restarted process worked through the backlog: {data:?}"
    );
    // A handler running at the shutdown may run again.
    assert_each_processed(&acked, &journal_ids(&dir), WORKERS);
}

/// Pause receiving refuses with `paused`; pause processing stores but holds; both states
/// survive a restart; unpausing resumes.
#[tokio::test(flavor = "current_thread")]
async fn pause_refuses_and_holds_across_a_restart() {
    let dir = TempDir::new("queue-pause");
    let mut server = journal(&dir, 0);
    let client = Client::new(server.address("tcp"));
    pause(&client, Some(true), Some(true)).await;
    match enqueue(&client, "refused", false).await {
        Err(CallError::Remote { code, message }) => {
            assert_eq!(code, ErrorCode::Paused);
            assert!(message.contains("paused"), "{message}");
        }
        other => panic!("a paused route refuses: {other:?}"),
    }
    pause(&client, Some(false), None).await;
    let mut acked = BTreeSet::new();
    for n in 0..5 {
        acked.insert(enqueue(&client, &format!("held{n}"), false).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(journal_ids(&dir).is_empty(), "processing is paused");

    pause(&client, Some(true), None).await;
    server.signal(libc::SIGTERM);
    assert!(server.wait().success());

    let server = journal(&dir, 0);
    let client = Client::new(server.address("tcp"));
    let data = queue_data(&client).await;
    assert!(data.pause.receiving_paused && data.pause.processing_paused);
    assert_eq!(data.pending, 5);
    assert!(matches!(
        enqueue(&client, "still refused", false).await,
        Err(CallError::Remote {
            code: ErrorCode::Paused,
            ..
        })
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(journal_ids(&dir).is_empty(), "processing is still paused");

    pause(&client, Some(false), Some(false)).await;
    acked.insert(enqueue(&client, "after", false).await.unwrap());
    drained(&client).await;
    assert_each_processed(&acked, &journal_ids(&dir), 0);
}
