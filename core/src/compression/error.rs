//! [`CompressionError`]: why a compressed stream could not be read or written.

use std::io;

use super::Algorithm;

/// Why a compressed stream could not be read (or, rarely, written). The connection it happens
/// on is closed (ERROR 100 `protocol` where one can still be sent); no other is touched.
#[derive(Debug, thiserror::Error)]
pub enum CompressionError {
    /// The bytes are not a valid stream of the algorithm.
    #[error("the peer's {algorithm} stream is corrupt: {detail}")]
    Corrupt {
        /// The algorithm negotiated.
        algorithm: Algorithm,
        /// What the decompressor said.
        detail: String,
    },
    /// A zstd frame asks for more history than a connection may hold.
    #[error("the peer's zstd stream asks for a window over {max} bytes, more than hubwire allows: compress with a window of at most {max} bytes")]
    WindowTooLarge {
        /// The largest window allowed.
        max: u64,
    },
    /// A gzip header this side does not take (not deflate, or with optional fields).
    #[error("the peer's gzip header is not accepted: {0}")]
    GzipHeader(String),
    /// The compressed stream ended (a final deflate block) while the connection goes on.
    #[error("the peer's {0} stream ended before the connection: a connection's compressed stream never ends")]
    Ended(Algorithm),
    /// The peer sent bytes after its COMPRESS before the server's answer came.
    #[error("bytes came after COMPRESS before its answer: wait for the server's COMPRESS before sending more")]
    Early,
    /// The compressor failed (out of memory, say).
    #[error("cannot compress with {algorithm}: {detail}")]
    Compress {
        /// The algorithm.
        algorithm: Algorithm,
        /// What the compressor said.
        detail: String,
    },
}

impl CompressionError {
    /// The compression error inside an I/O error from a [`DecompressingReader`] or
    /// [`CompressingWriter`], if it is one.
    ///
    /// [`DecompressingReader`]: super::DecompressingReader
    /// [`CompressingWriter`]: super::CompressingWriter
    pub fn in_io(error: &io::Error) -> Option<&CompressionError> {
        error.get_ref()?.downcast_ref()
    }

    /// As an I/O error, which is what a stream's reader or writer can return.
    pub fn into_io(self) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, self)
    }
}
