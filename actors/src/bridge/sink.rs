//! [`FrameSink`]: the write side of a bridge link, whichever end dialed, and [`BoundedSink`],
//! which holds it to the bound of what a link may owe its peer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::BytesMut;
use hubwire_core::protocol::{Envelope, ErrorCode, ErrorFrame};
use hubwire_core::stats::Counter;
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
    /// Bytes owed to the peer and not yet written.
    fn backlog(&self) -> usize;
    /// Drops what is queued, sends `last` ahead of anything else, and closes.
    fn cut_off(&self, last: &[u8]);
    /// Appends a whole frame unless that would make more than `limit` bytes owed (`None`,
    /// nothing appended): the check and the append under one lock.
    fn push_within(&self, frame: &[u8], limit: usize) -> Option<bool>;
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

    fn backlog(&self) -> usize {
        self.lock().backlog()
    }

    fn cut_off(&self, last: &[u8]) {
        self.lock().cut_off(last);
    }

    fn push_within(&self, frame: &[u8], limit: usize) -> Option<bool> {
        let mut outbound = self.lock();
        (outbound.backlog() + frame.len() <= limit).then(|| outbound.push(frame))
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

    fn backlog(&self) -> usize {
        self.outbound().backlog()
    }

    fn cut_off(&self, last: &[u8]) {
        self.outbound().cut_off(last);
    }

    fn push_within(&self, frame: &[u8], limit: usize) -> Option<bool> {
        self.outbound().push_within(frame, limit)
    }
}

/// A link's sink that takes the peer for frozen once it owes it more than the bound: the
/// backlog is dropped at once (its memory freed), the peer is told, the link closes, and the
/// link's keepalive ([`is_frozen`](Self::is_frozen)) takes it down.
pub struct BoundedSink {
    inner: Arc<dyn FrameSink>,
    limit: usize,
    frozen: AtomicBool,
    counter: Counter,
}

impl std::fmt::Debug for BoundedSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoundedSink")
            .field("limit", &self.limit)
            .field("frozen", &self.is_frozen())
            .finish_non_exhaustive()
    }
}

impl BoundedSink {
    /// `inner`, bounded at `limit` bytes owed; `counter` counts frozen peers.
    pub fn new(inner: Arc<dyn FrameSink>, limit: usize, counter: Counter) -> Self {
        BoundedSink {
            inner,
            limit,
            frozen: AtomicBool::new(false),
            counter,
        }
    }

    /// Whether the peer was taken for frozen (the link is to be dropped).
    pub fn is_frozen(&self) -> bool {
        self.frozen.load(Ordering::Relaxed)
    }

    fn freeze(&self) {
        if self.frozen.swap(true, Ordering::Relaxed) {
            return;
        }
        self.counter.inc();
        let message = format!(
            "frozen: this hub owes more than {} bytes to the link and nothing is read",
            self.limit
        );
        tracing::warn!(%message, "bridge peer taken for frozen; dropping the link");
        let mut last = BytesMut::new();
        let error = ErrorFrame {
            id: None,
            code: ErrorCode::Busy,
            message,
        };
        if error.write_frame(&mut last).is_ok() {
            self.inner.cut_off(&last);
        }
    }

    fn admits(&self, frame: &[u8]) -> bool {
        if self.is_frozen() {
            return false;
        }
        if self.inner.backlog() + frame.len() > self.limit {
            self.freeze();
            return false;
        }
        true
    }
}

impl FrameSink for BoundedSink {
    fn push_frame(&self, frame: &[u8]) -> bool {
        if self.is_frozen() {
            return false;
        }
        match self.inner.push_within(frame, self.limit) {
            Some(pushed) => pushed,
            None => {
                self.freeze();
                false
            }
        }
    }

    fn push_urgent(&self, frame: &[u8]) -> bool {
        self.admits(frame) && self.inner.push_urgent(frame)
    }

    fn close(&self) {
        self.inner.close();
    }

    fn backlog(&self) -> usize {
        self.inner.backlog()
    }

    fn cut_off(&self, last: &[u8]) {
        self.inner.cut_off(last);
    }

    fn push_within(&self, frame: &[u8], limit: usize) -> Option<bool> {
        self.inner.push_within(frame, limit.min(self.limit))
    }
}
