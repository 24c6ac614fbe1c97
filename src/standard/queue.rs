//! The `hubwire.queue.*` operator endpoints of queued routes: declared once for servers and for
//! `hubwire queue ...`. Reading is open to every allowed peer; changes are for admin peers.

use hubwire_actors::queue::QueueData;
use hubwire_core::store::{AttemptError, ErroredItem, PauseState};
use serde::{Deserialize, Deserializer, Serialize};

/// Names a queue: the key of its queued route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueName {
    /// The queued route's key (`dice.roll_times`), or for `hubwire.sender.*` the sender's
    /// name (also accepted as `sender`).
    #[serde(alias = "sender")]
    pub queue: String,
}

/// Names one item of a queue's error queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueItem {
    /// The queued route's key (or the sender's name, also accepted as `sender`).
    #[serde(alias = "sender")]
    pub queue: String,
    /// The item's id: the `id` its client was answered. A positive integer, or a string of one.
    #[serde(deserialize_with = "item_id")]
    pub id: u64,
}

/// Asks for a page of error ids.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorPageRequest {
    /// The queued route's key (or the sender's name, also accepted as `sender`).
    #[serde(alias = "sender")]
    pub queue: String,
    /// Ids after this one (the `next` of the previous page); none for the first page.
    #[serde(default, deserialize_with = "optional_item_id")]
    pub after: Option<u64>,
    /// At most this many ids (100 when absent, at most 1000).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// Asks to requeue or clear the error queue in bulk.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkRequest {
    /// The queued route's key (or the sender's name, also accepted as `sender`).
    #[serde(alias = "sender")]
    pub queue: String,
    /// Act on items with ids up to this one; when absent, on everything the error queue holds
    /// when the store applies the operation (one atomic step: never on items that fail after).
    #[serde(default, deserialize_with = "optional_item_id")]
    pub up_to: Option<u64>,
}

/// What a bulk requeue or clear did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkReply {
    /// Items requeued or deleted.
    pub count: u64,
    /// The bound asked for (none: everything the error queue held at that step).
    pub up_to: Option<u64>,
}

/// Pauses or unpauses a queue; a half left out stays as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseRequest {
    /// The queued route's key (or the sender's name, also accepted as `sender`).
    #[serde(alias = "sender")]
    pub queue: String,
    /// Pause (`true`) or unpause (`false`) receiving: new requests are refused with `paused`.
    #[serde(default)]
    pub receiving: Option<bool>,
    /// Pause (`true`) or unpause (`false`) processing: requests are stored, not processed.
    #[serde(default)]
    pub processing: Option<bool>,
}

/// A page of error ids, ascending.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorPage {
    /// The ids.
    pub ids: Vec<u64>,
    /// The cursor for the next page, or none when this page is the last.
    pub next: Option<u64>,
}

/// One item of an error queue, as an operator sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorEntry {
    /// Its id.
    pub id: u64,
    /// The route it was sent to.
    pub route: String,
    /// The request body, decoded from MessagePack (a `bin` when it is not valid MessagePack).
    pub body: rmpv::Value,
    /// The request's headers.
    pub headers: Vec<(String, String)>,
    /// Attempts made since it was enqueued or last requeued.
    pub attempts: u32,
    /// Every failed attempt's time and message, oldest first (a requeue keeps them).
    pub errors: Vec<AttemptError>,
    /// When it was accepted (ms since the Unix epoch).
    pub enqueued_at_ms: u64,
    /// When it was moved to the error queue (ms since the Unix epoch).
    pub failed_at_ms: u64,
    /// How many times an operator sent it back.
    pub requeue_count: u32,
}

impl From<ErroredItem> for ErrorEntry {
    fn from(errored: ErroredItem) -> Self {
        let item = errored.item;
        let body = rmpv::decode::read_value(&mut &item.body[..])
            .unwrap_or_else(|_| rmpv::Value::Binary(item.body.to_vec()));
        ErrorEntry {
            id: item.id.0,
            route: item.route,
            body,
            headers: item.headers,
            attempts: item.attempts,
            errors: item.errors,
            enqueued_at_ms: item.enqueued_at_ms,
            failed_at_ms: errored.failed_at_ms,
            requeue_count: item.requeue_count,
        }
    }
}

/// Ids arrive as integers from typed clients and as strings from shells and JSON tools.
#[derive(Deserialize)]
#[serde(untagged)]
enum IdForm {
    Number(u64),
    Text(String),
}

fn parse_id(form: IdForm) -> Result<u64, String> {
    let id = match form {
        IdForm::Number(n) => n,
        IdForm::Text(text) => text
            .trim()
            .parse()
            .map_err(|_| format!("malformed id {text:?}: an item id is a positive integer"))?,
    };
    if id == 0 {
        return Err("malformed id 0: item ids start at 1".into());
    }
    Ok(id)
}

fn item_id<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let form = IdForm::deserialize(d)
        .map_err(|_| serde::de::Error::custom("malformed id: an item id is a positive integer"))?;
    parse_id(form).map_err(serde::de::Error::custom)
}

fn optional_item_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let form = Option::<IdForm>::deserialize(d)
        .map_err(|_| serde::de::Error::custom("malformed id: an item id is a positive integer"))?;
    form.map(parse_id)
        .transpose()
        .map_err(serde::de::Error::custom)
}

crate::route!(
    /// The keys of every queued route the application serves.
    pub QueueList = "hubwire.queue.list", () => Vec<String>, idempotent = true
);
crate::route!(
    /// A queue's figures: pending and error sizes, pause state, totals processed and failed.
    pub QueueDataRoute = "hubwire.queue.data", QueueName => QueueData, idempotent = true
);
crate::route!(
    /// A page of the ids in a queue's error queue, with a cursor.
    pub QueueErrors = "hubwire.queue.errors", ErrorPageRequest => ErrorPage, idempotent = true
);
crate::route!(
    /// One item of a queue's error queue, with its attempts and every error message.
    pub QueueInspect = "hubwire.queue.inspect", QueueItem => ErrorEntry, idempotent = true
);
crate::route!(
    /// Removes one item from a queue's error queue and answers it (admin peers only).
    pub QueuePop = "hubwire.queue.pop", QueueItem => ErrorEntry
);
crate::route!(
    /// Sends one errored item back to be processed, attempts reset (admin peers only).
    pub QueueRequeue = "hubwire.queue.requeue", QueueItem => ()
);
crate::route!(
    /// Sends every errored item (up to an id) back to be processed (admin peers only).
    pub QueueRequeueAll = "hubwire.queue.requeue_all", BulkRequest => BulkReply
);
crate::route!(
    /// Deletes every errored item (up to an id) (admin peers only).
    pub QueueClear = "hubwire.queue.clear", BulkRequest => BulkReply
);
crate::route!(
    /// Pauses or unpauses receiving and processing; answers the new state (admin peers only).
    pub QueuePause = "hubwire.queue.pause", PauseRequest => PauseState
);

crate::route!(
    /// The names of every sender the application runs.
    pub SenderList = "hubwire.sender.list", () => Vec<String>, idempotent = true
);
crate::route!(
    /// A sender's figures: `pending` (outgoing and retrying), `retrying`, `errors` (errored),
    /// pause state (`processing_paused`: sending paused), `processed` (delivered), `failed`.
    pub SenderData = "hubwire.sender.data", QueueName => QueueData, idempotent = true
);
crate::route!(
    /// A page of the ids in a sender's errored queue, with a cursor.
    pub SenderErrors = "hubwire.sender.errors", ErrorPageRequest => ErrorPage, idempotent = true
);
crate::route!(
    /// One errored message of a sender, with its attempts and every error.
    pub SenderInspect = "hubwire.sender.inspect", QueueItem => ErrorEntry, idempotent = true
);
crate::route!(
    /// Removes one errored message from a sender and answers it (admin peers only).
    pub SenderPop = "hubwire.sender.pop", QueueItem => ErrorEntry
);
crate::route!(
    /// Sends one errored message back to be delivered, attempts reset (admin peers only).
    pub SenderRequeue = "hubwire.sender.requeue", QueueItem => ()
);
crate::route!(
    /// Sends every errored message (up to an id) back to be delivered (admin peers only).
    pub SenderRequeueAll = "hubwire.sender.requeue_all", BulkRequest => BulkReply
);
crate::route!(
    /// Deletes every errored message (up to an id) of a sender (admin peers only).
    pub SenderClear = "hubwire.sender.clear", BulkRequest => BulkReply
);
crate::route!(
    /// Pauses or unpauses sending (`processing`) and taking new messages (`receiving`) (admin
    /// peers only).
    pub SenderPause = "hubwire.sender.pause", PauseRequest => PauseState
);

#[cfg(test)]
mod tests {
    use super::*;

    fn item(json: &str) -> Result<QueueItem, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn ids_are_integers_or_strings_of_digits() {
        let a = item(r#"{"queue": "q", "id": 7}"#).unwrap();
        let b = item(r#"{"queue": "q", "id": "7"}"#).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.id, 7);
    }

    #[test]
    fn a_malformed_id_says_so() {
        for bad in [r#""abc""#, "-1", "0", r#""""#, "1.5", "[1]"] {
            let e = item(&format!(r#"{{"queue": "q", "id": {bad}}}"#)).unwrap_err();
            assert!(e.to_string().contains("malformed id"), "{bad}: {e}");
        }
    }

    #[test]
    fn bulk_bounds_are_optional() {
        let all: BulkRequest = serde_json::from_str(r#"{"queue": "q"}"#).unwrap();
        assert_eq!(all.up_to, None);
        let some: BulkRequest = serde_json::from_str(r#"{"queue": "q", "up_to": "12"}"#).unwrap();
        assert_eq!(some.up_to, Some(12));
    }
}
