//! A relay node of a work-queue tree: a worker of its parent dispatcher (`parent`) and a
//! dispatcher for its own children, so work flows down a tree (root -> relays -> workers).
//! An item from the parent is acked to it once one of this relay's children acked it; if the
//! relay dies, the parent delivers what it held elsewhere.
//!
//! Run: `cargo run --example work_dispatcher`, then
//! `cargo run --example work_relay -- --set 'extra={"parent": "tcp://127.0.0.1:7470"}'`, then
//! `cargo run --example work_worker -- --address tcp://127.0.0.1:7471`.
//! Settings (in `extra`): `parent` (required), `work_listen` (default `tcp://127.0.0.1:7471`),
//! `queue` (default `jobs`, the same name up and down), `credit` (items taken from the parent
//! at once, default 16), `heartbeat_ms`.

use std::process::ExitCode;
use std::time::Duration;

use hubwire::prelude::*;
use hubwire::work::{run_relay, start_dispatcher, DispatcherOptions, WorkQueue, WorkerOptions};

fn main() -> ExitCode {
    App::new("work_relay")
        .with_store(|builder, config, _store| {
            let extra = &config.extra;
            let text = |key: &str, default: &str| {
                extra
                    .get(key)
                    .and_then(|v| v.as_str())
                    .unwrap_or(default)
                    .to_owned()
            };
            let parent: Address = text("parent", "")
                .parse()
                .map_err(|e| format!("extra.parent must be the parent's work address: {e}"))?;
            let listen: Address = text("work_listen", "tcp://127.0.0.1:7471").parse()?;
            let queue = text("queue", "jobs");
            let credit = extra.get("credit").and_then(|v| v.as_u64()).unwrap_or(16) as u32;
            let mut options = DispatcherOptions::new(listen)
                .name("work_relay")
                .queue(WorkQueue::in_memory(queue.clone()));
            if let Some(ms) = extra.get("heartbeat_ms").and_then(|v| v.as_u64()) {
                options = options.heartbeat_timeout(Duration::from_millis(ms));
            }
            let handle = start_dispatcher(options, None)?;
            println!("work_relay work queue listening on {}", handle.address);
            let upward = WorkerOptions::new([queue.clone()])
                .credit(credit)
                .name("relay");
            hubwire::actix::spawn(async move {
                if let Err(e) = run_relay(&parent, upward, handle.addr, queue).await {
                    eprintln!("work_relay: the parent is gone: {e}");
                    std::process::exit(1);
                }
            });
            Ok(builder)
        })
        .run()
}
