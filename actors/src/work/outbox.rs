//! [`Outbox`]: what the dispatcher owes one connection, written by that connection's writer
//! task, so a peer that stops reading holds up nobody but itself; bounded in bytes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use hubwire_core::protocol::Envelope;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, Notify};

/// The sending side, held by the dispatcher.
#[derive(Debug, Clone)]
pub(crate) struct Outbox {
    tx: mpsc::UnboundedSender<Bytes>,
    owed: Arc<AtomicUsize>,
    limit: usize,
    /// Wakes the connection's reader to stop reading when the dispatcher closes it.
    pub(crate) closed: Arc<Notify>,
}

impl Outbox {
    /// An outbox and the task that writes it to `wr`.
    pub(crate) fn start<W>(wr: W, limit: usize) -> Outbox
    where
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let (tx, rx) = mpsc::unbounded_channel();
        let owed = Arc::new(AtomicUsize::new(0));
        tokio::spawn(write_all(wr, rx, owed.clone()));
        Outbox {
            tx,
            owed,
            limit,
            closed: Arc::new(Notify::new()),
        }
    }

    /// Queues a frame; false when the connection is over its bound or gone (close it).
    pub(crate) fn push(&self, envelope: &impl Envelope) -> bool {
        let Ok(bytes) = envelope.to_frame_bytes() else {
            return true;
        };
        self.push_bytes(bytes)
    }

    fn push_bytes(&self, bytes: Bytes) -> bool {
        let owed = self.owed.fetch_add(bytes.len(), Ordering::AcqRel) + bytes.len();
        owed <= self.limit && self.tx.send(bytes).is_ok()
    }

    /// Writes what is queued, then closes the write side; stops the reader.
    pub(crate) fn close(&self) {
        let _ = self.tx.send(Bytes::new());
        self.closed.notify_one();
    }
}

async fn write_all<W>(mut wr: W, mut rx: mpsc::UnboundedReceiver<Bytes>, owed: Arc<AtomicUsize>)
where
    W: AsyncWrite + Unpin,
{
    let mut out = BytesMut::new();
    while let Some(first) = rx.recv().await {
        let mut shut = first.is_empty();
        out.extend_from_slice(&first);
        while let Ok(more) = rx.try_recv() {
            shut |= more.is_empty();
            out.extend_from_slice(&more);
        }
        let n = out.len();
        if wr.write_all(&out).await.is_err() {
            return;
        }
        owed.fetch_sub(n, Ordering::AcqRel);
        out.clear();
        if shut {
            break;
        }
    }
    let _ = wr.shutdown().await;
}
