//! The `job_journal` example as a test server: a queued route `journal.write` whose handler
//! appends each request id to a journal file, so a test can see what was processed, and how
//! often.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use hubwire::prelude::*;
use hubwire::queue::QueueData;
use hubwire::standard::{PauseRequest, QueueDataRoute, QueueName, QueuePause};

use super::process::{AppProcess, TempDir};

/// A journal note; `fail` makes every attempt fail.
#[derive(Debug, Serialize, Deserialize)]
pub struct Note {
    pub note: String,
    pub fail: bool,
}

route!(pub WriteNote = "journal.write", Note => ());

/// The queue's name.
pub const QUEUE: &str = "journal.write";
/// The example's worker count: at most this many items are being processed at a kill.
pub const WORKERS: usize = 4;
/// How long a test waits for a queue to drain or fill.
pub const DRAIN: Duration = Duration::from_secs(60);

/// The journal example on an ephemeral port, with its lock, data and journal in `dir`, each
/// request taking `delay_ms`, and `flags` added.
pub fn journal_with(dir: &TempDir, delay_ms: u64, flags: &[&str]) -> AppProcess {
    let lock = dir.path("lock").display().to_string();
    let data = dir.path("data").display().to_string();
    let extra = format!(
        r#"extra={{"delay_ms": {delay_ms}, "journal": "{}"}}"#,
        dir.path("journal.log").display()
    );
    let mut args = vec![
        "--lock-dir",
        &lock,
        "--data-dir",
        &data,
        "--listen",
        "tcp://127.0.0.1:0",
        "--set",
        &extra,
    ];
    args.extend_from_slice(flags);
    AppProcess::start("job_journal", &args, &[], 1)
}

/// The journal example with default flags.
pub fn journal(dir: &TempDir, delay_ms: u64) -> AppProcess {
    journal_with(dir, delay_ms, &[])
}

/// The notes the journal holds, in the order written.
pub fn journal_notes(dir: &TempDir) -> Vec<String> {
    let text = std::fs::read_to_string(dir.path("journal.log")).unwrap_or_default();
    text.lines()
        .map(|line| line.split_once(' ').expect("id and note").1.to_owned())
        .collect()
}

/// The ids the journal holds, in the order written (an id twice: processed twice).
pub fn journal_ids(dir: &TempDir) -> Vec<u64> {
    let text = std::fs::read_to_string(dir.path("journal.log")).unwrap_or_default();
    text.lines()
        .map(|line| line.split(' ').next().unwrap().parse().expect("an id"))
        .collect()
}

/// Enqueues one note; answers its id.
pub async fn enqueue(client: &Client, note: &str, fail: bool) -> Result<u64, CallError> {
    let note = Note {
        note: note.to_owned(),
        fail,
    };
    Ok(client.call::<Enqueue<WriteNote>>(&note).await?.id)
}

/// The queue's figures.
pub async fn queue_data(client: &Client) -> QueueData {
    let queue = QueueName {
        queue: QUEUE.to_owned(),
    };
    client
        .call::<QueueDataRoute>(&queue)
        .await
        .expect("queue data")
}

/// Pauses or unpauses the halves named.
pub async fn pause(client: &Client, receiving: Option<bool>, processing: Option<bool>) {
    let request = PauseRequest {
        queue: QUEUE.to_owned(),
        receiving,
        processing,
    };
    client.call::<QueuePause>(&request).await.expect("pause");
}

/// Waits until `done` holds of the queue's figures; returns them then.
pub async fn wait_for(client: &Client, what: &str, done: impl Fn(&QueueData) -> bool) -> QueueData {
    let deadline = Instant::now() + DRAIN;
    loop {
        let data = queue_data(client).await;
        if done(&data) {
            return data;
        }
        assert!(Instant::now() < deadline, "{what}: {data:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until nothing is pending.
pub async fn drained(client: &Client) -> QueueData {
    wait_for(client, "the queue did not drain", |d| d.pending == 0).await
}

/// Every acknowledged id is in the journal; an id is there twice only if it was in flight at
/// the interruption, so at most `max_duplicates` are.
pub fn assert_each_processed(acked: &BTreeSet<u64>, journal: &[u64], max_duplicates: usize) {
    let mut seen: HashMap<u64, usize> = HashMap::new();
    for id in journal {
        *seen.entry(*id).or_default() += 1;
    }
    let missing: Vec<u64> = acked
        .iter()
        .filter(|id| !seen.contains_key(id))
        .copied()
        .collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged ids were never processed, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    let duplicates: usize = seen.values().map(|n| n - 1).sum();
    assert!(
        duplicates <= max_duplicates,
        "{duplicates} ids processed twice (at most {max_duplicates} were in flight)"
    );
}
