//! `hubwire queue ...` and `hubwire sender ...`: the operator's view of an application's queued
//! routes and senders, through the `hubwire.queue.*` and `hubwire.sender.*` endpoints. Each
//! subcommand is one call: its reply printed as JSON with times as dates, or what it did in
//! words (`requeue`, `requeue-all`, `clear`); `--json` prints the reply unchanged.

use serde_json::{json, Value};

use super::present::{with_dates, Show};
use super::server::{split_address, ServerArg};
use super::{call_route, RouteCall, EXIT_USAGE};

/// Which endpoints a command operates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Queued routes: `hubwire.queue.*`.
    Queue,
    /// Senders: `hubwire.sender.*`.
    Sender,
}

impl Family {
    fn route(self, operation: &str) -> String {
        match self {
            Family::Queue => format!("hubwire.queue.{operation}"),
            Family::Sender => format!("hubwire.sender.{operation}"),
        }
    }

    /// The request field that names the queue or sender.
    fn field(self) -> &'static str {
        match self {
            Family::Queue => "queue",
            Family::Sender => "sender",
        }
    }
}

/// Arguments of `hubwire queue`.
#[derive(Debug, clap::Args)]
pub struct QueueArgs {
    /// The operation.
    #[command(subcommand)]
    pub operation: QueueOperation,
    /// Where the application is.
    #[command(flatten)]
    pub server: ServerArg,
    /// Seconds to wait for the reply.
    #[arg(long, global = true, default_value_t = 10.0)]
    pub timeout: f64,
    /// Print the reply as it came, for scripts (times in milliseconds since the epoch, `null`
    /// for a requeue).
    #[arg(long, global = true)]
    pub json: bool,
}

/// The application's address and the queue (its queued route's key).
#[derive(Debug, Clone, clap::Args)]
pub struct QueueTarget {
    /// The application's address (unless --server or HUBWIRE_URL gives it), and the queued
    /// route's key (such as dice.roll_times) or the sender's name.
    #[arg(value_name = "[ADDRESS] QUEUE", required = true, num_args = 1..=2)]
    words: Vec<String>,
}

impl QueueTarget {
    /// The address, if given here, and the queue.
    fn parts(&self) -> Result<(Option<&str>, &str), String> {
        let (address, rest) = split_address(&self.words, 1)?;
        Ok((address, &rest[0]))
    }
}

/// One item of a queue's error queue.
#[derive(Debug, Clone, clap::Args)]
pub struct ItemTarget {
    /// The application's address (unless --server or HUBWIRE_URL gives it), the queue, and
    /// the item's id (the `id` its client was answered).
    #[arg(value_name = "[ADDRESS] QUEUE ID", required = true, num_args = 2..=3)]
    words: Vec<String>,
}

impl ItemTarget {
    /// The address, if given here, the queue and the item's id.
    fn parts(&self) -> Result<(Option<&str>, &str, u64), String> {
        let (address, rest) = split_address(&self.words, 2)?;
        Ok((address, &rest[0], item_id(&rest[1])?))
    }
}

/// A bulk operation's target.
#[derive(Debug, Clone, clap::Args)]
pub struct BulkTarget {
    #[command(flatten)]
    target: QueueTarget,
    /// Act on items with ids up to this one (default: what the error queue holds now).
    #[arg(long)]
    pub up_to: Option<String>,
}

/// Which halves of a queue to pause or unpause (neither flag: both).
#[derive(Debug, Clone, clap::Args)]
pub struct PauseTarget {
    #[command(flatten)]
    target: QueueTarget,
    /// Receiving only: new requests are refused (for a sender: new messages).
    #[arg(long)]
    pub receiving: bool,
    /// Processing only: requests are stored but not processed (for a sender: not sent).
    #[arg(long)]
    pub processing: bool,
}

/// The operations.
#[derive(Debug, clap::Subcommand)]
pub enum QueueOperation {
    /// The keys of the application's queued routes (or the names of its senders).
    List {
        /// The application's address (unless --server or HUBWIRE_URL gives it).
        address: Option<String>,
    },
    /// Pending (outgoing), retrying and error sizes, pause state, totals processed
    /// (delivered) and failed.
    Data(QueueTarget),
    /// A page of error ids (ascending), and the cursor for the next page.
    Errors {
        /// The application and the queue.
        #[command(flatten)]
        target: QueueTarget,
        /// Ids after this one (the previous page's `next`).
        #[arg(long)]
        after: Option<String>,
        /// Ids per page (at most 1000).
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// One errored item: body, attempts, every error message, timestamps.
    Inspect(ItemTarget),
    /// Removes one errored item and prints it (admin peers only).
    Pop(ItemTarget),
    /// Sends one errored item back to be processed (admin peers only).
    Requeue(ItemTarget),
    /// Sends every errored item back (admin peers only).
    RequeueAll(BulkTarget),
    /// Deletes every errored item (admin peers only).
    Clear(BulkTarget),
    /// Pauses receiving and/or processing (admin peers only; survives restarts).
    Pause(PauseTarget),
    /// Unpauses receiving and/or processing (admin peers only).
    Unpause(PauseTarget),
}

/// An item id as typed: a positive integer.
fn item_id(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(format!(
            "malformed id {text:?}: an item id is a positive integer"
        )),
    }
}

/// The address, if the target's words give one, and the body of a pause or unpause.
fn pause_body(
    family: Family,
    p: &PauseTarget,
    value: bool,
) -> Result<(Option<&str>, Value), String> {
    let (address, queue) = p.target.parts()?;
    let both = !p.receiving && !p.processing;
    let mut body = json!({ family.field(): queue });
    if both || p.receiving {
        body["receiving"] = json!(value);
    }
    if both || p.processing {
        body["processing"] = json!(value);
    }
    Ok((address, body))
}

/// The route, the address if the operation's words give one, and the JSON body of one
/// operation.
fn request(
    family: Family,
    operation: &QueueOperation,
) -> Result<(String, Option<&str>, Value), String> {
    let named = |queue: &str| json!({ family.field(): queue });
    let optional = |id: &Option<String>| id.as_deref().map(item_id).transpose();
    let with = |mut body: Value, key: &str, value: Value| {
        body[key] = value;
        body
    };
    Ok(match operation {
        QueueOperation::List { address } => (family.route("list"), address.as_deref(), Value::Null),
        QueueOperation::Data(t) => {
            let (address, queue) = t.parts()?;
            (family.route("data"), address, named(queue))
        }
        QueueOperation::Errors {
            target,
            after,
            limit,
        } => {
            let (address, queue) = target.parts()?;
            let body = with(named(queue), "after", json!(optional(after)?));
            (
                family.route("errors"),
                address,
                with(body, "limit", json!(limit)),
            )
        }
        QueueOperation::Inspect(i) | QueueOperation::Pop(i) | QueueOperation::Requeue(i) => {
            let operation = match operation {
                QueueOperation::Inspect(_) => "inspect",
                QueueOperation::Pop(_) => "pop",
                _ => "requeue",
            };
            let (address, queue, id) = i.parts()?;
            (
                family.route(operation),
                address,
                with(named(queue), "id", json!(id)),
            )
        }
        QueueOperation::RequeueAll(b) | QueueOperation::Clear(b) => {
            let operation = match operation {
                QueueOperation::RequeueAll(_) => "requeue_all",
                _ => "clear",
            };
            let (address, queue) = b.target.parts()?;
            let body = with(named(queue), "up_to", json!(optional(&b.up_to)?));
            (family.route(operation), address, body)
        }
        QueueOperation::Pause(p) => {
            let (address, body) = pause_body(family, p, true)?;
            (family.route("pause"), address, body)
        }
        QueueOperation::Unpause(p) => {
            let (address, body) = pause_body(family, p, false)?;
            (family.route("pause"), address, body)
        }
    })
}

/// Runs `hubwire queue` (or, with [`Family::Sender`], `hubwire sender`); returns the exit code.
pub async fn operate(family: Family, args: QueueArgs) -> i32 {
    let prepared = request(family, &args.operation)
        .and_then(|(route, address, body)| Ok((route, args.server.resolve(address, None)?, body)));
    let (route, address, body) = match prepared {
        Ok(request) => request,
        Err(message) => {
            eprintln!("hubwire {}: {message}", family.field());
            return EXIT_USAGE;
        }
    };
    let show = match args.json {
        true => Show::Json,
        false => show(family, &args.operation),
    };
    call_route(RouteCall {
        address,
        route,
        json: Some(body.to_string()),
        timeout: args.timeout,
        headers: Vec::new(),
        credentials: args.server.auth.credentials(),
        tls: args.server.tls,
        show,
    })
    .await
}

/// How an operation's reply is shown to a person: what a change did in words, anything else
/// as JSON with its times as dates.
fn show(family: Family, operation: &QueueOperation) -> Show {
    let what = family.field();
    match operation {
        QueueOperation::Requeue(item) => {
            let (_, queue, id) = item.parts().expect("checked before the call");
            let line = format!(
                "requeued item {id} of {what} {queue}: back in its place, to be tried again at once"
            );
            Show::Text(Box::new(move |_| line))
        }
        QueueOperation::RequeueAll(bulk) | QueueOperation::Clear(bulk) => {
            let (_, queue) = bulk.target.parts().expect("checked before the call");
            let done = match operation {
                QueueOperation::Clear(_) => "deleted",
                _ => "requeued",
            };
            let queue = queue.to_string();
            Show::Text(Box::new(move |reply| {
                let count = reply["count"].as_u64().unwrap_or(0);
                let items = if count == 1 { "item" } else { "items" };
                let bound = match reply["up_to"].as_u64() {
                    Some(id) => format!(" with ids up to {id}"),
                    None => String::new(),
                };
                format!("{done} {count} errored {items}{bound} of {what} {queue}")
            }))
        }
        _ => Show::Text(Box::new(|reply| with_dates(reply).to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(args: &[&str]) -> QueueOperation {
        let cli = crate::Cli::try_parse_from(["hubwire", "queue"].iter().chain(args).copied())
            .expect("parses");
        match cli.command {
            crate::Command::Queue(args) => args.operation,
            other => panic!("not a queue command: {other:?}"),
        }
    }

    #[test]
    fn pause_without_flags_pauses_both_halves() {
        let op = parse(&["pause", "tcp://127.0.0.1:1", "q"]);
        let (route, _, body) = request(Family::Queue, &op).unwrap();
        assert_eq!(route, "hubwire.queue.pause");
        assert_eq!(
            body,
            json!({"queue": "q", "receiving": true, "processing": true})
        );
    }

    #[test]
    fn unpause_processing_leaves_receiving_alone() {
        let op = parse(&["unpause", "tcp://127.0.0.1:1", "q", "--processing"]);
        let (_, _, body) = request(Family::Queue, &op).unwrap();
        assert_eq!(body, json!({"queue": "q", "processing": false}));
    }

    #[test]
    fn a_malformed_id_is_refused_before_calling() {
        for bad in ["abc", "0", "3x", ""] {
            let op = parse(&["inspect", "tcp://127.0.0.1:1", "q", bad]);
            let e = request(Family::Queue, &op).unwrap_err();
            assert!(e.contains("malformed id"), "{bad}: {e}");
        }
        let op = parse(&["requeue-all", "tcp://127.0.0.1:1", "q", "--up-to", "x1"]);
        assert!(request(Family::Queue, &op)
            .unwrap_err()
            .contains("malformed id"));
    }

    #[test]
    fn sender_operations_call_the_sender_endpoints() {
        let op = parse(&["pause", "tcp://127.0.0.1:1", "mail", "--processing"]);
        let (route, _, body) = request(Family::Sender, &op).unwrap();
        assert_eq!(route, "hubwire.sender.pause");
        assert_eq!(body, json!({"sender": "mail", "processing": true}));
    }

    #[test]
    fn bulk_operations_send_their_bound() {
        let op = parse(&["clear", "tcp://127.0.0.1:1", "q", "--up-to", "42"]);
        let (route, _, body) = request(Family::Queue, &op).unwrap();
        assert_eq!(route, "hubwire.queue.clear");
        assert_eq!(body, json!({"queue": "q", "up_to": 42}));
    }
}
