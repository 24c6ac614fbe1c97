//! The stream batch decoder (`FrameBatches`) over bytes that arrive in pieces: whatever the
//! cuts, it must yield the frames `decode_frame` finds in the whole input, in order, then the
//! same ending (nothing, a framing error, or a truncation). Also the client's path: the CONN
//! handshake reads the first frame, and batches go on from the bytes it read past it.
//!
//! Input: one byte `n`, then `n` cut sizes (see `Chunked`), then the stream.
#![no_main]

use bytes::BytesMut;
use futures::executor::block_on;
use futures::StreamExt;
use hubwire_core::protocol::{
    decode_frame, kind, Envelope, ErrorFrame, Frame, Hello, ProtocolError, PROTOCOL_VERSION,
};
use hubwire_core::stream::{exchange_hello, FrameBatches, HandshakeError, MAX_BATCH_FRAMES};
use hubwire_fuzz::{check_error, Chunked, MAX_FRAME};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let (cuts, stream) = rest.split_at(usize::from(n).min(rest.len()));
    let (expected, ending) = whole(stream);

    let batches = FrameBatches::new(Chunked::new(stream, cuts), MAX_FRAME);
    let (got, got_ending) = block_on(drain(batches));
    assert_eq!(
        got, expected,
        "the batches hold other frames than the stream"
    );
    assert_eq!(
        got_ending, ending,
        "the batches end otherwise than the stream"
    );

    after_handshake(stream, cuts, &expected, &ending);
});

/// The client's handshake on the stream, then batches from what it left in its buffer.
fn after_handshake(stream: &[u8], cuts: &[u8], expected: &[Frame], ending: &Ending) {
    let mut rd = Chunked::new(stream, cuts);
    let ours = Hello {
        version: PROTOCOL_VERSION,
        agent: "fuzz".into(),
        max_frame: MAX_FRAME as u32,
        max_in_flight: 0,
    };
    let mut sink = tokio::io::sink();
    let handshake = exchange_hello(&mut rd, &mut sink, &ours, MAX_FRAME, "server");
    match block_on(handshake) {
        Ok((theirs, buf)) => {
            let first = expected.first().expect("a handshake read a frame");
            assert_eq!(Hello::from_frame(first).unwrap(), theirs);
            let (got, got_ending) = block_on(drain(FrameBatches::with_buffer(rd, buf, MAX_FRAME)));
            assert_eq!(got, expected[1..], "frames after the handshake differ");
            assert_eq!(
                &got_ending, ending,
                "the stream after the handshake ends otherwise"
            );
        }
        Err(HandshakeError::Refused { .. }) => {
            // An ERROR frame, or a CONN of another version.
            let first = expected.first().expect("a refusal came in a frame");
            match first.kind {
                kind::ERROR => assert!(ErrorFrame::from_frame(first).is_ok()),
                kind::CONN => {
                    assert_ne!(Hello::from_frame(first).unwrap().version, PROTOCOL_VERSION)
                }
                other => panic!("refused on a frame of kind {other}"),
            }
        }
        Err(HandshakeError::Lost(_)) => {
            // A DISCONN where the CONN should be, or the stream failed before a whole frame.
            if let Some(first) = expected.first() {
                assert_eq!(first.kind, kind::DISCONN, "lost on a frame of kind {}", first.kind);
            }
        }
        Err(HandshakeError::Protocol(e)) => check_error(&e),
    }
}

/// Every frame the batches yield, in order, and how they end.
async fn drain(mut batches: FrameBatches<Chunked<'_>>) -> (Vec<Frame>, Ending) {
    let mut got = Vec::new();
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
                return (got, Ending::of(&e));
            }
        }
    }
    (got, Ending::Clean)
}

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
