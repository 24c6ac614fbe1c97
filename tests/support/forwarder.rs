//! The `forwarder` example as a test process: `forward.send` stores a body in sender
//! `to-remote`, which delivers it to a journal process's `journal.write`.

use std::time::{Duration, Instant};

use hubwire::prelude::*;
use hubwire::queue::QueueData;
use hubwire::standard::{QueueName, SenderData};

use super::process::{AppProcess, TempDir};

/// What `forward.send` answers.
#[derive(Debug, Serialize, Deserialize)]
pub struct Forwarded {
    pub id: u64,
}

route!(pub Forward = "forward.send", serde_json::Value => Forwarded);

/// The sender's name in the example.
pub const SENDER: &str = "to-remote";

/// The forwarder on an ephemeral port, its lock and data in `dir`, delivering to
/// `journal.write` at `target`.
pub fn forwarder(dir: &TempDir, target: &Address) -> AppProcess {
    forwarder_to(dir, target, "journal.write")
}

/// The forwarder delivering to `route` at `target`.
pub fn forwarder_to(dir: &TempDir, target: &Address, route: &str) -> AppProcess {
    let lock = dir.path("lock").display().to_string();
    let data = dir.path("data").display().to_string();
    let extra = format!(r#"extra={{"target": "{target}", "route": "{route}"}}"#);
    let args = [
        "--lock-dir",
        &lock,
        "--data-dir",
        &data,
        "--listen",
        "tcp://127.0.0.1:0",
        "--set",
        &extra,
    ];
    AppProcess::start("forwarder", &args, &[], 1)
}

/// Forwards note `note`; answers the id the sender stored it under.
pub async fn forward(client: &Client, note: &str) -> Result<u64, CallError> {
    let body = serde_json::json!({"note": note, "fail": false});
    Ok(client.call::<Forward>(&body).await?.id)
}

/// The sender's figures.
pub async fn sender_data(client: &Client) -> QueueData {
    let name = QueueName {
        queue: SENDER.to_owned(),
    };
    client.call::<SenderData>(&name).await.expect("sender data")
}

/// Waits until the sender holds nothing (everything delivered or errored).
pub async fn sender_drained(client: &Client, within: Duration) -> QueueData {
    let deadline = Instant::now() + within;
    loop {
        let data = sender_data(client).await;
        if data.pending == 0 {
            return data;
        }
        assert!(
            Instant::now() < deadline,
            "the sender did not drain: {data:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
