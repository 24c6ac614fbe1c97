//! [`DecompressingReader`]: a stream's read half that turns compressed from an exact byte on.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};

use super::{Algorithm, CompressionError, Decompressor, Switch};

/// Compressed bytes read from the socket at a time.
const READ_CHUNK_BYTES: usize = 32 * 1024;

/// Reads a stream that is plain up to a [`Switch`]'s offset and compressed after it (or
/// compressed from the start, on the side that learns the algorithm before it reads on).
///
/// What it hands out is bounded by the room its caller gives each read, whatever the peer's
/// bytes expand to: a decompression bomb is read a buffer at a time, and the frame reader
/// refuses a frame over the maximum as soon as its length is in, as on a plain stream. When
/// the caller stops reading (back-pressure), nothing more is read or decompressed.
pub struct DecompressingReader<R> {
    inner: R,
    switch: Switch,
    /// Plain bytes handed out before the switch.
    plain: u64,
    decompressor: Option<Decompressor>,
    /// Compressed bytes read and not yet decompressed: `input[at..]`.
    input: Vec<u8>,
    at: usize,
    /// The last step filled the caller's room: the decompressor may hold more.
    may_hold_more: bool,
}

impl<R> std::fmt::Debug for DecompressingReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecompressingReader")
            .field("plain", &self.plain)
            .field("decompressor", &self.decompressor)
            .finish_non_exhaustive()
    }
}

impl<R> DecompressingReader<R> {
    /// A reader that passes `inner`'s bytes through until `switch` says from where they are
    /// compressed.
    pub fn new(inner: R, switch: Switch) -> Self {
        DecompressingReader {
            inner,
            switch,
            plain: 0,
            decompressor: None,
            input: Vec::new(),
            at: 0,
            may_hold_more: false,
        }
    }

    /// A reader of a stream compressed with `algorithm` from here on, whose first compressed
    /// bytes, `already`, were read with the handshake.
    pub fn compressed(
        inner: R,
        algorithm: Algorithm,
        already: &[u8],
    ) -> Result<Self, CompressionError> {
        let mut reader = DecompressingReader::new(inner, Switch::new());
        reader.decompressor = Some(Decompressor::new(algorithm)?);
        reader.input.extend_from_slice(already);
        Ok(reader)
    }

    /// The algorithm in use, once compressed.
    pub fn algorithm(&self) -> Option<Algorithm> {
        self.decompressor.as_ref().map(Decompressor::algorithm)
    }

    /// Throws the switch if its offset is reached; an error if plain bytes past it were
    /// already handed out (the peer did not wait for the answer to its COMPRESS).
    fn check_switch(&mut self) -> io::Result<()> {
        if self.decompressor.is_some() {
            return Ok(());
        }
        if let Some((offset, algorithm)) = self.switch.get() {
            if self.plain > offset {
                return Err(CompressionError::Early.into_io());
            }
            if self.plain == offset {
                self.decompressor =
                    Some(Decompressor::new(algorithm).map_err(CompressionError::into_io)?);
            }
        }
        Ok(())
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for DecompressingReader<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check_switch()?;
        let Some(decompressor) = this.decompressor.as_mut() else {
            // Plain: at most up to the switch, if one is set ahead.
            let limit = match this.switch.get() {
                Some((offset, _)) => (offset - this.plain).min(buf.remaining() as u64) as usize,
                None => buf.remaining(),
            };
            let n = if limit == buf.remaining() {
                let before = buf.filled().len();
                ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
                buf.filled().len() - before
            } else {
                // Only up to the switch (a handshake's last few bytes): through a small copy.
                let mut part = vec![0; limit];
                let mut limited = ReadBuf::new(&mut part);
                ready!(Pin::new(&mut this.inner).poll_read(cx, &mut limited))?;
                buf.put_slice(limited.filled());
                limited.filled().len()
            };
            this.plain += n as u64;
            return Poll::Ready(Ok(()));
        };
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        loop {
            if this.at < this.input.len() || this.may_hold_more {
                let room = buf.initialize_unfilled();
                let (used, made) = decompressor
                    .decompress(&this.input[this.at..], room)
                    .map_err(CompressionError::into_io)?;
                this.may_hold_more = made == room.len();
                this.at += used;
                if this.at == this.input.len() {
                    this.input.clear();
                    this.at = 0;
                }
                if made > 0 {
                    buf.advance(made);
                    return Poll::Ready(Ok(()));
                }
                if used > 0 {
                    continue;
                }
                if this.at < this.input.len() {
                    // Input left that makes no output and is not taken: a stall the
                    // decompressors never reach on valid or invalid input alike; say so
                    // rather than spin.
                    let detail = "the decompressor made no progress".to_owned();
                    return Poll::Ready(Err(CompressionError::Corrupt {
                        algorithm: decompressor.algorithm(),
                        detail,
                    }
                    .into_io()));
                }
            }
            // Nothing buffered: read more compressed bytes.
            this.input.resize(READ_CHUNK_BYTES, 0);
            let mut chunk = ReadBuf::new(&mut this.input);
            let polled = Pin::new(&mut this.inner).poll_read(cx, &mut chunk);
            let n = match polled {
                Poll::Ready(Ok(())) => chunk.filled().len(),
                Poll::Ready(Err(e)) => {
                    this.input.clear();
                    return Poll::Ready(Err(e));
                }
                Poll::Pending => {
                    this.input.clear();
                    return Poll::Pending;
                }
            };
            this.input.truncate(n);
            this.at = 0;
            if n == 0 {
                // The end of the stream: the reader above says whether a frame was cut.
                return Poll::Ready(Ok(()));
            }
        }
    }
}
