//! Why a cache call got no answer.

use actix::MailboxError;

/// A cache call that got no answer.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The cache actor is gone, or its mailbox dropped the call.
    #[error(
        "the cache actor did not answer ({0}): its arbiter or system has stopped; \
         start a new Cache on a running arbiter"
    )]
    Unreachable(#[from] MailboxError),
}
