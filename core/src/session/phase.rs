//! The server's phases as one connection sees them: while draining, new requests are refused
//! and the connection says DISCONN once nothing is in flight; when closing, what is still in
//! flight is answered shutting-down and the connection closes. A peer that half-closed gets
//! the replies to what it sent, then the connection closes.

use crate::protocol::{peek_request_id, Disconnect, ErrorCode, ErrorFrame, Frame};

use super::server::{encode, Close, ServerSession, Step};
use super::RequestRefusal;

/// Where a server is in its life; connections watch it to drain and close at shutdown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Serving.
    Running,
    /// No new requests (answered shutting-down); requests in flight may finish; each connection
    /// says DISCONN and closes when it has nothing in flight.
    Draining,
    /// The shutdown deadline passed: requests still in flight are answered shutting-down and
    /// every connection closes.
    Closing,
}

/// What the driver does about the end of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wind {
    /// Nothing yet (serving, or waiting for the replies still owed).
    Stay,
    /// Close now.
    Close(Close),
    /// Answer every request still in flight with [`abandoned_request`], then close.
    AbandonAndClose(Close),
}

/// The error a request still in flight is answered with when the server closes.
pub fn abandoned_request(id: u64) -> ErrorFrame {
    let message = "the server shut down before this request finished";
    ErrorFrame::for_request(id, ErrorCode::ShuttingDown, message)
}

/// A REQUEST that arrived while the server is not running: shutting-down, with its id when it
/// can be read (a request without one is answered about the connection).
pub(super) fn refuse_while_stopping(frame: &Frame) -> Step {
    let refusal = RequestRefusal::ShuttingDown;
    let id = peek_request_id(&frame.payload);
    Step::Refuse(ErrorFrame {
        id,
        code: refusal.code(),
        message: refusal.message(id.unwrap_or_default()),
    })
}

impl ServerSession {
    /// The server's phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The server entered `phase`. `watch_idle` asks the ledger to report (through
    /// [`on_all_answered`](Self::on_all_answered)) once nothing is in flight, and says whether
    /// that is so already.
    pub fn on_phase(&mut self, phase: Phase, watch_idle: impl FnOnce() -> bool) -> Wind {
        self.phase = phase;
        if self.is_closed() {
            return Wind::Stay;
        }
        match phase {
            Phase::Running => Wind::Stay,
            Phase::Draining => self.close_when(watch_idle()),
            Phase::Closing => match self.wind_up() {
                Wind::Close(close) => Wind::AbandonAndClose(close),
                other => other,
            },
        }
    }

    /// The peer shut down its write side: it still gets the replies to what it sent.
    pub fn on_read_closed(&mut self, watch_idle: impl FnOnce() -> bool) -> Wind {
        self.read_closed = true;
        if self.is_closed() {
            return Wind::Stay;
        }
        self.close_when(watch_idle())
    }

    /// The last request in flight was answered (reported when the driver watched for it).
    /// Checked again through `watch_idle`: a request may have come since.
    pub fn on_all_answered(&mut self, watch_idle: impl FnOnce() -> bool) -> Wind {
        let waiting = self.read_closed || self.phase == Phase::Draining;
        if self.is_closed() || !waiting {
            return Wind::Stay;
        }
        self.close_when(watch_idle())
    }

    fn close_when(&mut self, idle: bool) -> Wind {
        if idle {
            self.wind_up()
        } else {
            Wind::Stay
        }
    }

    /// Closes, saying DISCONN first when the server is the one going away.
    fn wind_up(&mut self) -> Wind {
        let (last, reason) = match self.phase {
            Phase::Running => (
                None,
                "the peer finished and every reply is written".to_owned(),
            ),
            _ => {
                let reason = "the server is shutting down".to_owned();
                let goodbye = encode(&Disconnect {
                    reason: reason.clone(),
                });
                (Some(goodbye), reason)
            }
        };
        Wind::Close(self.closing(last, reason))
    }
}
