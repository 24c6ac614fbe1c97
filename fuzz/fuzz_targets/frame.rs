//! Framing: `decode_frame` over a stream of bytes, `decode_datagram` over one datagram, and the
//! codec's encoder. Every frame read must write back as exactly the bytes it was read from.
#![no_main]

use bytes::BytesMut;
use hubwire_core::protocol::{decode_datagram, decode_frame, FrameCodec, HEADER_BYTES};
use hubwire_fuzz::{check_error, MAX_FRAME};
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::Encoder;

/// A small bound as well as the default, so that "too large" is as easy to reach as "fits".
const SMALL_FRAME: usize = 64;

fuzz_target!(|data: &[u8]| {
    for max_frame in [MAX_FRAME, SMALL_FRAME] {
        read_stream(data, max_frame);
    }
    match decode_datagram(data, MAX_FRAME) {
        Ok(frame) => assert_eq!(frame.to_bytes(), data, "a datagram wrote back otherwise"),
        Err(e) => check_error(&e),
    }
});

/// Takes frames off `data` until it needs more bytes or the framing is lost.
fn read_stream(data: &[u8], max_frame: usize) {
    let mut buf = BytesMut::from(data);
    loop {
        let start = data.len() - buf.len();
        match decode_frame(&mut buf, max_frame) {
            Ok(Some(frame)) => {
                let end = data.len() - buf.len();
                assert!(end - start >= HEADER_BYTES);
                assert!(
                    end - start - 4 <= max_frame,
                    "a frame over the bound was read"
                );
                assert_eq!(
                    frame.to_bytes(),
                    data[start..end],
                    "a frame wrote back otherwise"
                );
                let mut encoded = BytesMut::new();
                let mut codec = FrameCodec { max_frame };
                codec
                    .encode(frame, &mut encoded)
                    .expect("encoding a frame cannot fail");
                assert_eq!(
                    encoded,
                    data[start..end],
                    "the codec wrote a frame otherwise"
                );
            }
            Ok(None) => {
                // Waiting for more: nothing was taken, and what is there is not a whole frame.
                assert_eq!(data.len() - buf.len(), start, "bytes taken without a frame");
                if buf.len() >= 4 {
                    let length = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
                    assert!(buf.len() < 4 + length as usize);
                }
                return;
            }
            Err(e) => {
                assert!(
                    e.loses_framing(),
                    "a framing error that keeps the stream: {e}"
                );
                check_error(&e);
                return;
            }
        }
    }
}
