//! [`Compressor`]: one direction of a connection, compressed as one stream and flushed at
//! every call.

use flate2::{Compress, Compression, FlushCompress};
use zstd::stream::raw::{CParameter, Encoder, InBuffer, Operation, OutBuffer};

use super::{Algorithm, CompressionError, GZIP_LEVEL, ZSTD_LEVEL, ZSTD_WINDOW_LOG};

/// The gzip header hubwire writes: deflate, no optional fields, no time, unknown OS.
pub(super) const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// Room added to the output before each step of the compressor.
const OUT_STEP: usize = 16 * 1024;

/// Compresses one direction of a connection. Every [`compress`](Self::compress) ends with a
/// flush: the bytes it appends decompress, on their own after everything before them, to
/// exactly its input.
pub struct Compressor {
    algorithm: Algorithm,
    inner: Inner,
}

enum Inner {
    Zstd(Box<Encoder<'static>>),
    Gzip {
        deflate: Box<Compress>,
        header_written: bool,
    },
}

impl std::fmt::Debug for Compressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compressor")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl Compressor {
    /// A compressor at the start of a stream.
    pub fn new(algorithm: Algorithm) -> Result<Compressor, CompressionError> {
        let failed = |e: std::io::Error| CompressionError::Compress {
            algorithm,
            detail: e.to_string(),
        };
        let inner = match algorithm {
            Algorithm::Zstd => {
                let mut encoder = Encoder::new(ZSTD_LEVEL).map_err(failed)?;
                encoder
                    .set_parameter(CParameter::WindowLog(ZSTD_WINDOW_LOG))
                    .map_err(failed)?;
                Inner::Zstd(Box::new(encoder))
            }
            Algorithm::Gzip => Inner::Gzip {
                // Raw deflate: the gzip header is written here (and no trailer: the stream
                // ends with the connection).
                deflate: Box::new(Compress::new(Compression::new(GZIP_LEVEL), false)),
                header_written: false,
            },
        };
        Ok(Compressor { algorithm, inner })
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Compresses `input` and flushes, appending to `out`.
    pub fn compress(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), CompressionError> {
        let algorithm = self.algorithm;
        let failed = |detail: String| CompressionError::Compress { algorithm, detail };
        match &mut self.inner {
            Inner::Zstd(encoder) => {
                let mut input = InBuffer::around(input);
                while input.pos() < input.src.len() {
                    out.reserve(OUT_STEP);
                    let mut output = OutBuffer::around_pos(out, out.len());
                    encoder
                        .run(&mut input, &mut output)
                        .map_err(|e| failed(e.to_string()))?;
                }
                loop {
                    out.reserve(OUT_STEP);
                    let mut output = OutBuffer::around_pos(out, out.len());
                    let left = encoder
                        .flush(&mut output)
                        .map_err(|e| failed(e.to_string()))?;
                    if left == 0 {
                        return Ok(());
                    }
                }
            }
            Inner::Gzip {
                deflate,
                header_written,
            } => {
                if !*header_written {
                    out.extend_from_slice(&GZIP_HEADER);
                    *header_written = true;
                }
                let mut rest = input;
                // A sync flush: a deflate block boundary with empty stored block, so the reader
                // can decode everything so far.
                loop {
                    out.reserve(OUT_STEP + rest.len() / 2);
                    let before_in = deflate.total_in();
                    let before_out = out.len();
                    deflate
                        .compress_vec(rest, out, FlushCompress::Sync)
                        .map_err(|e| failed(e.to_string()))?;
                    let taken = (deflate.total_in() - before_in) as usize;
                    rest = &rest[taken..];
                    // Done once all input is in and the flush did not fill the room given.
                    if rest.is_empty() && out.len() < out.capacity() && out.len() > before_out {
                        return Ok(());
                    }
                    if rest.is_empty() && out.len() == before_out {
                        return Ok(());
                    }
                }
            }
        }
    }
}
