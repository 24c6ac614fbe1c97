//! [`Chunked`]: bytes read back in pieces whose sizes the fuzzer picks, so a decoder that keeps
//! state between reads meets every way a frame can be cut.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};

/// An `AsyncRead` over `data` that returns at most the next cut size per read (cycling through
/// `cuts`; a zero cut is read as one byte, so reading always makes progress).
#[derive(Debug)]
pub struct Chunked<'a> {
    data: &'a [u8],
    cuts: &'a [u8],
    next_cut: usize,
}

impl<'a> Chunked<'a> {
    /// `data` in pieces of `cuts[0]`, `cuts[1]`, ... bytes (all at once when `cuts` is empty).
    pub fn new(data: &'a [u8], cuts: &'a [u8]) -> Self {
        Chunked {
            data,
            cuts,
            next_cut: 0,
        }
    }

    fn cut(&mut self) -> usize {
        if self.cuts.is_empty() {
            return usize::MAX;
        }
        let cut = self.cuts[self.next_cut % self.cuts.len()];
        self.next_cut += 1;
        // Pieces up to 4 KiB: a byte is a piece's size in 16-byte steps past the first 16.
        match cut {
            0..=15 => usize::from(cut).max(1),
            n => usize::from(n - 15) * 16,
        }
    }
}

impl AsyncRead for Chunked<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let n = this.cut().min(this.data.len()).min(buf.remaining());
        let (piece, rest) = this.data.split_at(n);
        buf.put_slice(piece);
        this.data = rest;
        Poll::Ready(Ok(()))
    }
}
