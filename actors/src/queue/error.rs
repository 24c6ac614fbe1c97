//! [`QueueError`]: what a queued route, its store actor or an operator operation can meet.

use std::sync::Arc;

use hubwire_core::protocol::ErrorCode;
use hubwire_core::store::{ItemId, StoreError};

/// A failure of the store actor or of an operator operation on a queue.
#[derive(Debug, Clone, thiserror::Error)]
pub enum QueueError {
    /// The store failed the batch (or read) this caller's operation was in; nothing of that
    /// batch was stored. Every caller of the batch gets the same error.
    #[error("{0}")]
    Store(Arc<StoreError>),
    /// The store actor has stopped (shut down, or its thread ended), so nothing was stored.
    #[error(
        "the queue store has stopped; nothing was stored (the server is shutting down, or the \
         store thread failed: see the log)"
    )]
    Stopped,
    /// The store actor's thread could not be started.
    #[error("cannot start the queue store thread: {0} (check the process's thread limit)")]
    Spawn(Arc<std::io::Error>),
    /// No queued route with this key is registered in this process.
    #[error("no queued route with key {queue:?} (check the key; `hubwire queue list` names them)")]
    UnknownQueue {
        /// The key asked for.
        queue: String,
    },
    /// No sender with this name runs in this process.
    #[error("no sender named {name:?} (check the name; `hubwire sender list` names them)")]
    UnknownSender {
        /// The name asked for.
        name: String,
    },
    /// The id is not in the queue's error queue (never failed, already requeued or popped).
    #[error(
        "no item {id} in the error queue of {queue} (list the error ids to see what is there)"
    )]
    NoSuchError {
        /// The queue.
        queue: String,
        /// The id asked for.
        id: ItemId,
    },
    /// The work dispatcher serving this in-memory work queue has stopped.
    #[error("the work dispatcher serving {queue:?} has stopped (the server is shutting down, or the dispatcher failed: see the log)")]
    DispatcherStopped {
        /// The work queue.
        queue: String,
    },
    /// A sender's name is not letters, digits, `.`, `-` and `_`.
    #[error("{name:?} cannot name a sender: use letters, digits, '.', '-' and '_'")]
    InvalidName {
        /// The name given.
        name: String,
    },
    /// Something in this process keeps this queue already (two senders with one name).
    #[error(
        "{queue} is kept by another sender of this process already; give each sender its own name"
    )]
    AlreadyRunning {
        /// The store's name of the queue.
        queue: String,
    },
    /// Queued routes were registered without a queue store to keep them.
    #[error("queued routes need a queue store: open one (StoreHandle::start) and pass it in")]
    NoStore,
    /// The store answered with an outcome its op cannot have; a bug.
    #[error(
        "the store answered {what} with an unexpected outcome (a bug in hubwire: please report it)"
    )]
    Unexpected {
        /// The operation.
        what: &'static str,
    },
}

impl QueueError {
    /// The error an operator endpoint answers with: [`code`](Self::code) and this message.
    /// (Not `From`: `?` on a `QueueError` would give handler-failure, through the blanket
    /// conversion every error has.)
    pub fn answer(self) -> crate::handler::HandlerError {
        crate::handler::HandlerError {
            code: self.code(),
            message: self.to_string(),
        }
    }

    /// The error code an operator endpoint answers this failure with.
    pub fn code(&self) -> ErrorCode {
        match self {
            QueueError::UnknownQueue { .. }
            | QueueError::UnknownSender { .. }
            | QueueError::NoSuchError { .. } => ErrorCode::NotFound,
            QueueError::Stopped | QueueError::DispatcherStopped { .. } => ErrorCode::ShuttingDown,
            QueueError::Store(_)
            | QueueError::Spawn(_)
            | QueueError::NoStore
            | QueueError::InvalidName { .. }
            | QueueError::AlreadyRunning { .. }
            | QueueError::Unexpected { .. } => ErrorCode::Unhandled,
        }
    }
}

impl From<StoreError> for QueueError {
    fn from(e: StoreError) -> Self {
        QueueError::Store(Arc::new(e))
    }
}
