//! What a connection owes its peer: the gauges that follow it, the stall timeout, and cutting
//! a peer off (slow consumer, stalled, frozen) with its writer stopped within a grace.

use std::time::{Duration, Instant};

use actix::{ActorContext, Context};
use hubwire_core::protocol::{Envelope, ErrorCode, ErrorFrame};
use hubwire_core::stream::{spawn_timer, Backlog};

use super::Connection;

/// Holds one count of a gauge for as long as it lives (however the task holding it ends).
pub(super) struct GaugeHeld(hubwire_core::stats::Gauge);

impl GaugeHeld {
    pub(super) fn new(gauge: hubwire_core::stats::Gauge) -> Self {
        gauge.inc();
        GaugeHeld(gauge)
    }
}

impl Drop for GaugeHeld {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// How long a cut-off peer (slow consumer, stalled) has to take its error frame before its
/// socket is shut regardless.
pub(crate) const CUT_OFF_GRACE: Duration = Duration::from_secs(1);

impl Connection {
    /// Closes at once: what is queued is dropped, `code` and `message` go out first, and the
    /// socket is shut within [`CUT_OFF_GRACE`] even if the peer never reads.
    pub(super) fn cut_off(&mut self, ctx: &mut Context<Self>, code: ErrorCode, message: String) {
        tracing::info!(peer = %self.peer, %code, %message, "cutting the connection off");
        let mut last = bytes::BytesMut::new();
        let error = ErrorFrame {
            id: None,
            code,
            message,
        };
        if error.write_frame(&mut last).is_ok() {
            self.replies.outbound().lock().cut_off(&last);
        }
        self.closed = true;
        self.session.closed();
        self.abort_writer_after(CUT_OFF_GRACE);
        ctx.stop();
    }

    /// Shuts the socket after `grace` if the writer has not finished by then: the task is
    /// dropped, with its buffers and its half of the socket.
    pub(super) fn abort_writer_after(&mut self, grace: Duration) {
        if let Some(mut writer) = self.writer.take() {
            // Ends with the writer if it finishes first: nothing is kept for the whole grace.
            spawn_timer(async move {
                tokio::select! {
                    _ = &mut writer => {}
                    () = tokio::time::sleep(grace) => writer.abort(),
                }
            });
        }
    }
}

impl Connection {
    /// Watches what the peer is owed: the reader is held back while it is over the bound (by
    /// the buffer itself); here the gauges follow it and a peer over it for the stall timeout
    /// is cut off (true).
    pub(super) fn check_backlog(&mut self, now: Instant, ctx: &mut Context<Self>) -> bool {
        let backlog = self.replies.outbound().lock().backlog();
        let limits = &self.shared.limits;
        let was_over = self.stall.is_over();
        let verdict = self.stall.tick(
            now,
            backlog,
            limits.max_outbound_bytes,
            limits.outbound_stall_timeout,
        );
        self.stats.outbound_bytes.add(self.stall.report(backlog));
        match (was_over, self.stall.is_over()) {
            (false, true) => self.stats.held_back.inc(),
            (true, false) => self.stats.held_back.dec(),
            _ => {}
        }
        if verdict != Backlog::Stalled {
            return false;
        }
        self.stats.stalled.inc();
        let message = format!(
            "stalled: owed more than {} bytes for {:?} without reading them",
            limits.max_outbound_bytes, limits.outbound_stall_timeout
        );
        self.cut_off(ctx, ErrorCode::Busy, message);
        true
    }
}
