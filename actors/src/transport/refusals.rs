//! [`Answering`]: refused peers still in the TLS handshake or WebSocket upgrade that lets them
//! read why, bounded per listener. Each holds a socket and a task for up to the handshake
//! timeout; past the bound a refused peer's socket is closed at once, without a word, so a
//! flood of refused connects costs the server no more than the bound.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Refused peers answered at once, per listener.
pub(crate) const MAX_ANSWERING: usize = 64;

/// The refusals of one listener being answered.
#[derive(Debug, Clone, Default)]
pub(crate) struct Answering(Arc<AtomicUsize>);

/// One refusal being answered; its place is given back when dropped.
#[derive(Debug)]
pub(crate) struct AnsweringSlot(Arc<AtomicUsize>);

impl Answering {
    /// A place to answer one more refusal, or `None` when [`MAX_ANSWERING`] are answered.
    pub(crate) fn take(&self) -> Option<AnsweringSlot> {
        if self.0.fetch_add(1, Ordering::AcqRel) >= MAX_ANSWERING {
            self.0.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(AnsweringSlot(self.0.clone()))
    }
}

impl Drop for AnsweringSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_bounded_and_come_back() {
        let answering = Answering::default();
        let held: Vec<_> = (0..MAX_ANSWERING)
            .map(|_| answering.take().unwrap())
            .collect();
        assert!(answering.take().is_none(), "past the bound");
        drop(held);
        assert!(answering.take().is_some(), "given back");
    }
}
