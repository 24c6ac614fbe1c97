//! [`Decompressor`]: one direction of a connection read back, into room the caller gives, so
//! that what a peer sends can never make it allocate more than that room.

use flate2::{Decompress, FlushDecompress, Status};
use zstd::stream::raw::{DParameter, Decoder, InBuffer, Operation, OutBuffer};

use super::{Algorithm, CompressionError, ZSTD_MAX_WINDOW_LOG};

/// The size of the fixed part of a gzip header.
const GZIP_HEADER_LEN: usize = 10;

/// Decompresses one direction of a connection, a step at a time.
pub struct Decompressor {
    algorithm: Algorithm,
    inner: Inner,
}

enum Inner {
    Zstd(Box<Decoder<'static>>),
    Gzip {
        /// The bytes of the gzip header seen so far (all ten once it is read).
        header: Vec<u8>,
        inflate: Box<Decompress>,
    },
}

impl std::fmt::Debug for Decompressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decompressor")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl Decompressor {
    /// A decompressor at the start of a stream.
    pub fn new(algorithm: Algorithm) -> Result<Decompressor, CompressionError> {
        let inner = match algorithm {
            Algorithm::Zstd => {
                let failed = |e: std::io::Error| CompressionError::Corrupt {
                    algorithm,
                    detail: e.to_string(),
                };
                let mut decoder = Decoder::new().map_err(failed)?;
                decoder
                    .set_parameter(DParameter::WindowLogMax(ZSTD_MAX_WINDOW_LOG))
                    .map_err(failed)?;
                Inner::Zstd(Box::new(decoder))
            }
            Algorithm::Gzip => Inner::Gzip {
                header: Vec::with_capacity(GZIP_HEADER_LEN),
                inflate: Box::new(Decompress::new(false)),
            },
        };
        Ok(Decompressor { algorithm, inner })
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Decompresses from `input` into `output`: how many bytes of `input` it took and how many
    /// of `output` it filled. When `output` comes back full, more may be waiting inside: call
    /// again (with no more input if need be).
    pub fn decompress(
        &mut self,
        input: &[u8],
        output: &mut [u8],
    ) -> Result<(usize, usize), CompressionError> {
        let algorithm = self.algorithm;
        match &mut self.inner {
            Inner::Zstd(decoder) => {
                let mut input = InBuffer::around(input);
                let mut out = OutBuffer::around(output);
                decoder.run(&mut input, &mut out).map_err(|e| {
                    let detail = e.to_string();
                    if detail.contains("too much memory") {
                        CompressionError::WindowTooLarge {
                            max: 1 << ZSTD_MAX_WINDOW_LOG,
                        }
                    } else {
                        CompressionError::Corrupt { algorithm, detail }
                    }
                })?;
                Ok((input.pos(), out.pos()))
            }
            Inner::Gzip { header, inflate } => {
                let mut taken = 0;
                if header.len() < GZIP_HEADER_LEN {
                    taken = (GZIP_HEADER_LEN - header.len()).min(input.len());
                    header.extend_from_slice(&input[..taken]);
                    if header.len() < GZIP_HEADER_LEN {
                        return Ok((taken, 0));
                    }
                    check_gzip_header(header)?;
                }
                let before_in = inflate.total_in();
                let before_out = inflate.total_out();
                let status = inflate
                    .decompress(&input[taken..], output, FlushDecompress::None)
                    .map_err(|e| CompressionError::Corrupt {
                        algorithm,
                        detail: e.to_string(),
                    })?;
                if status == Status::StreamEnd {
                    return Err(CompressionError::Ended(algorithm));
                }
                let used = (inflate.total_in() - before_in) as usize;
                let made = (inflate.total_out() - before_out) as usize;
                Ok((taken + used, made))
            }
        }
    }
}

/// A gzip header hubwire takes: the magic, deflate, and no optional fields (what gzip
/// compressors write for a stream, browsers' included).
fn check_gzip_header(header: &[u8]) -> Result<(), CompressionError> {
    if header[..2] != [0x1f, 0x8b] {
        return Err(CompressionError::GzipHeader(format!(
            "it does not start with 1f 8b but {:02x} {:02x}",
            header[0], header[1]
        )));
    }
    if header[2] != 8 {
        return Err(CompressionError::GzipHeader(format!(
            "compression method {} is not deflate (8)",
            header[2]
        )));
    }
    if header[3] != 0 {
        return Err(CompressionError::GzipHeader(format!(
            "flags {:#04x}: optional fields (name, comment, extra, header CRC) are not taken",
            header[3]
        )));
    }
    Ok(())
}
