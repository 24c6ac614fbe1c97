//! The decompressing frame reader (`DecompressingReader` under `FrameBatches`): compressed
//! bytes in, frames out, bounded.
//!
//! Input: a flag byte (bit 0: gzip, else zstd; bit 1: the rest is the plain stream, else the
//! compressed one), a byte `n`, `n` cut sizes, then the stream. A plain stream is compressed in
//! writes of the cut sizes (each flushed, as a connection's writer does) and read back in
//! pieces: the batches must hold exactly the frames of the plain stream and end the same way.
//! A compressed stream of arbitrary bytes must give frames or a typed error, never a panic,
//! and never more buffered than the frame bound allows.
#![no_main]

use bytes::BytesMut;
use futures::executor::block_on;
use futures::StreamExt;
use hubwire_core::compression::{Algorithm, CompressionError, Compressor, DecompressingReader};
use hubwire_core::protocol::{decode_frame, Frame, ProtocolError};
use hubwire_core::stream::FrameBatches;
use hubwire_fuzz::{check_error, Chunked, MAX_FRAME};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [flags, n, rest @ ..] = data else {
        return;
    };
    let algorithm = if flags & 1 == 1 {
        Algorithm::Gzip
    } else {
        Algorithm::Zstd
    };
    let (cuts, stream) = rest.split_at(usize::from(*n).min(rest.len()));
    if flags & 2 == 2 {
        round_trip(algorithm, cuts, stream);
    } else {
        arbitrary(algorithm, cuts, stream);
    }
});

/// A plain stream, compressed in writes of the cut sizes, reads back as the same frames.
fn round_trip(algorithm: Algorithm, cuts: &[u8], stream: &[u8]) {
    let mut compressor = Compressor::new(algorithm).unwrap();
    let mut compressed = Vec::new();
    let mut rest = stream;
    let mut i = 0;
    while !rest.is_empty() {
        let size = cuts.get(i % cuts.len().max(1)).map_or(rest.len(), |&c| usize::from(c).max(1));
        let (write, after) = rest.split_at(size.min(rest.len()));
        compressor.compress(write, &mut compressed).unwrap();
        rest = after;
        i += 1;
    }
    let (expected, ending) = whole(stream);
    let reader = DecompressingReader::compressed(Chunked::new(&compressed, cuts), algorithm, &[])
        .unwrap();
    let (got, got_ending) = block_on(drain(FrameBatches::new(reader, MAX_FRAME)));
    assert_eq!(got, expected, "the frames differ after compression");
    assert_eq!(got_ending, Some(ending), "the stream ends otherwise after compression");
}

/// Arbitrary compressed bytes: frames, or a typed error.
fn arbitrary(algorithm: Algorithm, cuts: &[u8], stream: &[u8]) {
    let (first, rest) = stream.split_at(stream.len().min(7));
    let reader =
        DecompressingReader::compressed(Chunked::new(rest, cuts), algorithm, first).unwrap();
    let _ = block_on(drain(FrameBatches::new(reader, MAX_FRAME)));
}

/// Every frame, and how the batches end (`None`: a compression error).
async fn drain<R: tokio::io::AsyncRead + Unpin>(
    mut batches: FrameBatches<R>,
) -> (Vec<Frame>, Option<Ending>) {
    let mut got = Vec::new();
    while let Some(item) = batches.next().await {
        match item {
            Ok(batch) => {
                assert!(!batch.is_empty(), "an empty batch was yielded");
                got.extend(batch);
            }
            Err(ProtocolError::Io(e)) => {
                assert!(
                    CompressionError::in_io(&e).is_some(),
                    "an I/O error that is not a compression error: {e}"
                );
                return (got, None);
            }
            Err(e) => {
                check_error(&e);
                return (got, Some(Ending::of(&e)));
            }
        }
    }
    (got, Some(Ending::Clean))
}

/// How a stream of frames ends.
#[derive(Debug, PartialEq)]
enum Ending {
    Clean,
    Truncated(usize),
    Lost(usize),
}

impl Ending {
    fn of(e: &ProtocolError) -> Ending {
        match e {
            ProtocolError::Truncated { buffered } => Ending::Truncated(*buffered),
            ProtocolError::FrameTooShort { length }
            | ProtocolError::FrameTooLarge { length, .. } => Ending::Lost(*length),
            other => panic!("a byte stream cannot end with {other}"),
        }
    }
}

fn whole(stream: &[u8]) -> (Vec<Frame>, Ending) {
    let mut buf = BytesMut::from(stream);
    let mut frames = Vec::new();
    loop {
        match decode_frame(&mut buf, MAX_FRAME) {
            Ok(Some(frame)) => frames.push(frame),
            Ok(None) if buf.is_empty() => return (frames, Ending::Clean),
            Ok(None) => return (frames, Ending::Truncated(buf.len())),
            Err(e) => return (frames, Ending::of(&e)),
        }
    }
}
