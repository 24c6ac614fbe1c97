//! [`HeldBack`]: a NATS publisher's reading held back while a subscriber it just delivered to
//! owes its client more than the hub's stall mark, as nats-server stalls a fast producer's
//! reader instead of cutting its consumer off: the publisher reads again once that backlog is
//! down to half the mark. A subscriber that makes no progress for [`PATIENCE`] is not waited
//! for again: it fills up and is cut off as a slow consumer, and nobody else is held back by
//! it.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use hubwire_core::stream::{ReadGate, ReplyQueue};
use tokio::time::{Instant, Sleep};

/// How often a held-back publisher looks at the subscriber's backlog.
const RECHECK: Duration = Duration::from_millis(1);

/// How long a subscriber may make no progress before it is no longer waited for.
pub(super) const PATIENCE: Duration = Duration::from_secs(1);

/// Whether, and for whom, reading waits.
#[derive(Default)]
pub(super) struct HeldBack {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    waiting: Option<Waiting>,
    /// The subscriber last given up on: not waited for again.
    given_up: Option<Arc<ReplyQueue>>,
}

struct Waiting {
    queue: Arc<ReplyQueue>,
    /// Reading resumes at or under this backlog.
    resume_at: usize,
    /// The lowest backlog seen, and when.
    lowest: usize,
    since: Instant,
    timer: Pin<Box<Sleep>>,
}

impl std::fmt::Debug for HeldBack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("HeldBack")
            .field("waiting", &state.waiting.is_some())
            .finish()
    }
}

impl HeldBack {
    /// Holds reading back until `queue`'s backlog is down to `resume_at` (unless reading
    /// already waits, or `queue` was given up on).
    pub(super) fn hold(&self, queue: Arc<ReplyQueue>, resume_at: usize) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let given_up = state
            .given_up
            .as_ref()
            .is_some_and(|q| Arc::ptr_eq(q, &queue));
        if state.waiting.is_some() || given_up {
            return;
        }
        let now = Instant::now();
        state.waiting = Some(Waiting {
            queue,
            resume_at,
            lowest: usize::MAX,
            since: now,
            timer: Box::pin(tokio::time::sleep_until(now)),
        });
    }
}

impl ReadGate for HeldBack {
    fn poll_room(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let Some(waiting) = state.waiting.as_mut() else {
                return Poll::Ready(());
            };
            let (open, backlog) = {
                let outbound = waiting.queue.outbound().lock();
                (outbound.is_open(), outbound.backlog())
            };
            if !open || backlog <= waiting.resume_at {
                state.waiting = None;
                return Poll::Ready(());
            }
            let now = Instant::now();
            if backlog < waiting.lowest {
                waiting.lowest = backlog;
                waiting.since = now;
            } else if now.duration_since(waiting.since) >= PATIENCE {
                let gone = state.waiting.take().expect("checked");
                state.given_up = Some(gone.queue);
                return Poll::Ready(());
            }
            waiting.timer.as_mut().reset(now + RECHECK);
            if waiting.timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
    }
}
