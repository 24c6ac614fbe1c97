//! [`CompressingWriter`]: a stream's write half that turns compressed from an exact byte on.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::AsyncWrite;

use super::{Algorithm, CompressionError, Compressor, Switch};

/// Writes a stream that is plain up to a [`Switch`]'s offset and compressed after it (or
/// compressed from the start).
///
/// Each write is compressed and flushed on its own (the outbound buffer writes a whole pass at
/// once, so that is one flush per pass), and is reported written only once its compressed
/// bytes are all in the socket: back-pressure works as on a plain stream, and at most one
/// write's compressed bytes wait here. A write that must wait is expected to be retried with
/// the same bytes first (as `write_all` and the outbound buffer do).
pub struct CompressingWriter<W> {
    inner: W,
    switch: Switch,
    /// Plain bytes written before the switch.
    plain: u64,
    compressor: Option<Compressor>,
    /// Compressed bytes not yet in the socket: `pending[at..]`.
    pending: Vec<u8>,
    at: usize,
    /// The write whose compressed bytes are in `pending`, reported written once they are all
    /// out (kept to check that the retry is the same write).
    owed: Option<Vec<u8>>,
}

impl<W> std::fmt::Debug for CompressingWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompressingWriter")
            .field("plain", &self.plain)
            .field("compressor", &self.compressor)
            .field("pending", &(self.pending.len() - self.at))
            .finish_non_exhaustive()
    }
}

impl<W> CompressingWriter<W> {
    /// A writer that passes bytes through to `inner` until `switch` says from where they are
    /// compressed.
    pub fn new(inner: W, switch: Switch) -> Self {
        CompressingWriter {
            inner,
            switch,
            plain: 0,
            compressor: None,
            pending: Vec::new(),
            at: 0,
            owed: None,
        }
    }

    /// A writer that compresses everything with `algorithm`.
    pub fn compressed(inner: W, algorithm: Algorithm) -> Result<Self, CompressionError> {
        let mut writer = CompressingWriter::new(inner, Switch::new());
        writer.compressor = Some(Compressor::new(algorithm)?);
        Ok(writer)
    }

    /// The algorithm in use, once compressed.
    pub fn algorithm(&self) -> Option<Algorithm> {
        self.compressor.as_ref().map(Compressor::algorithm)
    }

    /// The stream written to.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The stream written to (write to it directly only before the switch).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    fn check_switch(&mut self) -> io::Result<()> {
        if self.compressor.is_none() {
            if let Some((offset, algorithm)) = self.switch.get() {
                if self.plain >= offset {
                    self.compressor =
                        Some(Compressor::new(algorithm).map_err(CompressionError::into_io)?);
                }
            }
        }
        Ok(())
    }
}

impl<W: AsyncWrite + Unpin> CompressingWriter<W> {
    /// Writes out `pending`.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.at < self.pending.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.at..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.at += n;
        }
        self.pending.clear();
        self.at = 0;
        Poll::Ready(Ok(()))
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for CompressingWriter<W> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        if let Some(owed) = this.owed.take() {
            if !buf.starts_with(&owed) {
                let message = "a compressed write was retried with other bytes";
                return Poll::Ready(Err(io::Error::other(message)));
            }
            return Poll::Ready(Ok(owed.len()));
        }
        this.check_switch()?;
        let Some(compressor) = this.compressor.as_mut() else {
            let limit = match this.switch.get() {
                Some((offset, _)) => (offset - this.plain).min(buf.len() as u64) as usize,
                None => buf.len(),
            };
            let n = ready!(Pin::new(&mut this.inner).poll_write(cx, &buf[..limit]))?;
            this.plain += n as u64;
            return Poll::Ready(Ok(n));
        };
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        compressor
            .compress(buf, &mut this.pending)
            .map_err(CompressionError::into_io)?;
        match this.poll_pending(cx) {
            Poll::Ready(result) => Poll::Ready(result.map(|()| buf.len())),
            Poll::Pending => {
                this.owed = Some(buf.to_vec());
                Poll::Pending
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}
