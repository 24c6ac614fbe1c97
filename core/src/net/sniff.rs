//! Telling TLS bytes on a plain stream apart from hubwire frames, so that a `tls://` client on a
//! plain port, or a plain client on a TLS port, is told so instead of "frame too large".
//!
//! A plain hubwire stream starts with the CONN frame's length, a big-endian `u32` far below
//! 16 MiB, so its first byte is 0. A TLS stream starts with a record header whose first byte is
//! its content type, 0x14 to 0x17 (0x16 for the ClientHello, 0x15 for an alert).

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Whether `first`, the first byte of a stream, starts a TLS record.
pub fn starts_tls_record(first: u8) -> bool {
    (0x14..=0x17).contains(&first)
}

/// A stream whose first byte is checked: if it starts a TLS record, the read fails with
/// `InvalidData` and the message given (and, on a server, a warning is logged).
#[derive(Debug)]
pub struct TlsSniff<S> {
    inner: S,
    /// The error to give, until the first byte has been seen.
    unchecked: Option<(String, bool)>,
}

impl<S> TlsSniff<S> {
    /// Checks the first byte read from `inner`; `message` says what to do when it is TLS, and
    /// `warn` logs it too.
    pub fn new(inner: S, message: String, warn: bool) -> Self {
        TlsSniff {
            inner,
            unchecked: Some((message, warn)),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for TlsSniff<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
        if self.unchecked.is_some() && buf.filled().len() > before {
            let (message, warn) = self.unchecked.take().expect("checked above");
            if starts_tls_record(buf.filled()[before]) {
                if warn {
                    tracing::warn!("{message}");
                }
                buf.set_filled(before);
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, message)));
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for TlsSniff<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn a_tls_record_is_refused_with_the_message() {
        let hello: &[u8] = &[0x16, 0x03, 0x01, 0x02, 0x00];
        let mut sniff = TlsSniff::new(hello, "use tls://".into(), false);
        let err = sniff.read(&mut [0; 16]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(err.to_string(), "use tls://");
    }

    #[tokio::test]
    async fn a_hubwire_stream_passes_untouched() {
        let frame: &[u8] = &[0, 0, 0, 2, 0x16, 0x16];
        let mut sniff = TlsSniff::new(frame, "use tls://".into(), false);
        let mut got = Vec::new();
        sniff.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, frame);
    }
}
