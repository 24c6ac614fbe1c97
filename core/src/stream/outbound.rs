//! The write side of a stream as one outbound buffer: whoever has a frame for the peer appends
//! it, and one writer task writes everything appended since its last pass in one write.
//!
//! Frames are encoded straight into the buffer (or copied in from a scratch buffer), so queueing
//! one allocates nothing, and a pipelined burst costs one system call. The buffer also carries
//! the stream's bookkeeping (`S`), updated under the same short lock as the frame that goes
//! with it, so that "this request is answered" and "its reply is queued" cannot be seen apart.
//!
//! ```text
//! connection ─┐                                    (swap buffers)
//! replies    ─┼─ lock, append ─▶ Outbound { bytes } ──────────▶ writer task ─write─▶ socket
//! calls      ─┘                       └── flush_now (writer idle, nothing else coming) ─▶ socket
//! ```
//!
//! A lone frame with nothing else expected soon (the reply to the only request in flight, the
//! only call in flight) can be written at once by whoever appended it ([`flush_now`]), which
//! spares waking the writer task for it; everything else waits for the writer's next pass.
//!
//! Everything queued counts against the buffer's bound ([`Outbound::with_limit`]): bulk data,
//! control frames, and what the writer has taken but not yet written. Over it, the stream's
//! reader waits ([`ReadGate`]) until the writer has brought the backlog back under it, so a
//! peer that writes and never reads cannot make the buffer grow: it is pushed back on instead.
//! A peer found slow is [cut off](OutboundGuard::cut_off): its backlog is dropped at once and
//! only an error frame is left to write.
//!
//! [`flush_now`]: OutboundGuard::flush_now

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::PoisonError;
use std::task::{Context, Poll, Waker};

use super::gate::ReadGate;
use crate::sync::{AtomicBool, Mutex, MutexGuard, Ordering};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::protocol::{Envelope, ProtocolError};

/// A buffer left with more capacity than this after a write is given back to the allocator.
const KEEP_CAPACITY: usize = 256 * 1024;

/// The writer looks for control frames after at most about this many bytes of bulk data, at
/// the next frame boundary.
#[cfg(not(all(test, hubwire_loom)))]
const URGENT_CHECK_BYTES: usize = 64 * 1024;
/// In the concurrency models, a few bytes: their frames are two bytes long.
#[cfg(all(test, hubwire_loom))]
const URGENT_CHECK_BYTES: usize = 2;

/// The write half of a stream, as the writer task and [`OutboundGuard::flush_now`] share it.
type Writer = Box<dyn AsyncWrite + Send + Unpin>;

/// The bytes waiting to be written to one stream, and the bookkeeping `S` that goes with them.
#[derive(Default)]
pub struct Outbound<S = ()> {
    queue: Mutex<Queue<S>>,
    /// Set (under the lock) once closing or stopped, to be read without it.
    shut: AtomicBool,
}

impl<S: std::fmt::Debug> std::fmt::Debug for Outbound<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("open", &self.is_open())
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Queue<S> {
    bytes: BytesMut,
    /// Appends to `bytes` since the writer last took it (frames, for the usual one frame per
    /// append), for bounds counted in messages.
    appended: usize,
    /// Offsets in `bytes` where a frame starts, about [`URGENT_CHECK_BYTES`] apart: where the
    /// writer may put control frames in the middle of a batch. Exact or absent, never inside
    /// a frame.
    marks: Vec<usize>,
    /// Control frames (PONG, ERROR about the connection): written ahead of `bytes` at the
    /// writer's next pass, which starts at a frame boundary.
    urgent: BytesMut,
    /// The write half while the writer task waits for bytes (it takes it to write).
    idle_writer: Option<Writer>,
    /// The writer task, when it waits for bytes.
    waker: Option<Waker>,
    /// Bytes the writer has taken and not yet written: they still count against `limit`.
    writing: usize,
    /// The most bytes the buffer holds before the reader is held back ([`ReadGate`]).
    limit: usize,
    /// The stream's reader, waiting for the backlog to come back under `limit`.
    read_waker: Option<Waker>,
    /// Cut off: the rest of the batch being written is abandoned (only `urgent` goes out).
    cut: bool,
    /// [`flush_now`](OutboundGuard::flush_now) wrote part of a frame of `bytes`: its rest, at
    /// the head of `bytes`, goes out before any control frame.
    bulk_cut: bool,
    /// Write what is queued, then shut the write side down; take nothing more.
    closing: bool,
    /// The writer has finished (or failed): nothing appended will be written.
    stopped: bool,
    state: S,
}

impl<S> Outbound<S> {
    /// An empty outbound buffer with bookkeeping `state`.
    pub fn new(state: S) -> Self {
        Outbound {
            queue: Mutex::new(Queue {
                bytes: BytesMut::new(),
                appended: 0,
                marks: Vec::new(),
                urgent: BytesMut::new(),
                writing: 0,
                limit: usize::MAX,
                read_waker: None,
                cut: false,
                bulk_cut: false,
                idle_writer: None,
                waker: None,
                closing: false,
                stopped: false,
                state,
            }),
            shut: AtomicBool::new(false),
        }
    }

    /// An empty buffer whose reader is held back while more than `limit` bytes are queued.
    pub fn with_limit(state: S, limit: usize) -> Self {
        let outbound = Outbound::new(state);
        outbound.lock().queue().limit = limit;
        outbound
    }

    /// Locks the buffer. Hold the guard briefly (no waiting, no user code): every writer of the
    /// stream and its writer task wait on it. The writer task is woken when it is dropped, if
    /// there is something for it.
    pub fn lock(&self) -> OutboundGuard<'_, S> {
        OutboundGuard {
            queue: Some(self.queue.lock().unwrap_or_else(PoisonError::into_inner)),
            shut: &self.shut,
            wake: false,
        }
    }

    /// Whether frames can still be written: not closing, and the writer has not stopped.
    pub fn is_open(&self) -> bool {
        !self.shut.load(Ordering::Acquire)
    }

    /// Whether the writer task waits for bytes with the write half (so that
    /// [`flush_now`](OutboundGuard::flush_now) can write).
    #[cfg(all(test, not(hubwire_loom)))]
    pub(crate) fn is_writer_idle(&self) -> bool {
        self.lock().queue().idle_writer.is_some()
    }

    /// Writes what is appended to `wr` until the buffer is closed and drained (then shuts the
    /// write side down) or a write fails. Run it as the stream's one writer task. When it
    /// returns (or is dropped), nothing appended afterwards is kept.
    pub async fn write_to<W>(&self, wr: W) -> std::io::Result<()>
    where
        W: AsyncWrite + Send + Unpin + 'static,
    {
        let stop = StopOnDrop(self);
        self.lock().queue().idle_writer = Some(Box::new(wr));
        let mut batch = BytesMut::new();
        let mut marks = Vec::new();
        let mut urgent = BytesMut::new();
        loop {
            // Ready with the write half and, if there is a batch, whether it starts with the rest
            // of a frame (else: closing, drained).
            let (wr, more) = poll_fn(|cx| {
                let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
                if !queue.bytes.is_empty() || !queue.urgent.is_empty() {
                    std::mem::swap(&mut queue.urgent, &mut urgent);
                    std::mem::swap(&mut queue.bytes, &mut batch);
                    std::mem::swap(&mut queue.marks, &mut marks);
                    queue.appended = 0;
                    queue.writing = urgent.len() + batch.len();
                    let resume = std::mem::take(&mut queue.bulk_cut);
                    return Poll::Ready((queue.idle_writer.take(), Some(resume)));
                }
                if queue.closing {
                    return Poll::Ready((queue.idle_writer.take(), None));
                }
                match &mut queue.waker {
                    Some(waker) if waker.will_wake(cx.waker()) => {}
                    slot => *slot = Some(cx.waker().clone()),
                }
                Poll::Pending
            })
            .await;
            let mut wr = wr.expect("only the writer task takes the write half");
            let Some(resume) = more else {
                drop(stop);
                return wr.shutdown().await;
            };
            let written = self
                .write_batch(&mut wr, &mut urgent, &batch, &marks, resume)
                .await;
            urgent.clear();
            batch.clear();
            marks.clear();
            if batch.capacity() > KEEP_CAPACITY {
                batch = BytesMut::new();
            }
            written?;
            // One lock for both: the write half back, and nothing owed from this batch any
            // more (dropping the guard wakes a reader waiting for room).
            let mut guard = self.lock();
            let queue = guard.queue();
            queue.idle_writer = Some(wr);
            queue.writing = 0;
        }
    }
}

impl<S> Outbound<S> {
    /// Writes `urgent`, then `batch` chunk by chunk (cut at `marks`), with the control frames
    /// queued meanwhile between chunks. A cut-off abandons the rest of the batch. What is
    /// written stops counting against the bound at each chunk boundary (under the lock taken
    /// there anyway) and at the end of the batch, so a small batch costs no extra lock.
    async fn write_batch(
        &self,
        wr: &mut Writer,
        urgent: &mut BytesMut,
        batch: &[u8],
        marks: &[usize],
        resume: bool,
    ) -> std::io::Result<()> {
        let mut unaccounted = 0;
        let mut start = 0;
        if resume {
            // The rest of a frame `flush_now` began: up to the first frame boundary known, before
            // any control frame.
            let first = marks
                .iter()
                .copied()
                .find(|&m| m > 0)
                .unwrap_or(batch.len());
            wr.write_all(&batch[..first]).await?;
            unaccounted += first;
            start = first;
        }
        wr.write_all(urgent).await?;
        unaccounted += urgent.len();
        for end in marks.iter().copied().chain([batch.len()]) {
            if end <= start {
                continue;
            }
            if start > 0 {
                urgent.clear();
                let cut = {
                    let mut guard = self.lock();
                    let queue = guard.queue();
                    std::mem::swap(&mut queue.urgent, urgent);
                    queue.writing = queue.writing.saturating_sub(unaccounted) + urgent.len();
                    queue.cut
                };
                unaccounted = 0;
                wr.write_all(urgent).await?;
                unaccounted += urgent.len();
                if cut {
                    return Ok(());
                }
            }
            wr.write_all(&batch[start..end]).await?;
            unaccounted += end - start;
            start = end;
        }
        Ok(())
    }

    /// Whether more than the bound is queued (the reader is held back).
    pub fn is_over_limit(&self) -> bool {
        let mut guard = self.lock();
        let queue = guard.queue();
        queue.backlog() > queue.limit
    }
}

impl<S: Send> ReadGate for Outbound<S> {
    fn poll_room(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut guard = self.lock();
        let queue = guard.queue();
        if queue.backlog() <= queue.limit || queue.stopped || queue.closing {
            return Poll::Ready(());
        }
        match &mut queue.read_waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<S> Queue<S> {
    /// Every byte owed to the peer: bulk, control frames, and what the writer holds.
    fn backlog(&self) -> usize {
        self.bytes.len() + self.urgent.len() + self.writing
    }

    /// The reader's waker, taken if the reader may go on (back under the bound, or stopped).
    fn room_waker(&mut self) -> Option<Waker> {
        if self.read_waker.is_some()
            && (self.backlog() <= self.limit || self.stopped || self.closing)
        {
            return self.read_waker.take();
        }
        None
    }

    /// Called before a frame is appended to `bytes`: marks where it starts if the last mark is
    /// far enough behind.
    fn mark_frame_start(&mut self) {
        let at = self.bytes.len();
        if at >= self.marks.last().copied().unwrap_or(0) + URGENT_CHECK_BYTES {
            self.marks.push(at);
        }
    }
}

/// Writes as much of `buffer` as `wr` takes without waiting: whether it wrote any, and whether
/// it wrote all of it.
fn write_now(
    wr: &mut (dyn AsyncWrite + Send + Unpin),
    buffer: &mut BytesMut,
    cx: &mut Context<'_>,
) -> (bool, bool) {
    let mut wrote = false;
    while !buffer.is_empty() {
        match Pin::new(&mut *wr).poll_write(cx, buffer) {
            Poll::Ready(Ok(n)) if n > 0 => {
                buffer.advance(n);
                wrote = true;
            }
            _ => return (wrote, false),
        }
    }
    (wrote, true)
}

/// Marks the buffer stopped when the writer ends, however it ends.
struct StopOnDrop<'a, S>(&'a Outbound<S>);

impl<S> Drop for StopOnDrop<'_, S> {
    fn drop(&mut self) {
        let mut guard = self.0.lock();
        let queue = guard.queue();
        queue.stopped = true;
        queue.bytes = BytesMut::new();
        queue.appended = 0;
        queue.marks.clear();
        queue.urgent = BytesMut::new();
        queue.writing = 0;
        queue.bulk_cut = false;
        queue.idle_writer = None;
        let reader = queue.read_waker.take();
        guard.shut.store(true, Ordering::Release);
        drop(guard);
        if let Some(reader) = reader {
            reader.wake();
        }
    }
}

/// The locked outbound buffer of a stream.
pub struct OutboundGuard<'a, S> {
    /// Always `Some` until dropped (taken there to unlock before waking the writer).
    queue: Option<MutexGuard<'a, Queue<S>>>,
    shut: &'a AtomicBool,
    wake: bool,
}

impl<S: std::fmt::Debug> std::fmt::Debug for OutboundGuard<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let queue = self.queue.as_ref().expect("locked until dropped");
        f.debug_struct("OutboundGuard")
            .field("queued", &queue.bytes.len())
            .field("state", &queue.state)
            .finish_non_exhaustive()
    }
}

impl<S> OutboundGuard<'_, S> {
    fn queue(&mut self) -> &mut Queue<S> {
        self.queue.as_mut().expect("locked until dropped")
    }

    /// The bookkeeping that goes with the buffer.
    pub fn state(&mut self) -> &mut S {
        &mut self.queue().state
    }

    /// Whether frames can still be written: not closing, and the writer has not stopped.
    pub fn is_open(&self) -> bool {
        let queue = self.queue.as_ref().expect("locked until dropped");
        !queue.closing && !queue.stopped
    }

    /// Bytes waiting to be written.
    pub fn queued(&self) -> usize {
        self.queue
            .as_ref()
            .expect("locked until dropped")
            .bytes
            .len()
    }

    /// Every byte owed to the peer and not yet written: bulk data, control frames, and what
    /// the writer has taken. This is what the buffer's bound is held to.
    pub fn backlog(&self) -> usize {
        self.queue.as_ref().expect("locked until dropped").backlog()
    }

    /// The most bytes the buffer holds before its reader is held back.
    pub fn limit(&self) -> usize {
        self.queue.as_ref().expect("locked until dropped").limit
    }

    /// Frames waiting to be written: appends to the bulk lane since the writer last took it
    /// (an append that wrote several frames counts once).
    pub fn queued_frames(&self) -> usize {
        self.queue.as_ref().expect("locked until dropped").appended
    }

    /// Appends a whole frame; returns whether it will be written (not after a close).
    pub fn push(&mut self, frame: &[u8]) -> bool {
        if !self.is_open() {
            return false;
        }
        let queue = self.queue();
        queue.mark_frame_start();
        queue.bytes.extend_from_slice(frame);
        queue.appended += 1;
        self.wake = true;
        true
    }

    /// Appends a control frame that goes ahead of everything queued with [`push`](Self::push)
    /// not yet being written (it waits at most for the write in progress, which ends at a
    /// frame boundary); returns whether it will be written.
    pub fn push_urgent(&mut self, frame: &[u8]) -> bool {
        if !self.is_open() {
            return false;
        }
        self.queue().urgent.extend_from_slice(frame);
        self.wake = true;
        true
    }

    /// [`push_urgent`](Self::push_urgent) of an envelope's frame.
    pub fn push_envelope_urgent(
        &mut self,
        envelope: &impl Envelope,
    ) -> Result<bool, ProtocolError> {
        if !self.is_open() {
            return Ok(false);
        }
        let urgent = &mut self.queue().urgent;
        let start = urgent.len();
        if let Err(e) = envelope.write_frame(urgent) {
            urgent.truncate(start);
            return Err(e);
        }
        self.wake = true;
        Ok(true)
    }

    /// Appends whatever `write` appends to the buffer (whole frames, encoded in place). On an
    /// error nothing is appended. Returns `Ok(false)`, writing nothing, after a close.
    pub fn push_with<E>(
        &mut self,
        write: impl FnOnce(&mut BytesMut) -> Result<(), E>,
    ) -> Result<bool, E> {
        if !self.is_open() {
            return Ok(false);
        }
        self.queue().mark_frame_start();
        let bytes = &mut self.queue().bytes;
        let start = bytes.len();
        if let Err(e) = write(bytes) {
            bytes.truncate(start);
            return Err(e);
        }
        let grew = bytes.len() > start;
        if grew {
            self.queue().appended += 1;
        }
        self.wake |= grew;
        Ok(true)
    }

    /// Appends an envelope's frame, encoded in place.
    pub fn push_envelope(&mut self, envelope: &impl Envelope) -> Result<bool, ProtocolError> {
        self.push_with(|out| envelope.write_frame(out))
    }

    /// Writes what is queued straight to the socket, if the writer task is idle (not in the
    /// middle of a write of its own) and the socket takes it without waiting. Whatever is left
    /// stays queued for the writer task. For when nothing else is expected soon: it trades the
    /// writer's wake-up for a system call per frame, which only pays for a lone frame.
    pub fn flush_now(&mut self) {
        let queue = self.queue();
        let Some(wr) = queue.idle_writer.as_mut() else {
            return;
        };
        // A waker that does nothing: if the socket is full, the writer task (woken below, as the
        // bytes are still there) polls it again with its own.
        let mut cx = Context::from_waker(Waker::noop());
        // Control frames first, unless a frame of `bytes` is half written: its rest comes first.
        let order = if queue.bulk_cut {
            [true, false]
        } else {
            [false, true]
        };
        for bulk in order {
            let buffer = if bulk {
                &mut queue.bytes
            } else {
                &mut queue.urgent
            };
            let before = buffer.len();
            let (wrote, whole) = write_now(&mut **wr, buffer, &mut cx);
            if bulk {
                // Writing from `bytes` moves its offsets: the marks follow (a cut-off keeps the
                // rest of a half-written frame up to the first of them).
                let written = before - queue.bytes.len();
                queue.marks.retain_mut(|m| {
                    *m = m.saturating_sub(written);
                    *m > 0
                });
                // A frame of `bytes` left half written is finished before any control frame.
                queue.bulk_cut = !whole && (wrote || queue.bulk_cut);
            }
            if !whole {
                // Errors, a zero-length write and a full socket are the writer task's: it is
                // woken for what is left.
                self.wake = true;
                return;
            }
        }
        queue.appended = 0;
    }

    /// Cuts the peer off: everything queued and not yet being written is dropped at once (its
    /// memory freed; only the rest of a frame already half written is kept), the writer abandons the rest of its batch at the next frame boundary,
    /// `last` (an error frame) goes out ahead of anything else, and the write side is shut.
    pub fn cut_off(&mut self, last: &[u8]) {
        if self.queue().stopped || self.queue().cut {
            return;
        }
        let queue = self.queue();
        // A frame `flush_now` left half written is finished first, or `last` would be read as
        // part of it: what is kept runs to the first frame start known (marks are at most
        // `URGENT_CHECK_BYTES` apart, so that is the rest of the frame and little more).
        let rest = if queue.bulk_cut {
            let end = queue.marks.first().copied().unwrap_or(queue.bytes.len());
            BytesMut::from(&queue.bytes[..end])
        } else {
            BytesMut::new()
        };
        queue.bulk_cut = !rest.is_empty();
        queue.bytes = rest;
        queue.marks = Vec::new();
        queue.appended = 0;
        queue.urgent = BytesMut::from(last);
        queue.cut = true;
        self.close();
    }

    /// Takes nothing more: what is queued is written, then the write side is shut down.
    pub fn close(&mut self) {
        let queue = self.queue();
        if !queue.closing {
            queue.closing = true;
            self.shut.store(true, Ordering::Release);
            self.wake = true;
        }
    }
}

impl<S> Drop for OutboundGuard<'_, S> {
    fn drop(&mut self) {
        let mut queue = self.queue.take();
        // The reader waits for room: a flush or a close may have made it.
        let reader = queue.as_mut().and_then(|queue| queue.room_waker());
        let waker = match &mut queue {
            Some(queue)
                if self.wake
                    && (!queue.bytes.is_empty() || !queue.urgent.is_empty() || queue.closing) =>
            {
                queue.waker.take()
            }
            _ => None,
        };
        // Woken after the lock is released, so the writer does not wake into a held lock;
        // inside `hold_wakes`, once the whole read is handled.
        drop(queue);
        if let Some(waker) = waker {
            super::held_wakes::wake(waker);
        }
        if let Some(reader) = reader {
            reader.wake();
        }
    }
}

#[cfg(all(test, not(hubwire_loom)))]
#[path = "outbound_tests.rs"]
mod tests;
