//! `hubwire work ...`: a work queue from the shell. `enqueue` speaks to the dispatcher's work
//! listener as a producer; `stats` and `workers` read the `work` figures of the application's
//! `hubwire.stats` (docs/work-queue.md).

use std::time::Duration;

use hubwire::client::Client;
use hubwire::standard::Stats;
use hubwire::work::{LinkOptions, Producer, WorkClientError};
use hubwire::Address;
use serde_json::{json, Value};

use super::call::{body_to_json, exit_code, json_to_body};
use super::server::ServerArg;
use super::{
    EXIT_CANNOT_CONNECT, EXIT_CONNECTION_LOST, EXIT_REMOTE_ERROR, EXIT_TIMEOUT, EXIT_USAGE,
};

/// Arguments of `hubwire work`.
#[derive(Debug, clap::Args)]
pub struct WorkArgs {
    /// The operation.
    #[command(subcommand)]
    pub operation: WorkOperation,
    /// Seconds to wait for each answer.
    #[arg(long, global = true, default_value_t = 10.0)]
    pub timeout: f64,
}

/// The operations of `hubwire work`.
#[derive(Debug, clap::Subcommand)]
pub enum WorkOperation {
    /// Enqueue a JSON value (sent as MessagePack) and print the ids it was stored under.
    Enqueue {
        /// The dispatcher's work listener (`tcp://127.0.0.1:7470`).
        address: String,
        /// The queue.
        queue: String,
        /// The item, as JSON.
        json: String,
        /// Enqueue it this many times, in one frame.
        #[arg(long, default_value_t = 1)]
        count: usize,
        /// A copy for every worker taking the queue (send_all), not stored.
        #[arg(long)]
        send_all: bool,
        /// How to check a tls:// dispatcher, and the certificate to show it.
        #[command(flatten)]
        tls: crate::TlsArgs,
        /// Who to authenticate as, on a dispatcher with users (or the address's user info).
        #[command(flatten)]
        auth: crate::AuthArgs,
    },
    /// Print every dispatcher's figures per queue and per worker (from hubwire.stats).
    Stats(AppTarget),
    /// Print every dispatcher's connected workers, their STATUS as JSON (from hubwire.stats).
    Workers(AppTarget),
}

/// The application whose dispatchers to read.
#[derive(Debug, clap::Args)]
pub struct AppTarget {
    /// The application's address (not the work listener), unless --server or HUBWIRE_URL
    /// gives it.
    #[arg(value_name = "ADDRESS")]
    pub address: Option<String>,
    /// Where the application is.
    #[command(flatten)]
    pub server: ServerArg,
}

/// Runs `hubwire work`; returns the exit code.
pub async fn work(args: WorkArgs) -> i32 {
    let timeout = Duration::from_secs_f64(args.timeout.max(0.001));
    match args.operation {
        WorkOperation::Enqueue {
            address,
            queue,
            json,
            count,
            send_all,
            tls,
            auth,
        } => {
            let (address, credentials) =
                crate::address_and_credentials(&address, auth.credentials());
            let tls = match tls.client() {
                Ok(tls) => tls,
                Err(e) => {
                    eprintln!("hubwire work enqueue: {e}");
                    return EXIT_USAGE;
                }
            };
            let link = LinkOptions { tls, credentials };
            let item = Item {
                queue: &queue,
                json: &json,
                count,
                send_all,
            };
            enqueue(&address, &link, item, timeout).await
        }
        WorkOperation::Stats(target) => figures(target, timeout, false).await,
        WorkOperation::Workers(target) => figures(target, timeout, true).await,
    }
}

/// What `hubwire work enqueue` sends.
struct Item<'a> {
    queue: &'a str,
    json: &'a str,
    count: usize,
    send_all: bool,
}

async fn enqueue(address: &str, link: &LinkOptions, item: Item<'_>, timeout: Duration) -> i32 {
    let Item {
        queue,
        json,
        count,
        send_all,
    } = item;
    let fail = |message: &dyn std::fmt::Display, code: i32| {
        eprintln!("hubwire work enqueue: {message}");
        code
    };
    let address: Address = match address.parse() {
        Ok(a) => a,
        Err(e) => return fail(&e, EXIT_USAGE),
    };
    let body = match json_to_body(json) {
        Ok(body) => body,
        Err(e) => return fail(&e, EXIT_USAGE),
    };
    if count == 0 {
        return fail(&"--count must be at least 1", EXIT_USAGE);
    }
    let connect = Producer::connect_with(&address, link);
    let producer = match tokio::time::timeout(timeout, connect).await {
        Ok(Ok(p)) => p.with_timeout(timeout),
        Ok(Err(e)) => return fail(&e, EXIT_CANNOT_CONNECT),
        Err(_) => return fail(&format!("no answer within {timeout:?}"), EXIT_TIMEOUT),
    };
    let answer = if send_all {
        producer.send_all(queue, body).await.map(|id| vec![id])
    } else {
        producer.enqueue_many(queue, vec![body; count]).await
    };
    match answer {
        Ok(ids) => {
            println!("{}", json!({ "ids": ids }));
            0
        }
        Err(WorkClientError::Refused { code, message }) => {
            eprintln!(
                "hubwire work enqueue: {} ({}): {message}",
                code.as_u16(),
                code
            );
            EXIT_REMOTE_ERROR
        }
        Err(e @ WorkClientError::Timeout(_)) => fail(&e, EXIT_TIMEOUT),
        Err(e) => fail(&e, EXIT_CONNECTION_LOST),
    }
}

async fn figures(target: AppTarget, timeout: Duration, workers_only: bool) -> i32 {
    let command = if workers_only { "workers" } else { "stats" };
    let address = match target.server.resolve(target.address.as_deref(), None) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("hubwire work {command}: {e}");
            return EXIT_USAGE;
        }
    };
    let address: Address = match address.parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("hubwire work {command}: {e}");
            return EXIT_USAGE;
        }
    };
    let client = Client::new(address);
    let stats = match client.call_with_timeout::<Stats>(&(), timeout).await {
        Ok(stats) => stats,
        Err(e) => {
            eprintln!("hubwire work {command}: {e}");
            return exit_code(&e);
        }
    };
    let mut out = serde_json::Map::new();
    for (name, figures) in stats.work {
        let workers: Vec<Value> = figures
            .workers
            .iter()
            .map(|w| {
                let status = body_to_json(&w.status)
                    .ok()
                    .and_then(|text| serde_json::from_str(&text).ok())
                    .unwrap_or(Value::Null);
                json!({
                    "worker": w.worker,
                    "name": w.name,
                    "queues": w.queues,
                    "credit": w.credit,
                    "in_flight": w.in_flight,
                    "delivered": w.delivered,
                    "acked": w.acked,
                    "broadcast_backlog": w.broadcast_backlog,
                    "status": status,
                    "last_heard_ms": w.last_heard_ms,
                })
            })
            .collect();
        let value = if workers_only {
            Value::Array(workers)
        } else {
            json!({
                "queues": figures.queues,
                "workers": workers,
                "policy_faults": figures.policy_faults,
                "broadcast_dropped": figures.broadcast_dropped,
            })
        };
        out.insert(name, value);
    }
    println!("{}", Value::Object(out));
    0
}
