//! [`Sender`]: the application's handle on a sender: `send` returns once the message is
//! durably stored.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use hubwire_core::encode_body;
use hubwire_core::protocol::Headers;
use hubwire_core::store::{ItemId, Op, OpOutcome};
use serde::Serialize;

use super::error::SendError;

/// The header a remote queued route dedups resends by.
const IDEMPOTENCY_KEY: &str = "idempotency-key";
use crate::queue::{QueueError, StoreHandle};

/// Hands messages to a sender (cheap to clone; every clone feeds the same sender).
///
/// "Do your thing with this, I am done with it": `send` returns the message's id once it is
/// committed to the store; delivery, retries and parking in errored happen behind it.
#[derive(Clone)]
pub struct Sender {
    pub(crate) shared: Arc<SenderShared>,
}

pub(crate) struct SenderShared {
    pub(crate) name: String,
    pub(crate) queue: String,
    pub(crate) route: String,
    pub(crate) store: StoreHandle,
    pub(crate) max_pending: usize,
    /// Whether each message gets an `idempotency-key` header of its own.
    pub(crate) idempotency_keys: bool,
    /// The sender's pause state, as the store last committed it.
    pub(crate) pause: Arc<crate::queue::store_actor::PauseMirror>,
    /// Tells the keeper (its current incarnation) that there is work.
    pub(crate) wake: Box<dyn Fn() + Send + Sync>,
    /// Set while a wake is on its way, so a burst of sends wakes the keeper once.
    pub(crate) wake_sent: Arc<AtomicBool>,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("name", &self.shared.name)
            .field("route", &self.shared.route)
            .finish_non_exhaustive()
    }
}

impl Sender {
    /// The sender's name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Stores `message` for delivery; answers its id once committed.
    pub async fn send<T: Serialize + ?Sized>(&self, message: &T) -> Result<ItemId, SendError> {
        self.send_raw(encode_body(message)?, Headers::new(), None)
            .await
    }

    /// Stores `message` in ordering group `group`: a sequenced sender delivers the messages of
    /// one group one at a time, in the order they were sent (an unordered sender ignores it).
    pub async fn send_in_group<T: Serialize + ?Sized>(
        &self,
        group: &str,
        message: &T,
    ) -> Result<ItemId, SendError> {
        let body = encode_body(message)?;
        self.send_raw(body, Headers::new(), Some(group.to_owned()))
            .await
    }

    /// Stores an encoded body with request headers (sent with every attempt) and an optional
    /// group. An `idempotency-key` header makes a second send with the same key answer the
    /// first one's id while it is still held, and travels to the remote.
    pub async fn send_raw(
        &self,
        body: Bytes,
        headers: Headers,
        group: Option<String>,
    ) -> Result<ItemId, SendError> {
        self.accepting()?;
        let op = self.enqueue_op(body, &headers, group);
        let outcomes = self.shared.store.submit(vec![op]).await;
        let outcome = self.outcome(outcomes.map(|mut o| o.pop()))?;
        self.wake();
        Ok(outcome)
    }

    pub(crate) fn enqueue_op(&self, body: Bytes, headers: &Headers, group: Option<String>) -> Op {
        let mut stored: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        // A key minted now and stored with the message travels with every attempt, so the
        // remote can tell a resend from a new message; a UUIDv7 is unique across senders,
        // instances and stores, so two messages never share one.
        if self.shared.idempotency_keys && headers.idempotency_key().is_none() {
            stored.push((IDEMPOTENCY_KEY.to_owned(), uuid::Uuid::now_v7().to_string()));
        }
        Op::Enqueue {
            queue: self.shared.queue.clone(),
            route: self.shared.route.clone(),
            body,
            headers: stored,
            // The sender's own store dedups only keys the application chose.
            idempotency_key: headers.idempotency_key().map(str::to_owned),
            now_ms: crate::queue::now_ms(),
            max_pending: self.shared.max_pending,
            group,
        }
    }

    pub(crate) fn outcome(
        &self,
        outcome: Result<Option<OpOutcome>, QueueError>,
    ) -> Result<ItemId, SendError> {
        let store_error = |source| SendError::Store {
            sender: self.shared.name.clone(),
            source,
        };
        match outcome.map_err(store_error)? {
            Some(OpOutcome::Enqueued(id)) | Some(OpOutcome::Duplicate(id)) => Ok(id),
            Some(OpOutcome::Full) => Err(SendError::Full {
                sender: self.shared.name.clone(),
                max_pending: self.shared.max_pending,
            }),
            _ => Err(store_error(QueueError::Unexpected { what: "a send" })),
        }
    }

    /// Refuses a send while an operator has paused receiving.
    pub(crate) fn accepting(&self) -> Result<(), SendError> {
        if self.shared.pause.get().receiving_paused {
            return Err(SendError::Paused {
                sender: self.shared.name.clone(),
            });
        }
        Ok(())
    }

    pub(crate) fn wake(&self) {
        if !self.shared.wake_sent.swap(true, Ordering::AcqRel) {
            (self.shared.wake)();
        }
    }
}
