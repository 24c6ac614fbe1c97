//! The compression layer alone: round trips, the exact switch, bounds, and typed errors.

use std::io::Write;

use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

fn compress_all(algorithm: Algorithm, writes: &[&[u8]]) -> Vec<u8> {
    let mut compressor = Compressor::new(algorithm).unwrap();
    let mut out = Vec::new();
    for w in writes {
        compressor.compress(w, &mut out).unwrap();
    }
    out
}

/// Decompresses with `room` bytes of output at a time.
fn decompress_all(
    algorithm: Algorithm,
    input: &[u8],
    room: usize,
) -> Result<Vec<u8>, CompressionError> {
    let mut d = Decompressor::new(algorithm)?;
    let mut out = Vec::new();
    let mut at = 0;
    let mut buf = vec![0; room];
    loop {
        let (used, made) = d.decompress(&input[at..], &mut buf)?;
        at += used;
        out.extend_from_slice(&buf[..made]);
        if used == 0 && made < room {
            return Ok(out);
        }
    }
}

#[test]
fn the_server_picks_its_own_first_choice_among_the_offer() {
    let offer = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let both = [Algorithm::Zstd, Algorithm::Gzip];
    assert_eq!(
        choose(&offer(&["gzip", "zstd"]), &both),
        Some(Algorithm::Zstd)
    );
    assert_eq!(choose(&offer(&["gzip"]), &both), Some(Algorithm::Gzip));
    assert_eq!(
        choose(&offer(&["brotli", "gzip"]), &[Algorithm::Gzip]),
        Some(Algorithm::Gzip)
    );
    assert_eq!(choose(&offer(&["brotli"]), &both), None);
    assert_eq!(choose(&offer(&["zstd"]), &[]), None);
    assert_eq!(choose(&[], &both), None);
}

#[test]
fn each_write_is_readable_at_once_in_both_algorithms() {
    for algorithm in Algorithm::ALL {
        let mut compressor = Compressor::new(algorithm).unwrap();
        let mut d = Decompressor::new(algorithm).unwrap();
        let mut buf = vec![0; 4096];
        for i in 0..20 {
            let msg = format!("{{\"sensor\":\"kitchen\",\"reading\":{i}}}");
            let mut out = Vec::new();
            compressor.compress(msg.as_bytes(), &mut out).unwrap();
            // Everything written so far decodes without waiting for later bytes.
            let (used, made) = d.decompress(&out, &mut buf).unwrap();
            assert_eq!(used, out.len(), "{algorithm}");
            assert_eq!(&buf[..made], msg.as_bytes(), "{algorithm}");
        }
    }
}

#[test]
fn repeated_text_compresses_well() {
    let text = b"{\"channel\":\"sensors/kitchen/temp\",\"value\":21.5,\"unit\":\"C\"}".repeat(100);
    for algorithm in Algorithm::ALL {
        let out = compress_all(algorithm, &[&text]);
        assert!(
            out.len() * 10 < text.len(),
            "{algorithm}: {} of {}",
            out.len(),
            text.len()
        );
    }
}

#[test]
fn a_bomb_is_read_a_buffer_at_a_time() {
    // 64 MiB of zeros compress to a few KB; a 1 KiB room never gets more than 1 KiB.
    for algorithm in Algorithm::ALL {
        let zeros = vec![0u8; 64 << 20];
        let bomb = compress_all(algorithm, &[&zeros]);
        assert!(bomb.len() < 256 * 1024, "{algorithm}: {}", bomb.len());
        let mut d = Decompressor::new(algorithm).unwrap();
        let mut room = [0u8; 1024];
        let (_, made) = d.decompress(&bomb, &mut room).unwrap();
        assert!(made <= room.len());
    }
}

#[test]
fn a_zstd_window_over_the_bound_is_refused_by_name() {
    let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    encoder
        .set_parameter(zstd::stream::raw::CParameter::WindowLog(
            ZSTD_MAX_WINDOW_LOG + 2,
        ))
        .unwrap();
    encoder.write_all(&vec![7u8; 1 << 20]).unwrap();
    let bytes = encoder.finish().unwrap();
    let err = decompress_all(Algorithm::Zstd, &bytes, 4096).unwrap_err();
    assert!(
        matches!(err, CompressionError::WindowTooLarge { .. }),
        "{err}"
    );
}

#[test]
fn garbage_is_a_typed_error() {
    let garbage = b"\x00\x00\x00\x08this is not compressed at all";
    let err = decompress_all(Algorithm::Zstd, garbage, 4096).unwrap_err();
    assert!(
        matches!(
            err,
            CompressionError::Corrupt {
                algorithm: Algorithm::Zstd,
                ..
            }
        ),
        "{err}"
    );
    let err = decompress_all(Algorithm::Gzip, garbage, 4096).unwrap_err();
    assert!(matches!(err, CompressionError::GzipHeader(_)), "{err}");
    let mut bad_deflate = encode::GZIP_HEADER.to_vec();
    bad_deflate.extend_from_slice(&[0xff; 32]);
    let err = decompress_all(Algorithm::Gzip, &bad_deflate, 4096).unwrap_err();
    assert!(
        matches!(
            err,
            CompressionError::Corrupt {
                algorithm: Algorithm::Gzip,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_finished_gzip_stream_is_an_error() {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(b"hello").unwrap();
    let bytes = encoder.finish().unwrap();
    let err = decompress_all(Algorithm::Gzip, &bytes, 4096).unwrap_err();
    assert!(
        matches!(err, CompressionError::Ended(Algorithm::Gzip)),
        "{err}"
    );
}

#[tokio::test]
async fn the_stream_switches_at_the_exact_byte() {
    for algorithm in Algorithm::ALL {
        let switch = Switch::new();
        switch.set(5, algorithm);
        // The writer side: 5 plain bytes first, as a server's answer would be.
        let (a2, b2) = tokio::io::duplex(64 * 1024);
        let mut plain_then = CompressingWriter::new(a2, switch.clone());
        plain_then
            .write_all(b"hello world, compressed after five")
            .await
            .unwrap();
        plain_then.shutdown().await.unwrap();
        let mut raw = Vec::new();
        let mut b2 = b2;
        b2.read_to_end(&mut raw).await.unwrap();
        assert_eq!(&raw[..5], b"hello", "{algorithm}");
        assert_ne!(&raw[5..], b" world, compressed after five", "{algorithm}");
        // The reader side, with the same switch.
        let mut reader = DecompressingReader::new(&raw[..], switch);
        let mut back = Vec::new();
        reader.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, b"hello world, compressed after five", "{algorithm}");
    }
}

#[tokio::test]
async fn plain_bytes_past_the_switch_are_an_early_error() {
    let switch = Switch::new();
    let mut reader = DecompressingReader::new(&b"0123456789"[..], switch.clone());
    let mut first = [0u8; 8];
    let n = reader.read(&mut first).await.unwrap();
    assert_eq!(n, 8);
    switch.set(4, Algorithm::Zstd);
    let err = reader.read(&mut first).await.unwrap_err();
    assert!(
        matches!(CompressionError::in_io(&err), Some(CompressionError::Early)),
        "{err}"
    );
}

/// A sink that takes `room` bytes, then waits until told.
struct Slow {
    taken: Vec<u8>,
    room: usize,
}

impl tokio::io::AsyncWrite for Slow {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let n = buf.len().min(self.room);
        if n == 0 {
            return std::task::Poll::Pending;
        }
        self.room -= n;
        self.taken.extend_from_slice(&buf[..n]);
        std::task::Poll::Ready(Ok(n))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

#[test]
fn a_write_that_waits_is_reported_once_its_bytes_are_out_and_only_for_the_same_bytes() {
    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};
    use tokio::io::AsyncWrite;
    let mut cx = Context::from_waker(Waker::noop());
    let sink = Slow {
        taken: Vec::new(),
        room: 3,
    };
    let mut w = CompressingWriter::compressed(sink, Algorithm::Zstd).unwrap();
    let data = b"hello hello hello hello";
    // The socket takes 3 bytes: the write is not reported yet.
    assert!(Pin::new(&mut w).poll_write(&mut cx, data).is_pending());
    w.get_mut().room = 1 << 20;
    // Retried with the same bytes (and more after them): reported as the first write.
    let more = [&data[..], b" and more"].concat();
    match Pin::new(&mut w).poll_write(&mut cx, &more) {
        Poll::Ready(Ok(n)) => assert_eq!(n, data.len()),
        other => panic!("{other:?}"),
    }
    let (used, made) = {
        let mut d = Decompressor::new(Algorithm::Zstd).unwrap();
        let mut room = [0u8; 64];
        let (u, m) = d.decompress(&w.get_ref().taken, &mut room).unwrap();
        assert_eq!(&room[..m], data);
        (u, m)
    };
    assert_eq!((used, made), (w.get_ref().taken.len(), data.len()));
    // A retry with other bytes is refused, not sent.
    w.get_mut().room = 0;
    assert!(Pin::new(&mut w).poll_write(&mut cx, b"first").is_pending());
    w.get_mut().room = 1 << 20;
    match Pin::new(&mut w).poll_write(&mut cx, b"other") {
        Poll::Ready(Err(_)) => {}
        other => panic!("a changed retry must fail: {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any writes, read back with any room per read, give the same bytes.
    #[test]
    fn round_trip(writes in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..600), 0..12),
                  room in 1usize..300, gzip: bool) {
        let algorithm = if gzip { Algorithm::Gzip } else { Algorithm::Zstd };
        let slices: Vec<&[u8]> = writes.iter().map(Vec::as_slice).collect();
        let compressed = compress_all(algorithm, &slices);
        let back = decompress_all(algorithm, &compressed, room).unwrap();
        prop_assert_eq!(back, writes.concat());
    }

    /// Arbitrary bytes never panic the decompressors.
    #[test]
    fn arbitrary_input_is_an_error_or_bytes(input in proptest::collection::vec(any::<u8>(), 0..400), gzip: bool) {
        let algorithm = if gzip { Algorithm::Gzip } else { Algorithm::Zstd };
        let _ = decompress_all(algorithm, &input, 64);
    }
}
