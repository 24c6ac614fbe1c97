//! A stream of frame batches read from a byte stream.

use std::pin::Pin;
use std::task::{Context, Poll};

use std::sync::Arc;

use bytes::BytesMut;
use futures::Stream;
use tokio::io::AsyncRead;

use super::gate::ReadGate;
use crate::protocol::{decode_frame, Frame, ProtocolError};

/// Frames handed on in one batch at most, so one busy peer cannot starve the others on its thread.
pub const MAX_BATCH_FRAMES: usize = 1024;
/// Bytes asked for per read at least.
const READ_CHUNK_BYTES: usize = 64 * 1024;

/// The whole frames of one read, in order. One frame (the common case of a lone caller) is kept
/// inline, so a batch of one costs no allocation.
#[derive(Debug, Default)]
pub struct FrameBatch {
    first: Option<Frame>,
    rest: Vec<Frame>,
}

impl FrameBatch {
    fn push(&mut self, frame: Frame) {
        if self.first.is_none() {
            self.first = Some(frame);
        } else {
            self.rest.push(frame);
        }
    }

    /// A batch of `frames` read earlier (by a handshake, say); `None` when there are none.
    pub fn from_frames(frames: impl IntoIterator<Item = Frame>) -> Option<FrameBatch> {
        let mut batch = FrameBatch::default();
        frames.into_iter().for_each(|frame| batch.push(frame));
        (!batch.is_empty()).then_some(batch)
    }

    /// How many frames there are.
    pub fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    /// The frames, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Frame> {
        self.first.iter().chain(&self.rest)
    }
}

impl IntoIterator for FrameBatch {
    type Item = Frame;
    type IntoIter = std::iter::Chain<std::option::IntoIter<Frame>, std::vec::IntoIter<Frame>>;

    fn into_iter(self) -> Self::IntoIter {
        self.first.into_iter().chain(self.rest)
    }
}

/// Reads frames and yields, per read, every whole frame that read completed.
///
/// After an error that loses the framing the stream yields that error and ends. A stream that
/// ends in the middle of a frame yields [`ProtocolError::Truncated`]. With a [`ReadGate`],
/// nothing is handed on or read while the gate is closed.
pub struct FrameBatches<R> {
    rd: R,
    buf: BytesMut,
    max_frame: usize,
    pending_error: Option<ProtocolError>,
    done: bool,
    gate: Option<Arc<dyn ReadGate>>,
}

impl<R> std::fmt::Debug for FrameBatches<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameBatches")
            .field("buffered", &self.buf.len())
            .field("max_frame", &self.max_frame)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<R> FrameBatches<R> {
    /// Frames of at most `max_frame` bytes read from `rd`.
    pub fn new(rd: R, max_frame: usize) -> Self {
        FrameBatches {
            rd,
            buf: BytesMut::new(),
            max_frame,
            pending_error: None,
            done: false,
            gate: None,
        }
    }

    /// Holds reading back while `gate` says so (the peer's outbound buffer is over its bound).
    pub fn gated(mut self, gate: Arc<dyn ReadGate>) -> Self {
        self.gate = Some(gate);
        self
    }

    /// Like [`new`](Self::new), with bytes already read (after a handshake, say).
    pub fn with_buffer(rd: R, buf: BytesMut, max_frame: usize) -> Self {
        FrameBatches {
            buf,
            ..FrameBatches::new(rd, max_frame)
        }
    }

    /// Takes every whole frame in the buffer; an error is kept for after the batch.
    fn drain(&mut self) -> FrameBatch {
        let mut batch = FrameBatch::default();
        while batch.len() < MAX_BATCH_FRAMES {
            match decode_frame(&mut self.buf, self.max_frame) {
                Ok(Some(frame)) => batch.push(frame),
                Ok(None) => break,
                Err(e) => {
                    self.pending_error = Some(e);
                    break;
                }
            }
        }
        batch
    }
}

impl<R: AsyncRead + Unpin> Stream for FrameBatches<R> {
    type Item = Result<FrameBatch, ProtocolError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            if let Some(gate) = &this.gate {
                if gate.poll_room(cx).is_pending() {
                    return Poll::Pending;
                }
            }
            let batch = if this.pending_error.is_none() {
                this.drain()
            } else {
                FrameBatch::default()
            };
            if !batch.is_empty() {
                return Poll::Ready(Some(Ok(batch)));
            }
            if let Some(e) = this.pending_error.take() {
                this.done = true;
                return Poll::Ready(Some(Err(e)));
            }
            if this.buf.capacity() - this.buf.len() < READ_CHUNK_BYTES / 4 {
                this.buf.reserve(READ_CHUNK_BYTES);
            }
            match tokio_util::io::poll_read_buf(Pin::new(&mut this.rd), cx, &mut this.buf) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(0)) => {
                    this.done = true;
                    if this.buf.is_empty() {
                        return Poll::Ready(None);
                    }
                    return Poll::Ready(Some(Err(ProtocolError::Truncated {
                        buffered: this.buf.len(),
                    })));
                }
                Poll::Ready(Ok(_)) => {
                    super::activity::note_read();
                    continue;
                }
                Poll::Ready(Err(e)) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(ProtocolError::Io(e))));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Envelope, Ping};
    use futures::StreamExt;

    #[tokio::test]
    async fn every_frame_of_one_read_comes_in_one_batch() {
        let mut bytes = Vec::new();
        for nonce in 0..3 {
            bytes.extend_from_slice(&Ping { nonce }.to_frame_bytes().unwrap());
        }
        let mut batches = FrameBatches::new(&bytes[..], 1024);
        let batch = batches.next().await.unwrap().unwrap();
        assert_eq!(batch.len(), 3);
        let nonces: Vec<u64> = batch
            .into_iter()
            .map(|f| Ping::from_frame(&f).unwrap().nonce)
            .collect();
        assert_eq!(nonces, [0, 1, 2]);
        assert!(batches.next().await.is_none());
    }

    #[tokio::test]
    async fn frames_before_a_framing_error_are_delivered_then_the_error() {
        let mut bytes = Ping { nonce: 1 }.to_frame_bytes().unwrap().to_vec();
        bytes.extend_from_slice(&[0, 0, 0, 1, 0]);
        let mut batches = FrameBatches::new(&bytes[..], 1024);
        assert_eq!(batches.next().await.unwrap().unwrap().len(), 1);
        assert!(matches!(
            batches.next().await,
            Some(Err(ProtocolError::FrameTooShort { length: 1 }))
        ));
        assert!(batches.next().await.is_none());
    }

    #[tokio::test]
    async fn a_stream_cut_mid_frame_reports_truncation() {
        let bytes = Ping { nonce: 1 }.to_frame_bytes().unwrap();
        let mut batches = FrameBatches::new(&bytes[..bytes.len() - 1], 1024);
        assert!(matches!(
            batches.next().await,
            Some(Err(ProtocolError::Truncated { .. }))
        ));
    }
}
