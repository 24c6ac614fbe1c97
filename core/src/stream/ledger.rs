//! A server connection's account of the requests it owes replies, kept with its outbound
//! buffer so that a handler answers straight into the buffer, without a message to the
//! connection in between.
//!
//! Under one lock a reply is checked (still in flight? cancelled?), counted, and queued, and the
//! connection reads the same account to refuse a duplicate id, enforce its in-flight cap, answer
//! what is left at shutdown, and close once the last reply is queued.

use std::fmt;

use super::gate::ReadGate;
use crate::protocol::{Envelope, ErrorCode, ErrorFrame};
use crate::sync::{AtomicUsize, Ordering};

/// The bytes of a frame's `length` field, which `length` does not count.
const LENGTH_FIELD: usize = 4;

/// The least `max_frame` a peer may announce: every ERROR frame about a request fits in it.
pub const MIN_PEER_MAX_FRAME: usize = 64;
use super::ids::IdSet;
use super::outbound::Outbound;

/// Why a request was not admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// A request with this id is already in flight on the connection.
    Duplicate,
    /// The connection has as many requests in flight as it allows.
    Busy,
}

/// The requests of one connection that have been dispatched and not answered yet.
#[derive(Debug, Default)]
pub struct RequestLedger {
    in_flight: IdSet,
    /// In flight, and cancelled by the peer: the reply is dropped.
    cancelled: IdSet,
    /// Replies settled since the connection opened (for the idle timer).
    answered: u64,
    /// Call the idle hook when the last request in flight is settled.
    watch_idle: bool,
    /// The connection is handling a read ([`ReplyQueue::begin_read`]): it may not have counted
    /// the requests it dispatched, and more may come, so no reply is written before it is done.
    reading: bool,
}

impl RequestLedger {
    /// Counts request `id` in flight, unless it is already or `limit` are.
    pub fn admit(&mut self, id: u64, limit: usize) -> Result<(), Refused> {
        if self.in_flight.contains(&id) {
            return Err(Refused::Duplicate);
        }
        if self.in_flight.len() >= limit {
            return Err(Refused::Busy);
        }
        self.in_flight.insert(id);
        Ok(())
    }

    /// Forgets an admitted request that was refused before it reached a handler (its error
    /// reply is the connection's to write).
    pub fn withdraw(&mut self, id: u64) {
        self.in_flight.remove(&id);
        self.cancelled.remove(&id);
    }

    /// The peer gave up on `id`: its reply, if it comes, is dropped. Ignored if `id` is not in
    /// flight.
    pub fn cancel(&mut self, id: u64) {
        if self.in_flight.contains(&id) {
            self.cancelled.insert(id);
        }
    }

    /// Settles the reply to `id`: whether it is to be written (not cancelled, still owed).
    pub fn settle(&mut self, id: u64) -> bool {
        if !self.in_flight.remove(&id) {
            return false;
        }
        self.answered += 1;
        !self.cancelled.remove(&id)
    }

    /// Requests in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Replies settled since the start; a change means the connection was not idle.
    pub fn answered(&self) -> u64 {
        self.answered
    }

    /// Asks for the idle hook once nothing is in flight; returns whether that is already so
    /// (then no hook is called).
    pub fn watch_idle(&mut self) -> bool {
        self.watch_idle = !self.in_flight.is_empty();
        !self.watch_idle
    }

    /// Whether the idle hook is due now (once).
    fn idle_due(&mut self) -> bool {
        let due = self.watch_idle && self.in_flight.is_empty();
        if due {
            self.watch_idle = false;
        }
        due
    }

    /// Every request still in flight that was not cancelled, forgetting them all: their
    /// replies, when they come, are dropped.
    pub fn take_unanswered(&mut self) -> Vec<u64> {
        let cancelled = std::mem::take(&mut self.cancelled);
        let mut ids: Vec<u64> = std::mem::take(&mut self.in_flight)
            .into_iter()
            .filter(|id| !cancelled.contains(id))
            .collect();
        ids.sort_unstable();
        ids
    }
}

/// A server connection's outbound buffer with its [`RequestLedger`], shared by the connection
/// and the reply channels of its requests.
pub struct ReplyQueue {
    outbound: Outbound<RequestLedger>,
    /// Called (outside the lock) when the reply the connection waits for has been queued.
    on_idle: Box<dyn Fn() + Send + Sync>,
    /// The largest frame `length` the peer accepts (its CONN's `max_frame`); a reply over it is
    /// answered frame-too-large instead.
    peer_max_frame: AtomicUsize,
}

impl fmt::Debug for ReplyQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplyQueue")
            .field("outbound", &self.outbound)
            .finish_non_exhaustive()
    }
}

impl ReplyQueue {
    /// An empty queue for a connection; `on_idle` is called when the last
    /// request in flight is settled while [`RequestLedger::watch_idle`] asked for it.
    pub fn new(on_idle: impl Fn() + Send + Sync + 'static) -> Self {
        ReplyQueue::with_limit(usize::MAX, on_idle)
    }

    /// [`new`](Self::new), with the reader held back while more than `limit` bytes are owed
    /// to the peer (see [`Outbound::with_limit`]).
    pub fn with_limit(limit: usize, on_idle: impl Fn() + Send + Sync + 'static) -> Self {
        ReplyQueue {
            outbound: Outbound::with_limit(RequestLedger::default(), limit),
            on_idle: Box::new(on_idle),
            peer_max_frame: AtomicUsize::new(usize::MAX),
        }
    }

    /// The connection starts handling a read. Until [`end_read`](Self::end_read), replies
    /// are left to the writer task, which runs on the connection's thread and so after the
    /// read: none reaches the peer before the connection has counted the request it answers
    /// (a caller who has the reply sees `requests.dispatched` counted), and pipelined replies
    /// share a write.
    pub fn begin_read(&self) {
        self.outbound.lock().state().reading = true;
    }

    /// The connection has handled its read: a lone reply is written by whoever answers it
    /// again. What the read left queued is the writer task's, woken as the read ends. (Writing
    /// it here too, on a hub, had subscribers' connections write their backlogs from their
    /// read path: the 4 -> 1 pub/sub bench's subscriber was cut off as a slow consumer.)
    pub fn end_read(&self) {
        self.outbound.lock().state().reading = false;
    }

    /// The outbound buffer and the ledger.
    pub fn outbound(&self) -> &Outbound<RequestLedger> {
        &self.outbound
    }

    /// Records the largest frame `length` the peer accepts (from its CONN).
    pub fn set_peer_max_frame(&self, max_frame: usize) {
        self.peer_max_frame.store(max_frame, Ordering::Relaxed);
    }

    /// The largest frame `length` the peer accepts.
    pub fn peer_max_frame(&self) -> usize {
        self.peer_max_frame.load(Ordering::Relaxed)
    }

    /// Whether the peer accepts a whole frame of `frame_len` bytes (length field included).
    pub fn fits_peer(&self, frame_len: usize) -> bool {
        frame_len.saturating_sub(LENGTH_FIELD) <= self.peer_max_frame()
    }

    /// Queues the reply to request `id` (a whole frame) unless the request is no longer owed
    /// one (cancelled, answered at shutdown, connection closed). A reply larger than the peer
    /// accepts is answered frame-too-large instead. Returns whether it was queued.
    pub fn answer(&self, id: u64, frame: &[u8]) -> bool {
        if !self.fits_peer(frame.len()) {
            let message = format!(
                "the reply is {} bytes long, more than the {} bytes this client accepts (its max_frame)",
                frame.len() - LENGTH_FIELD,
                self.peer_max_frame()
            );
            let mut error = bytes::BytesMut::new();
            for message in [
                message.as_str(),
                "the reply is over this client's max_frame",
            ] {
                error.clear();
                ErrorFrame::for_request(id, ErrorCode::FrameTooLarge, message)
                    .write_frame(&mut error)
                    .expect("an ERROR frame always encodes");
                if self.fits_peer(error.len()) {
                    break;
                }
            }
            return self.answer_fitting(id, &error);
        }
        self.answer_fitting(id, frame)
    }

    fn answer_fitting(&self, id: u64, frame: &[u8]) -> bool {
        let mut queue = self.outbound.lock();
        let ledger = queue.state();
        let wanted = ledger.settle(id);
        let idle = ledger.idle_due();
        // The last reply owed, outside a read: nothing else is coming to share a write with, so
        // it is written now rather than by the writer task (pipelined replies still go out
        // together; one answered during a read is written when the read ends).
        let alone = ledger.in_flight() == 0 && !ledger.reading;
        let queued = wanted && queue.push(frame);
        if queued && alone {
            queue.flush_now();
        }
        drop(queue);
        if idle {
            (self.on_idle)();
        }
        queued
    }
}

impl ReadGate for ReplyQueue {
    fn poll_room(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        self.outbound.poll_room(cx)
    }
}

#[cfg(all(test, not(hubwire_loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn duplicates_and_requests_over_the_cap_are_refused() {
        let mut ledger = RequestLedger::default();
        assert_eq!(ledger.admit(1, 2), Ok(()));
        assert_eq!(ledger.admit(1, 2), Err(Refused::Duplicate));
        assert_eq!(ledger.admit(2, 2), Ok(()));
        assert_eq!(ledger.admit(3, 2), Err(Refused::Busy));
        assert!(ledger.settle(1));
        assert_eq!(
            ledger.admit(1, 2),
            Ok(()),
            "an answered id may be used again"
        );
        ledger.withdraw(2);
        assert_eq!(ledger.in_flight(), 1);
        assert_eq!(ledger.answered(), 1);
    }

    #[test]
    fn a_cancelled_reply_is_dropped_and_a_late_one_too() {
        let mut ledger = RequestLedger::default();
        ledger.admit(1, 8).unwrap();
        ledger.admit(2, 8).unwrap();
        ledger.admit(3, 8).unwrap();
        ledger.cancel(1);
        ledger.cancel(99);
        assert!(!ledger.settle(1), "cancelled");
        assert_eq!(ledger.take_unanswered(), vec![2, 3]);
        assert!(!ledger.settle(2), "answered at shutdown already");
        assert_eq!(ledger.in_flight(), 0);
    }

    #[test]
    fn the_idle_hook_fires_once_after_the_last_reply_is_queued() {
        let calls = Arc::new(AtomicUsize::new(0));
        let queue = ReplyQueue::new({
            let calls = calls.clone();
            move || {
                calls.fetch_add(1, Ordering::SeqCst);
            }
        });
        {
            let mut q = queue.outbound().lock();
            q.state().admit(1, 8).unwrap();
            q.state().admit(2, 8).unwrap();
            assert!(!q.state().watch_idle());
        }
        assert!(queue.answer(1, b"one"));
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        assert!(queue.answer(2, b"two"));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(!queue.answer(2, b"again"), "no longer owed");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let mut q = queue.outbound().lock();
        assert_eq!(q.queued(), 6);
        assert!(q.state().watch_idle(), "already idle");
    }

    /// A reply answered while the connection handles a read waits for the read to end (the
    /// request is counted first); a lone reply outside a read is written by whoever answers.
    #[tokio::test]
    async fn a_reply_during_a_read_is_left_to_the_writer_task() {
        use tokio::io::AsyncReadExt;
        let queue = Arc::new(ReplyQueue::new(|| {}));
        let (client, mut server) = tokio::io::duplex(64);
        let writer = tokio::spawn({
            let queue = queue.clone();
            async move { queue.outbound().write_to(client).await }
        });
        while !queue.outbound().is_writer_idle() {
            tokio::task::yield_now().await;
        }
        queue.begin_read();
        queue.outbound().lock().state().admit(1, 8).unwrap();
        assert!(queue.answer(1, b"one"));
        assert_eq!(queue.outbound().lock().queued(), 3, "held for the read");
        queue.end_read();
        // Written by the writer task, woken as the read ends.
        while queue.outbound().lock().queued() > 0 {
            tokio::task::yield_now().await;
        }
        queue.outbound().lock().state().admit(2, 8).unwrap();
        assert!(queue.answer(2, b"two"));
        assert_eq!(
            queue.outbound().lock().queued(),
            0,
            "written by who answered"
        );
        let mut got = [0u8; 6];
        server.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"onetwo");
        queue.outbound().lock().close();
        writer.await.unwrap().unwrap();
    }
}
