//! Concurrency models of the outbound path (docs/concurrency.md): loom runs each one under
//! every interleaving of its threads (up to a preemption bound) and fails on a broken
//! assertion, a panic, or a deadlock (every thread blocked: a missed wake-up).
//!
//! Run with `RUSTFLAGS="--cfg hubwire_loom" cargo test -p hubwire-core --release --lib loom`.
//! Frames are two bytes long, so a partial write or a wrong order shows in the bytes, and the
//! writer may put control frames between any two of them (`URGENT_CHECK_BYTES` is 2 here).

use std::future::{poll_fn, Future};
use std::io;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};

use loom::future::block_on;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::sync::{Arc, Mutex, Notify};
use loom::thread;
use tokio::io::AsyncWrite;

use super::{hold_wakes, Outbound, ReadGate, ReplyQueue};

/// Runs `model` under loom, at most `LOOM_MAX_PREEMPTIONS` preemptions per run (3 unless set).
fn check(model: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(model);
}

/// What reached the peer.
#[derive(Default)]
struct Wire {
    bytes: Vec<u8>,
    shut: bool,
}

/// A socket's write half that takes at most three bytes a call and is full every third call
/// (it wakes the caller at once, as a socket that drains would).
struct MockSocket {
    wire: Arc<Mutex<Wire>>,
    /// Told of every write, for a model that waits until bytes arrive.
    written: Arc<Notify>,
    /// Set once a reply may reach the peer; every write checks it, if given.
    may_write: Option<Arc<AtomicBool>>,
    calls: usize,
}

impl MockSocket {
    fn new() -> (MockSocket, Arc<Mutex<Wire>>, Arc<Notify>) {
        let wire = Arc::new(Mutex::new(Wire::default()));
        let written = Arc::new(Notify::new());
        let socket = MockSocket {
            wire: wire.clone(),
            written: written.clone(),
            may_write: None,
            calls: 0,
        };
        (socket, wire, written)
    }
}

impl AsyncWrite for MockSocket {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.calls += 1;
        if self.calls % 3 == 2 {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if let Some(may_write) = &self.may_write {
            assert!(
                may_write.load(SeqCst),
                "a reply reached the peer before the connection counted its request"
            );
        }
        let n = buf.len().min(3);
        {
            let mut wire = self.wire.lock().unwrap();
            assert!(!wire.shut, "written after the write side was shut down");
            wire.bytes.extend_from_slice(&buf[..n]);
        }
        self.written.notify();
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut wire = self.wire.lock().unwrap();
        assert!(!wire.shut, "shut down twice");
        wire.shut = true;
        Poll::Ready(Ok(()))
    }
}

/// The writer task on a thread of its own; it must end (the buffer is closed by then).
fn spawn_writer<S: Send + Sync + 'static>(
    outbound: &Arc<Outbound<S>>,
    socket: MockSocket,
) -> thread::JoinHandle<()> {
    let outbound = outbound.clone();
    thread::spawn(move || block_on(outbound.write_to(socket)).expect("the mock never fails"))
}

/// The wire's bytes as two-byte frames.
fn frames(wire: &Mutex<Wire>) -> Vec<[u8; 2]> {
    let wire = wire.lock().unwrap();
    assert_eq!(wire.bytes.len() % 2, 0, "a frame was cut: {:?}", wire.bytes);
    wire.bytes.chunks(2).map(|f| [f[0], f[1]]).collect()
}

/// Pending once (after asking to be polled again): a point where another future of the same
/// thread may run.
async fn yield_once() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

/// Polls `a` and `b` on one thread until both are done (the connection and its writer task
/// share a thread: one runs only while the other waits).
async fn join(a: impl Future<Output = ()>, b: impl Future<Output = ()>) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut a_done, mut b_done) = (false, false);
    poll_fn(|cx| {
        a_done = a_done || a.as_mut().poll(cx).is_ready();
        b_done = b_done || b.as_mut().poll(cx).is_ready();
        if a_done && b_done {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}

/// Two producers push while one of them closes: every frame accepted before the close is
/// written once, each producer's in order, the write side is shut after the last of them
/// and never written to again, and the writer ends.
#[test]
fn pushes_racing_a_close_are_written_once_in_order_then_the_writer_ends() {
    check(|| {
        let outbound = Arc::new(Outbound::<()>::new(()));
        let (socket, wire, _) = MockSocket::new();
        let writer = spawn_writer(&outbound, socket);
        let other = thread::spawn({
            let outbound = outbound.clone();
            move || {
                let first = outbound.lock().push(b"b1");
                let second = outbound.lock().push(b"b2");
                [first, second]
            }
        });
        let a1 = outbound.lock().push(b"a1");
        let a2 = outbound.lock().push(b"a2");
        // A close of its own (no push in the same lock to wake the writer).
        outbound.lock().close();
        let [b1, b2] = other.join().unwrap();
        writer.join().unwrap();
        assert!(a1 && a2, "accepted before the close, on the closing thread");
        assert!(b1 || !b2, "a push refused after the close stays refused");
        let written = frames(&wire);
        let expected = usize::from(a1) + usize::from(a2) + usize::from(b1) + usize::from(b2);
        assert_eq!(
            written.len(),
            expected,
            "each accepted frame once: {written:?}"
        );
        let position = |frame: &[u8; 2]| written.iter().position(|w| w == frame);
        assert!(position(b"a1") < position(b"a2"));
        if b2 {
            assert!(position(b"b1") < position(b"b2"));
        }
        assert!(wire.lock().unwrap().shut);
        assert!(!outbound.is_open());
        assert_eq!(outbound.lock().backlog(), 0, "nothing owed once stopped");
    });
}

/// A control frame pushed while the writer is in the middle of a batch goes out at a frame
/// boundary of it, and every bulk frame still goes out once and in order.
#[test]
fn an_urgent_frame_overtakes_bulk_data_only_at_frame_boundaries() {
    check(|| {
        let outbound = Arc::new(Outbound::<()>::new(()));
        {
            let mut queue = outbound.lock();
            for frame in [b"b1", b"b2", b"b3"] {
                queue.push(frame);
            }
        }
        let (socket, wire, _) = MockSocket::new();
        let writer = spawn_writer(&outbound, socket);
        assert!(outbound.lock().push_urgent(b"U!"));
        outbound.lock().close();
        writer.join().unwrap();
        let written = frames(&wire);
        let bulk: Vec<_> = written.iter().filter(|f| *f != b"U!").collect();
        assert_eq!(
            bulk,
            [b"b1", b"b2", b"b3"],
            "bulk once, in order: {written:?}"
        );
        assert_eq!(written.len(), 4, "the control frame once: {written:?}");
    });
}

/// A peer cut off from another thread while the writer is in the middle of a batch: the
/// writer drops the rest of the batch at a frame boundary, the last frame goes out once and
/// after no other, and nothing is taken after the cut.
#[test]
fn a_cut_off_mid_batch_sends_the_last_frame_last_and_drops_the_rest() {
    check(|| {
        let outbound = Arc::new(Outbound::<()>::new(()));
        {
            let mut queue = outbound.lock();
            for frame in [b"b1", b"b2", b"b3"] {
                queue.push(frame);
            }
        }
        let (socket, wire, _) = MockSocket::new();
        let writer = spawn_writer(&outbound, socket);
        let cutter = thread::spawn({
            let outbound = outbound.clone();
            move || outbound.lock().cut_off(b"XX")
        });
        let late = outbound.lock().push(b"b4");
        cutter.join().unwrap();
        assert!(
            !outbound.lock().push(b"b5"),
            "nothing taken after a cut-off"
        );
        writer.join().unwrap();
        let written = frames(&wire);
        assert_eq!(
            written.last(),
            Some(b"XX"),
            "the last frame last: {written:?}"
        );
        let bulk = &written[..written.len() - 1];
        let sent: &[&[u8; 2]] = &[b"b1", b"b2", b"b3", b"b4"][..bulk.len()];
        assert!(
            bulk.iter().zip(sent).all(|(w, s)| w == *s),
            "a prefix of the bulk frames, in order, then the last frame: {written:?}"
        );
        if !late {
            assert!(!bulk.contains(b"b4"));
        }
        assert!(wire.lock().unwrap().shut);
        assert_eq!(outbound.lock().backlog(), 0);
    });
}

/// A reader held back over the bound is woken once the writer has brought the backlog under
/// it (here: drained it, as a frame is two bytes and the bound one): loom fails the model as a
/// deadlock if the wake-up is missed or the backlog never comes back to 0.
#[test]
fn a_reader_over_the_bound_is_woken_when_the_writer_drains() {
    check(|| {
        let outbound = Arc::new(Outbound::with_limit((), 1));
        {
            let mut queue = outbound.lock();
            queue.push(b"b1");
            queue.push(b"b2");
        }
        let (socket, wire, _) = MockSocket::new();
        let writer = spawn_writer(&outbound, socket);
        let reader = thread::spawn({
            let outbound = outbound.clone();
            move || block_on(poll_fn(|cx| outbound.poll_room(cx)))
        });
        reader.join().unwrap();
        outbound.lock().close();
        writer.join().unwrap();
        assert_eq!(frames(&wire).len(), 2);
        assert_eq!(
            outbound.lock().backlog(),
            0,
            "no underflow, nothing left owed"
        );
    });
}

/// A reader held back over the bound is woken when the buffer is closed, however far the
/// writer has got.
#[test]
fn a_reader_over_the_bound_is_woken_by_a_close() {
    check(|| {
        let outbound = Arc::new(Outbound::with_limit((), 1));
        outbound.lock().push(b"b1");
        let reader = thread::spawn({
            let outbound = outbound.clone();
            move || block_on(poll_fn(|cx| outbound.poll_room(cx)))
        });
        outbound.lock().close();
        reader.join().unwrap();
        // No writer ever ran: the close alone lets the reader go on.
        assert_eq!(outbound.lock().backlog(), 2);
    });
}

/// Frames pushed while a thread holds its wakes (a connection handling a read) wake the
/// writer once the hold ends: loom fails the model as a deadlock if the wake is lost.
#[test]
fn a_held_wake_reaches_the_writer_when_the_hold_ends() {
    check(|| {
        let outbound = Arc::new(Outbound::<()>::new(()));
        let (socket, wire, written) = MockSocket::new();
        let writer = spawn_writer(&outbound, socket);
        let reading = thread::spawn({
            let outbound = outbound.clone();
            move || {
                hold_wakes(|| {
                    outbound.lock().push(b"a1");
                    outbound.lock().push(b"a2");
                })
            }
        });
        reading.join().unwrap();
        // Closed only once everything is written: a close would wake the writer itself.
        while wire.lock().unwrap().bytes.len() < 4 {
            written.wait();
        }
        outbound.lock().close();
        writer.join().unwrap();
        assert_eq!(frames(&wire), [*b"a1", *b"a2"]);
    });
}

/// The connection admits two requests during a read and a handler on another thread answers
/// them while the connection goes on (the server drains: it asks for the idle hook). No reply
/// reaches the peer before the read is over (requests counted); each is written once; the
/// idle hook fires once if it was asked for while requests were in flight, never otherwise.
#[test]
fn replies_from_another_thread_wait_for_the_read_and_the_idle_hook_fires_once() {
    check(|| {
        let idle_calls = Arc::new(AtomicUsize::new(0));
        let replies = Arc::new(ReplyQueue::new({
            let idle_calls = idle_calls.clone();
            move || {
                idle_calls.fetch_add(1, SeqCst);
            }
        }));
        let counted = Arc::new(AtomicBool::new(false));
        let (mut socket, wire, _) = MockSocket::new();
        socket.may_write = Some(counted.clone());
        let connection = async {
            replies.begin_read();
            {
                let mut queue = replies.outbound().lock();
                queue.state().admit(1, 8).unwrap();
                queue.state().admit(2, 8).unwrap();
            }
            let handler = thread::spawn({
                let replies = replies.clone();
                move || [replies.answer(1, b"r1"), replies.answer(2, b"r2")]
            });
            counted.store(true, SeqCst);
            let already_idle = replies.outbound().lock().state().watch_idle();
            replies.end_read();
            // The connection waits for its next read: its writer task may run.
            yield_once().await;
            let answered = handler.join().unwrap();
            assert_eq!(answered, [true, true]);
            let hook = idle_calls.load(SeqCst);
            assert_eq!(hook, usize::from(!already_idle), "the idle hook fires once");
            replies.outbound().lock().close();
        };
        let writer = async {
            replies.outbound().write_to(socket).await.unwrap();
        };
        block_on(join(writer, connection));
        assert_eq!(frames(&wire), [*b"r1", *b"r2"]);
        assert!(wire.lock().unwrap().shut);
    });
}

/// The server closes while a handler on another thread answers: each request is answered
/// exactly once on the wire, by its reply or by the shutting-down error the connection
/// writes for what is still in flight, never both.
#[test]
fn a_request_is_answered_once_when_its_reply_races_the_close() {
    check(|| {
        let replies = Arc::new(ReplyQueue::new(|| {}));
        let (socket, wire, _) = MockSocket::new();
        let writer = thread::spawn({
            let replies = replies.clone();
            move || block_on(replies.outbound().write_to(socket)).unwrap()
        });
        {
            let mut queue = replies.outbound().lock();
            queue.state().admit(1, 8).unwrap();
            queue.state().admit(2, 8).unwrap();
        }
        let handler = thread::spawn({
            let replies = replies.clone();
            move || [replies.answer(1, b"r1"), replies.answer(2, b"r2")]
        });
        let mut errors = Vec::new();
        {
            let mut queue = replies.outbound().lock();
            for id in queue.state().take_unanswered() {
                let error = [b'e', b'0' + id as u8];
                assert!(queue.push(&error));
                errors.push(error);
            }
            queue.close();
        }
        let [one, two] = handler.join().unwrap();
        writer.join().unwrap();
        let written = frames(&wire);
        for (id, replied) in [(1, one), (2, two)] {
            let reply = [b'r', b'0' + id];
            let error = [b'e', b'0' + id];
            let count = |frame| written.iter().filter(|w| **w == frame).count();
            assert_eq!(count(reply), usize::from(replied), "{written:?}");
            assert_eq!(count(error), usize::from(!replied), "{written:?}");
            assert_eq!(errors.contains(&error), !replied);
        }
        assert_eq!(replies.outbound().lock().state().in_flight(), 0);
    });
}
