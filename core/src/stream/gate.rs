//! [`ReadGate`]: what a reader asks before it reads more from a peer, so that a peer is read
//! only as fast as what it is owed can be written to it.

use std::task::{Context, Poll};

/// Says whether a stream's reader may go on. [`FrameBatches`](super::FrameBatches) asks it
/// before handing on frames or reading more: while it is pending, nothing more is read from
/// the peer, and the peer's own writes back up in the socket (back-pressure).
pub trait ReadGate: Send + Sync {
    /// Ready when the reader may go on; otherwise pending, and `cx` is woken once it may.
    fn poll_room(&self, cx: &mut Context<'_>) -> Poll<()>;
}
