//! [`SendError`]: why a message was not accepted by a sender.

use hubwire_core::store::ItemId;
use hubwire_core::BodyError;

use crate::queue::QueueError;

/// Why [`Sender::send`](super::Sender::send) stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The sender holds its `max_pending` messages already; try again later.
    #[error("sender {sender} is full ({max_pending} messages waiting); nothing was stored")]
    Full {
        /// The sender.
        sender: String,
        /// Its bound.
        max_pending: usize,
    },
    /// An operator paused receiving on this sender; nothing was stored.
    #[error(
        "sender {sender} is paused: it takes no new messages until an operator unpauses receiving"
    )]
    Paused {
        /// The sender.
        sender: String,
    },
    /// A broadcast was stored on some tracks and refused on others (a full track): the ones
    /// that stored it deliver it; send again only to the refused ones.
    #[error("broadcast {broadcaster}: stored on tracks {stored:?}, refused on {refused:?}")]
    Incomplete {
        /// The broadcaster.
        broadcaster: String,
        /// The tracks (by destination index) that stored it, with its id there.
        stored: Vec<(usize, ItemId)>,
        /// The tracks that refused it, with why.
        refused: Vec<(usize, String)>,
    },
    /// The message could not be encoded as MessagePack.
    #[error("the message cannot be encoded: {0}")]
    Encode(#[from] BodyError),
    /// The store failed or stopped; nothing was stored.
    #[error("sender {sender}: {source}")]
    Store {
        /// The sender.
        sender: String,
        /// What the store said.
        source: QueueError,
    },
}
