//! [`ReadGate`]: what a reader asks before it reads more from a peer, so that a peer is read
//! only as fast as what it is owed can be written to it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::task::AtomicWaker;

/// Says whether a stream's reader may go on. [`FrameBatches`](super::FrameBatches) asks it
/// before handing on frames or reading more: while it is pending, nothing more is read from
/// the peer, and the peer's own writes back up in the socket (back-pressure).
pub trait ReadGate: Send + Sync {
    /// Ready when the reader may go on; otherwise pending, and `cx` is woken once it may.
    fn poll_room(&self, cx: &mut Context<'_>) -> Poll<()>;
}

/// Every gate of the array: the reader goes on only when all of them say it may.
impl<const N: usize> ReadGate for [Arc<dyn ReadGate>; N] {
    fn poll_room(&self, cx: &mut Context<'_>) -> Poll<()> {
        for gate in self {
            if gate.poll_room(cx).is_pending() {
                return Poll::Pending;
            }
        }
        Poll::Ready(())
    }
}

/// A gate its owner opens and closes: reading pauses while it is set.
#[derive(Debug, Default)]
pub struct ReadPause {
    paused: AtomicBool,
    waker: AtomicWaker,
}

impl ReadPause {
    /// Pauses (true) or resumes (false) reading.
    pub fn set(&self, paused: bool) {
        let was = self.paused.swap(paused, Ordering::AcqRel);
        if was && !paused {
            self.waker.wake();
        }
    }
}

impl ReadGate for ReadPause {
    fn poll_room(&self, cx: &mut Context<'_>) -> Poll<()> {
        if !self.paused.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        self.waker.register(cx.waker());
        // Resumed between the load and the registration: the wake may have been missed.
        if self.paused.load(Ordering::Acquire) {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}
