//! [`Places`]: a count of things held at once (connections, refusals being answered) with a
//! drop guard per place, so a place is given back however its holder ends.
//!
//! Refused peers still get the TLS handshake or WebSocket upgrade that lets them read why,
//! but at most [`MAX_ANSWERING`] at once per listener: each holds a socket and a task for up to
//! the handshake timeout, so past the bound a refused peer's socket is closed at once, without
//! a word, and a flood of refused connects costs no more than the bound.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Refused peers answered at once, per listener.
pub(crate) const MAX_ANSWERING: usize = 64;

/// Places taken, shared by every holder.
#[derive(Debug, Clone, Default)]
pub(crate) struct Places(Arc<AtomicUsize>);

/// One place taken; given back when dropped.
#[derive(Debug)]
pub(crate) struct Place(Arc<AtomicUsize>);

impl Places {
    /// One more place, or `None` when `max` are taken.
    pub(crate) fn take(&self, max: usize) -> Option<Place> {
        if self.0.fetch_add(1, Ordering::AcqRel) >= max {
            self.0.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(Place(self.0.clone()))
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_bounded_and_come_back() {
        let places = Places::default();
        let held: Vec<_> = (0..3).map(|_| places.take(3).unwrap()).collect();
        assert!(places.take(3).is_none(), "past the bound");
        drop(held);
        assert!(places.take(3).is_some(), "given back");
    }
}
