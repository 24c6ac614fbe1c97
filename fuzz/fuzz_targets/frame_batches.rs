//! The stream batch decoder (`FrameBatches`) over bytes that arrive in pieces: whatever the
//! cuts, it must yield the frames `decode_frame` finds in the whole input, in order, then the
//! same ending (nothing, a framing error, or a truncation).
//!
//! Input: one byte `n`, then `n` cut sizes (see `Chunked`), then the stream.
#![no_main]

use bytes::BytesMut;
use futures::executor::block_on;
use futures::StreamExt;
use hubwire_core::protocol::{decode_frame, Frame, ProtocolError};
use hubwire_core::stream::{FrameBatches, MAX_BATCH_FRAMES};
use hubwire_fuzz::{check_error, Chunked, MAX_FRAME};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let (cuts, stream) = rest.split_at(usize::from(n).min(rest.len()));
    let (expected, ending) = whole(stream);

    let mut batches = FrameBatches::new(Chunked::new(stream, cuts), MAX_FRAME);
    let mut got = Vec::new();
    let got_ending = block_on(async {
        while let Some(item) = batches.next().await {
            match item {
                Ok(batch) => {
                    assert!(!batch.is_empty(), "an empty batch was yielded");
                    assert!(batch.len() <= MAX_BATCH_FRAMES, "a batch over the bound");
                    assert_eq!(batch.iter().count(), batch.len());
                    got.extend(batch);
                }
                Err(e) => {
                    check_error(&e);
                    assert!(batches.next().await.is_none(), "items after an error");
                    return Ending::of(&e);
                }
            }
        }
        Ending::Clean
    });
    assert_eq!(
        got, expected,
        "the batches hold other frames than the stream"
    );
    assert_eq!(
        got_ending, ending,
        "the batches end otherwise than the stream"
    );
});

/// How a stream of frames ends.
#[derive(Debug, PartialEq)]
enum Ending {
    Clean,
    Truncated(usize),
    /// Framing lost: the announced length (too short or too long).
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

/// The frames of the whole stream read at once, and how it ends.
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
