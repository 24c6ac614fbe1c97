//! The write side of a stream: everything queued is written in one go.

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// Most bytes gathered into one write.
const WRITE_BATCH_BYTES: usize = 256 * 1024;

/// Writes frames from `queued` until the senders are gone, then shuts the write side down.
///
/// Frames already queued together are written with one system call, so pipelined traffic costs
/// one write per pass rather than one per frame. Returns the error that stopped it, if any.
pub async fn write_queued<W: AsyncWrite + Unpin>(
    mut wr: W,
    mut queued: mpsc::UnboundedReceiver<Bytes>,
) -> std::io::Result<()> {
    let mut batch = BytesMut::new();
    while let Some(first) = queued.recv().await {
        match queued.try_recv() {
            // The common case of a lone frame needs no copy.
            Err(_) => wr.write_all(&first).await?,
            Ok(second) => {
                batch.extend_from_slice(&first);
                batch.extend_from_slice(&second);
                while batch.len() < WRITE_BATCH_BYTES {
                    match queued.try_recv() {
                        Ok(more) => batch.extend_from_slice(&more),
                        Err(_) => break,
                    }
                }
                wr.write_all(&batch).await?;
                batch.clear();
            }
        }
    }
    wr.shutdown().await
}
