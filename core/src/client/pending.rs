//! The calls of one connection waiting for replies, and their deadlines.
//!
//! Calls register here, the reader completes them, and one sweeper task per connection fails
//! the calls whose deadline has passed. One timer per connection, set for the earliest
//! deadline, replaces a timer per call: calls come and go far more often than deadlines pass,
//! and a timer per call cost a timer-wheel entry and a clock read on every call.

use std::future::{poll_fn, Future};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use super::CallError;
use crate::protocol::Response;
use crate::stream::IdMap;

type ReplySender = oneshot::Sender<Result<Response, CallError>>;
/// Where a call's reply arrives. A call whose deadline passed gets [`CallError::Timeout`]
/// (with an empty route: the caller fills in its own).
pub(crate) type ReplyReceiver = oneshot::Receiver<Result<Response, CallError>>;

/// Sweeps are at least this far apart, so that calls timing out one after another cost one
/// pass over the waiting calls per interval, not one per call.
const MIN_SWEEP_INTERVAL: Duration = Duration::from_millis(1);

struct Waiting {
    reply: ReplySender,
    deadline: Instant,
}

/// The calls waiting for replies, and whether the connection has ended.
#[derive(Default)]
struct Calls {
    waiting: IdMap<Waiting>,
    closed: Option<String>,
    /// When the sweeper looks next; `None` while it waits for a first call.
    next_sweep: Option<Instant>,
    /// The shortest timeout seen: when no call waits, the sweeper looks again this far ahead,
    /// so that the next call (whose deadline is at least that far off) need not wake it.
    shortest: Option<Duration>,
    /// The sweeper, when a call with an earlier deadline must wake it.
    sweeper: Option<Waker>,
}

/// Shared by the calls (which register), the reader (which completes) and the sweeper (which
/// times out). Plain client code, not actors, so a short-held mutex is the simple, fast choice.
#[derive(Default)]
pub(crate) struct Pending {
    calls: Mutex<Calls>,
    /// Set with `closed`, to be read without the lock on every call.
    closed: AtomicBool,
}

impl Pending {
    fn lock(&self) -> MutexGuard<'_, Calls> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers call `id`, due by `deadline` (`timeout` from now); returns where its reply
    /// arrives and how many calls are waiting (this one included).
    pub(crate) fn register(
        &self,
        id: u64,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<(ReplyReceiver, usize), CallError> {
        let mut calls = self.lock();
        if let Some(reason) = &calls.closed {
            return Err(CallError::ConnectionLost {
                reason: reason.clone(),
            });
        }
        let (reply, rx) = oneshot::channel();
        calls.waiting.insert(id, Waiting { reply, deadline });
        let waiting = calls.waiting.len();
        if calls.shortest.is_none_or(|t| timeout < t) {
            calls.shortest = Some(timeout);
        }
        // The sweeper would look too late for this call: have it look sooner.
        let wake = if calls.next_sweep.is_none_or(|at| deadline < at) {
            calls.next_sweep = Some(deadline);
            calls.sweeper.take()
        } else {
            None
        };
        drop(calls);
        if let Some(sweeper) = wake {
            sweeper.wake();
        }
        Ok((rx, waiting))
    }

    /// Hands call `id` its reply, if it still waits.
    pub(crate) fn complete(&self, id: u64, result: Result<Response, CallError>) {
        let waiting = self.lock().waiting.remove(&id);
        if let Some(waiting) = waiting {
            let _ = waiting.reply.send(result);
        }
    }

    /// Stops waiting for call `id` (its reply, if it comes, is dropped).
    pub(crate) fn forget(&self, id: u64) {
        self.lock().waiting.remove(&id);
    }

    /// Fails every waiting call with connection-lost, and every later one at once.
    pub(crate) fn close(&self, reason: &str) {
        self.close_with(reason, || CallError::ConnectionLost {
            reason: reason.to_owned(),
        });
    }

    /// Ends the connection because the server refused it (an ERROR about the connection, such
    /// as `denied` for a peer that did not authenticate): the calls waiting get that error.
    pub(crate) fn refuse_all(&self, code: crate::protocol::ErrorCode, message: &str) {
        let reason = format!("the server refused the connection: {code}: {message}");
        self.close_with(&reason, || CallError::Remote {
            code,
            message: message.to_owned(),
        });
    }

    fn close_with(&self, reason: &str, error: impl Fn() -> CallError) {
        let (waiting, sweeper) = {
            let mut calls = self.lock();
            calls.closed.get_or_insert_with(|| reason.to_owned());
            self.closed.store(true, Ordering::Release);
            (std::mem::take(&mut calls.waiting), calls.sweeper.take())
        };
        for (_, call) in waiting {
            let _ = call.reply.send(Err(error()));
        }
        if let Some(sweeper) = sweeper {
            sweeper.wake();
        }
    }

    /// Whether the connection has ended.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Times out the calls whose deadline has passed, until the connection ends. Run it as
    /// the connection's one sweeper task.
    pub(crate) async fn sweep(&self) {
        loop {
            // Wait for a call, or for a call due sooner than the last look planned.
            let planned = poll_fn(|cx| {
                let mut calls = self.lock();
                if calls.closed.is_some() {
                    return Poll::Ready(None);
                }
                match calls.next_sweep {
                    Some(at) => Poll::Ready(Some(at)),
                    None => {
                        calls.sweeper = Some(cx.waker().clone());
                        Poll::Pending
                    }
                }
            })
            .await;
            let Some(at) = planned else { return };
            let sleep = tokio::time::sleep_until(at);
            tokio::pin!(sleep);
            let moved = poll_fn(|cx| {
                if sleep.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(false);
                }
                let mut calls = self.lock();
                if calls.closed.is_some() || calls.next_sweep != Some(at) {
                    return Poll::Ready(true);
                }
                calls.sweeper = Some(cx.waker().clone());
                Poll::Pending
            })
            .await;
            if !moved {
                self.time_out_due();
            }
        }
    }

    /// Fails the calls past their deadline; plans the next look.
    fn time_out_due(&self) {
        let now = Instant::now();
        let expired: Vec<Waiting> = {
            let mut calls = self.lock();
            let expired = calls
                .waiting
                .extract_if(|_, call| call.deadline <= now)
                .map(|(_, call)| call)
                .collect();
            let earliest = calls.waiting.values().map(|call| call.deadline).min();
            let idle_look = now + calls.shortest.unwrap_or(Duration::from_secs(1));
            let next = earliest.unwrap_or(idle_look);
            calls.next_sweep = Some(next.max(now + MIN_SWEEP_INTERVAL));
            expired
        };
        for call in expired {
            let _ = call.reply.send(Err(CallError::Timeout {
                route: String::new(),
                after: Duration::ZERO,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn calls_past_their_deadline_time_out_and_others_do_not() {
        let pending = Arc::new(Pending::default());
        let sweeper = tokio::spawn({
            let pending = pending.clone();
            async move { pending.sweep().await }
        });
        let start = Instant::now();
        let (slow, _) = pending
            .register(1, start + Duration::from_secs(10), Duration::from_secs(10))
            .unwrap();
        let (quick, waiting) = pending
            .register(
                2,
                start + Duration::from_millis(50),
                Duration::from_millis(50),
            )
            .unwrap();
        assert_eq!(waiting, 2);
        let err = quick.await.unwrap().unwrap_err();
        assert!(matches!(err, CallError::Timeout { .. }), "{err}");
        let waited = Instant::now() - start;
        // Not before its deadline; well before the slow call's (real time: a generous bound).
        assert!(waited >= Duration::from_millis(50), "{waited:?}");
        assert!(waited < Duration::from_secs(5), "{waited:?}");
        pending.complete(
            1,
            Ok(Response {
                id: 1,
                headers: Default::default(),
                body: Default::default(),
            }),
        );
        assert_eq!(slow.await.unwrap().unwrap().id, 1);
        pending.close("done");
        sweeper.await.unwrap();
        assert!(matches!(
            pending.register(3, start, Duration::ZERO),
            Err(CallError::ConnectionLost { .. })
        ));
    }
}
