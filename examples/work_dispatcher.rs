//! A work-queue dispatcher in a hubwire app: one queue (`jobs` by default) leased to remote
//! workers (see `work_worker.rs` and `docs/work-queue.md`). Durable by default: an enqueue is
//! answered once committed to the app's store, and a restart delivers again what was not acked.
//!
//! Run: `cargo run --example work_dispatcher`, then `cargo run --example work_worker` and
//! `cargo run --bin hubwire -- work enqueue tcp://127.0.0.1:7470 jobs '"hello"'`.
//! Settings (in `extra`, e.g. `--set 'extra={"visibility_ms": 2000}'`): `work_listen`
//! (default `tcp://127.0.0.1:7470`), `queue`, `durable` (default true), `visibility_ms`,
//! `max_deliveries`, `max_errors` (an in-memory queue's error queue bound), `heartbeat_ms`,
//! `max_connections`, `policy` (`least-in-flight`, `round-robin`, `weighted-by-status`).

use std::process::ExitCode;
use std::time::Duration;

use hubwire::prelude::*;
use hubwire::work::{policy_by_name, DispatcherOptions, WorkQueue};

fn main() -> ExitCode {
    App::new("work_dispatcher")
        .work(|config: &Config| {
            let extra = &config.extra;
            let text = |key: &str, default: &str| {
                extra
                    .get(key)
                    .and_then(|v| v.as_str())
                    .unwrap_or(default)
                    .to_owned()
            };
            let number = |key: &str| extra.get(key).and_then(|v| v.as_u64());
            let listen = text("work_listen", "tcp://127.0.0.1:7470");
            let name = text("queue", "jobs");
            let durable = extra
                .get("durable")
                .and_then(|v| v.as_bool())
                .unwrap_or(true);
            let mut queue = if durable {
                WorkQueue::durable(name)
            } else {
                WorkQueue::in_memory(name)
            };
            if let Some(ms) = number("visibility_ms") {
                queue = queue.visibility(Duration::from_millis(ms));
            }
            if let Some(n) = number("max_deliveries") {
                queue = queue.max_deliveries(n as u32);
            }
            if let Some(n) = number("max_errors") {
                queue = queue.max_errors(n as usize);
            }
            let mut options =
                DispatcherOptions::new(listen.parse().expect("work_listen is an address"))
                    .name("work_dispatcher")
                    .queue(queue);
            if let Some(n) = number("max_connections") {
                options = options.max_connections(n as usize);
            }
            if let Some(ms) = number("heartbeat_ms") {
                options = options.heartbeat_timeout(Duration::from_millis(ms));
            }
            let policy = text("policy", "least-in-flight");
            let policy = policy_by_name(&policy).expect("a built-in policy name");
            options.boxed_policy(policy)
        })
        .run()
}
