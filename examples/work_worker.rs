//! A work-queue worker: takes items from a dispatcher (`work_dispatcher.rs`) and writes down
//! each one it starts and finishes in a journal file, so a test can see what ran where, and how
//! often. Each item takes `--delay-ms`; SIGTERM drains (finishes what it holds, takes nothing
//! new, disconnects).
//!
//! Run: `cargo run --example work_worker -- --address tcp://127.0.0.1:7470 --queue jobs`.
//! Flags: `--address`, `--queue`, `--credit` (default 1), `--delay-ms` (default 0),
//! `--journal` (a file; default: none), `--name` (default `worker`), `--status` (a JSON map
//! sent as its STATUS, e.g. `{"busy": true}`).
//!
//! Journal lines: `start <id> <delivery> <name> <body>`, `done <id> <name> <body>` (the body
//! as text, spaces replaced by `_`).

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hubwire::work::{Job, JobOutcome, Worker, WorkerOptions};
use hubwire::Address;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flags: HashMap<String, String> = args
        .chunks(2)
        .filter_map(|pair| match pair {
            [key, value] => Some((key.trim_start_matches("--").to_owned(), value.clone())),
            _ => None,
        })
        .collect();
    let flag = |key: &str, default: &str| flags.get(key).cloned().unwrap_or(default.to_owned());
    let address: Address = flag("address", "tcp://127.0.0.1:7470")
        .parse()
        .expect("--address is an address");
    let name = flag("name", "worker");
    let delay = Duration::from_millis(flag("delay-ms", "0").parse().expect("--delay-ms"));
    let mut options = WorkerOptions::new([flag("queue", "jobs")])
        .credit(flag("credit", "1").parse().expect("--credit"))
        .name(name.clone());
    if let Some(status) = flags.get("status") {
        let json: serde_json::Value = serde_json::from_str(status).expect("--status is JSON");
        options = options.status(rmp_serde_bytes(&json));
    }
    let journal = flags.get("journal").map(|path| {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("the journal opens");
        Arc::new(Mutex::new(file))
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        let worker = match Worker::connect(&address, options).await {
            Ok(worker) => worker,
            Err(e) => {
                eprintln!("work_worker: {e}");
                return std::process::ExitCode::from(3);
            }
        };
        println!("work_worker {name} ready with credit {}", worker.credit());
        let drain = worker.drain_handle();
        tokio::spawn(async move {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("a SIGTERM handler");
            term.recv().await;
            drain.drain();
        });
        let result = worker
            .run(move |job: Job| {
                let (journal, name) = (journal.clone(), name.clone());
                async move {
                    let body = String::from_utf8_lossy(&job.body).replace([' ', '\n'], "_");
                    let (id, delivery) = (job.id, job.delivery);
                    note(&journal, &format!("start {id} {delivery} {name} {body}"));
                    tokio::time::sleep(delay).await;
                    note(&journal, &format!("done {id} {name} {body}"));
                    JobOutcome::Done
                }
            })
            .await;
        match result {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("work_worker: {e}");
                std::process::ExitCode::from(1)
            }
        }
    })
}

/// Appends one line to the journal, flushed at once (a `kill -9` loses nothing written).
fn note(journal: &Option<Arc<Mutex<std::fs::File>>>, line: &str) {
    if let Some(file) = journal {
        let mut file = file.lock().unwrap();
        let _ = writeln!(file, "{line}");
        let _ = file.flush();
    }
}

/// A JSON value as MessagePack, maps keyed by name.
fn rmp_serde_bytes(value: &serde_json::Value) -> Vec<u8> {
    let value: rmpv::Value = serde_json::from_value(value.clone()).expect("JSON to MessagePack");
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &value).expect("MessagePack encodes");
    out
}
