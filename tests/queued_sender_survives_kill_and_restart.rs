//! Guards queued senders with real processes: `kill -9` of the sending process mid-stream,
//! then a restart: every message it acknowledged is delivered at least once (or is in
//! errored); and a sender rides out its destination being stopped and started again.
//! The sender is the `forwarder` example; the destination is the `job_journal` example, whose
//! journal shows what arrived.

mod support;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hubwire::prelude::*;
use support::forwarder::*;
use support::journal::*;
use support::process::TempDir;

/// A free loopback port for a process that must come back on the same address.
fn free_address() -> Address {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    format!("tcp://127.0.0.1:{port}").parse().unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn kill_9_of_the_sender_loses_no_acknowledged_message() {
    let journal_dir = TempDir::new("sender-kill-journal");
    let target = journal(&journal_dir, 0);
    let dir = TempDir::new("sender-kill");
    let mut sender = forwarder(&dir, &target.address("tcp"));
    let client = Client::new(sender.address("tcp"));

    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let mut callers = Vec::new();
    for caller in 0..32 {
        let (client, acked) = (client.clone(), acked.clone());
        callers.push(tokio::spawn(async move {
            for n in 0.. {
                let note = format!("c{caller}-{n}");
                match forward(&client, &note).await {
                    Ok(_) => acked.lock().unwrap().insert(note),
                    Err(_) => return,
                };
            }
        }));
    }
    let deadline = Instant::now() + DRAIN;
    while acked.lock().unwrap().len() < 1500 {
        assert!(Instant::now() < deadline, "the sends did not go through");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    sender.child.kill().expect("SIGKILL");
    sender.wait();
    for caller in callers {
        caller.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();

    let sender = forwarder(&dir, &target.address("tcp"));
    let client = Client::new(sender.address("tcp"));
    let data = sender_drained(&client, DRAIN).await;
    assert_eq!(data.errors, 0, "nothing errored: {data:?}");
    let journal_client = Client::new(target.address("tcp"));
    drained(&journal_client).await;
    let delivered: BTreeSet<String> = journal_notes(&journal_dir).into_iter().collect();
    let missing: Vec<&String> = acked.difference(&delivered).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged messages never arrived, e.g. {:?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(5)]
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_sender_rides_out_its_destination_stopping_and_starting_again() {
    let journal_dir = TempDir::new("sender-bounce-journal");
    let address = free_address();
    let on = address.to_string();
    let mut target = journal_with(&journal_dir, 0, &["--listen", &on]);
    let dir = TempDir::new("sender-bounce");
    let sender = forwarder(&dir, &address);
    let client = Client::new(sender.address("tcp"));

    for n in 0..10 {
        forward(&client, &format!("before{n}")).await.unwrap();
    }
    sender_drained(&client, DRAIN).await;
    target.signal(libc::SIGTERM);
    assert!(target.wait().success());

    for n in 0..10 {
        forward(&client, &format!("while-down{n}")).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let data = sender_data(&client).await;
    assert_eq!(
        data.pending, 10,
        "held while the destination is down: {data:?}"
    );
    assert!(data.retrying > 0, "retrying: {data:?}");

    let _target = journal_with(&journal_dir, 0, &["--listen", &on]);
    let data = sender_drained(&client, DRAIN).await;
    assert_eq!((data.errors, data.processed), (0, 20), "{data:?}");
    let notes: BTreeSet<String> = journal_notes(&journal_dir).into_iter().collect();
    for n in 0..10 {
        assert!(notes.contains(&format!("before{n}")));
        assert!(notes.contains(&format!("while-down{n}")), "{notes:?}");
    }
}

/// The forwarder example feeds the dice server's queued route and rides out the dice server
/// being stopped and started again.
#[tokio::test(flavor = "current_thread")]
async fn the_forwarder_feeds_the_dice_server_across_its_restart() {
    use hubwire::standard::{QueueDataRoute, QueueName};
    let dice_dir = TempDir::new("forward-dice");
    let address = free_address();
    let (on, data) = (
        address.to_string(),
        dice_dir.path("data").display().to_string(),
    );
    let lock = dice_dir.path("lock").display().to_string();
    let dice_args = ["--listen", &on, "--data-dir", &data, "--lock-dir", &lock];
    let mut dice = support::process::AppProcess::start("dice_server", &dice_args, &[], 1);
    let dir = TempDir::new("forward");
    let sender = forwarder_to(&dir, &address, "dice.roll_times");
    let client = Client::new(sender.address("tcp"));
    // One-sided dice always roll the maximum, so every roll succeeds.
    let roll = serde_json::json!({"sides": 1, "how_many": 3});
    for _ in 0..5 {
        client.call::<Forward>(&roll).await.unwrap();
    }
    sender_drained(&client, DRAIN).await;
    dice.signal(libc::SIGTERM);
    assert!(dice.wait().success());
    for _ in 0..5 {
        client.call::<Forward>(&roll).await.unwrap();
    }
    let _dice = support::process::AppProcess::start("dice_server", &dice_args, &[], 1);
    let figures = sender_drained(&client, DRAIN).await;
    assert_eq!((figures.processed, figures.errors), (10, 0), "{figures:?}");
    let dice_client = Client::new(address);
    let queue = QueueName {
        queue: "dice.roll_times".into(),
    };
    let deadline = Instant::now() + DRAIN;
    loop {
        let rolled = dice_client.call::<QueueDataRoute>(&queue).await.unwrap();
        if rolled.pending == 0 && rolled.processed == 5 {
            assert_eq!(rolled.errors, 0);
            break;
        }
        assert!(Instant::now() < deadline, "{rolled:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
