//! Lone messages written at once. A request, its reply or an occasional event is often the
//! only publish of its read; left to the subscriber's writer task, it waits for a wake-up of
//! another thread on its way. Written from the publisher's thread instead (if the writer is
//! idle), as nats-server writes from the publisher's read loop, it saves that wake-up. A
//! subscriber sent lone messages in quick succession is busy: its writer task writes them
//! together, one write for many.

use std::time::{Duration, Instant};

/// Lone messages closer together than this find their subscriber busy.
const BUSY_WITHIN: Duration = Duration::from_micros(100);

/// When a subscriber was last sent a lone message.
#[derive(Debug, Default)]
pub(super) struct LoneClock {
    last: Option<Instant>,
}

impl LoneClock {
    /// Whether a lone message sent `now` finds the subscriber quiet (its last came more than
    /// [`BUSY_WITHIN`] ago).
    pub(super) fn quiet(&mut self, now: Instant) -> bool {
        let last = self.last.replace(now);
        last.is_none_or(|last| now.duration_since(last) > BUSY_WITHIN)
    }
}

#[cfg(test)]
#[path = "lone_tests.rs"]
mod tests;
