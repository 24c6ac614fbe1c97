//! [`NatsReads`]: the bytes a NATS client sends, read in chunks, and held back while the
//! connection owes its client more than its bound (the outbound buffer's gate), while its
//! session waits for the hub's table ([`ReadPause`]), or while a subscriber it published to
//! catches up ([`HeldBack`](super::held_back::HeldBack)), so a client never decides how much
//! the server buffers.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures::Stream;
use hubwire_core::stream::{ReadGate, ReadPause};
use tokio::io::AsyncRead;

/// How much one read takes at most.
const READ_CHUNK: usize = 64 * 1024;

/// Chunks read from `R`, each read waiting for every gate first.
pub(super) struct NatsReads<R> {
    rd: R,
    gates: [Arc<dyn ReadGate>; 3],
    buf: BytesMut,
    done: bool,
}

impl<R> NatsReads<R> {
    pub(super) fn new(
        rd: R,
        outbound: Arc<dyn ReadGate>,
        pause: Arc<ReadPause>,
        held_back: Arc<super::held_back::HeldBack>,
    ) -> Self {
        NatsReads {
            rd,
            gates: [outbound, pause, held_back],
            buf: BytesMut::new(),
            done: false,
        }
    }
}

impl<R: AsyncRead + Unpin> Stream for NatsReads<R> {
    type Item = std::io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if this.gates.poll_room(cx).is_pending() {
            return Poll::Pending;
        }
        if this.buf.capacity() < READ_CHUNK / 4 {
            this.buf.reserve(READ_CHUNK);
        }
        match tokio_util::io::poll_read_buf(Pin::new(&mut this.rd), cx, &mut this.buf) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => {
                this.done = true;
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(Ok(0)) => {
                this.done = true;
                Poll::Ready(None)
            }
            Poll::Ready(Ok(_)) => {
                hubwire_core::stream::activity::note_read();
                Poll::Ready(Some(Ok(this.buf.split().freeze())))
            }
        }
    }
}
