//! Queued senders: the outbound twin of queued routes. The application hands a message to a
//! [`Sender`] and gets on with its work; hubwire stores it, delivers it to a remote route,
//! retries under a back-off policy, and parks what cannot be delivered in an errored queue an
//! operator can inspect and requeue.
//!
//! ```text
//!  app ── send(msg) ──> Sender ══ Op::Enqueue ══> StoreHandle (group commit)   -> id
//!                                                     ^   │ wake
//!                        Keeper (one per sender) ─────┘   v
//!                          │ next_ready[_in_groups]: outgoing and due retries
//!          WorkWanted ───> │ Deliver ──> DeliveryWorker ── call_raw ──> remote route
//!                          │ <── Delivered {result} (also: "give me more") ──┘
//!                          │ retry rule + back-off policy -> Op::Complete / Retry / Fail
//! ```
//!
//! - **Keeper** (`keeper.rs`): owns the sender's queues: outgoing and retry (pending items;
//!   a retry carries its next attempt time) and errored, all in the store under
//!   `sender:<name>`. It hands messages to workers that ask, applies the [`RetryRule`] and the
//!   back-off policy to what they report, and commits the move. No worker sleeps on a retry:
//!   the keeper looks again when a retry is due.
//! - **Workers** (`worker.rs`): one message at a time, sent with the typed client (one
//!   pipelined connection per sender, reconnected on demand), the outcome reported as a
//!   message.
//! - **Order** ([`Ordering`]): unordered, or by group: one message of a group in flight at a
//!   time, in send order, across failures and restarts; a message that keeps failing holds
//!   its group through its retries, and then ([`GroupOnError`]) lets the group go on or holds
//!   it until an operator acts.
//! - **Broadcaster** ([`Broadcaster`]): one message to many destinations, a track each.
//! - **Supervision**: a keeper is a supervised child (`sender.<name>`); a restarted keeper
//!   starts new workers and takes up what the store holds.
//! - **Operations**: pause and unpause sending, figures, and the errored queue through
//!   [`QueueAdmin`](crate::queue::QueueAdmin) on [`sender_queue`]`(name)`; the application base
//!   serves them as `hubwire.sender.*`.
//!
//! Delivery is at least once: a message delivered whose completion was not committed (a
//! crash in between) is sent again, with the same `idempotency-key` header (a UUIDv7 minted
//! when it was sent, unless it has its own), so a remote queued route that still holds the
//! first copy stores it once.
//!
//! [`RetryRule`]: hubwire_core::sender::RetryRule

mod broadcaster;
mod error;
mod handle;
mod keeper;
mod options;
mod spec;
mod worker;

pub use broadcaster::Broadcaster;
pub use error::SendError;
pub use handle::Sender;
pub use keeper::Clock;
pub use options::{
    GroupOnError, Ordering, SenderOptions, DEFAULT_CALL_TIMEOUT, DEFAULT_SENDER_MAX_ATTEMPTS,
    DEFAULT_SENDER_MAX_PENDING, DEFAULT_SENDER_WORKERS,
};
pub use spec::{sender_queue, SenderSpec};

pub use hubwire_core::sender::{Destination, RetryRule};
