//! [`FrameSink`]: the write side of a bridge link, whichever end dialed.

use hubwire_core::stream::{Outbound, ReplyQueue};

/// Where frames for a bridge peer are appended: the outbound buffer of a dialed link, or of
/// the connection a peer's bridge came in on.
pub trait FrameSink: Send + Sync {
    /// Appends whole frames; `false` once the link is closing.
    fn push_frame(&self, frame: &[u8]) -> bool;
    /// Appends a control frame ahead of bulk data not yet written.
    fn push_urgent(&self, frame: &[u8]) -> bool;
    /// Takes nothing more: what is queued is written, then the link closes.
    fn close(&self);
}

impl<S: Send> FrameSink for Outbound<S> {
    fn push_frame(&self, frame: &[u8]) -> bool {
        self.lock().push(frame)
    }

    fn push_urgent(&self, frame: &[u8]) -> bool {
        self.lock().push_urgent(frame)
    }

    fn close(&self) {
        self.lock().close();
    }
}

impl FrameSink for ReplyQueue {
    fn push_frame(&self, frame: &[u8]) -> bool {
        self.outbound().push_frame(frame)
    }

    fn push_urgent(&self, frame: &[u8]) -> bool {
        self.outbound().push_urgent(frame)
    }

    fn close(&self) {
        self.outbound().close();
    }
}
