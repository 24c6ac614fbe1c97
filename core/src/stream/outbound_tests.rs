//! The outbound buffer: order, control frames ahead of bulk data, flushes, the bound and
//! cut-offs.

use super::*;
use std::sync::Arc;
use tokio::io::AsyncReadExt;

#[tokio::test]
async fn frames_queued_together_are_written_in_order_then_the_side_is_shut() {
    let outbound = Arc::new(Outbound::new(0u32));
    let (client, mut server) = tokio::io::duplex(1024);
    {
        let mut q = outbound.lock();
        assert!(q.push(b"one,"));
        *q.state() += 1;
        assert!(q
            .push_with(|out| {
                out.extend_from_slice(b"two,");
                Ok::<_, ()>(())
            })
            .unwrap());
        assert!(q
            .push_with(|out| {
                out.extend_from_slice(b"dropped");
                Err(())
            })
            .is_err());
        assert_eq!(q.queued(), 8);
        assert_eq!(q.queued_frames(), 2, "the failed append is not counted");
    }
    let writer = tokio::spawn({
        let outbound = outbound.clone();
        async move { outbound.write_to(client).await }
    });
    let mut got = vec![0u8; 8];
    server.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"one,two,");
    {
        let mut q = outbound.lock();
        q.push(b"three");
        q.close();
        assert!(!q.push(b"late"));
    }
    let mut rest = Vec::new();
    server.read_to_end(&mut rest).await.unwrap();
    assert_eq!(&rest, b"three");
    writer.await.unwrap().unwrap();
    assert!(!outbound.is_open());
    assert_eq!(*outbound.lock().state(), 1);
}

/// An outbound buffer whose writer task writes into a pipe of `capacity` bytes, returned once
/// the writer waits for bytes (so `flush_now` may write).
async fn idle_writer_over_pipe(
    capacity: usize,
) -> (
    Arc<Outbound<()>>,
    tokio::io::DuplexStream,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let outbound = Arc::new(Outbound::new(()));
    let (client, server) = tokio::io::duplex(capacity);
    let writer = tokio::spawn({
        let outbound = outbound.clone();
        async move { outbound.write_to(client).await }
    });
    while outbound.lock().queue().idle_writer.is_none() {
        tokio::task::yield_now().await;
    }
    (outbound, server, writer)
}

#[tokio::test]
async fn a_frame_flushed_now_is_written_without_the_writer_task() {
    let (outbound, mut server, writer) = idle_writer_over_pipe(8).await;
    {
        let mut q = outbound.lock();
        q.push(b"now");
        q.flush_now();
        assert_eq!(q.queued(), 0, "written at once");
        // More than the pipe holds: the rest is left to the writer task.
        q.push(b"0123456789");
        q.flush_now();
        assert_eq!(q.queued(), 5);
    }
    let mut got = vec![0u8; 13];
    server.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"now0123456789");
    outbound.lock().close();
    writer.await.unwrap().unwrap();
}

#[tokio::test]
async fn control_frames_go_ahead_of_queued_bulk_data() {
    let outbound = Arc::new(Outbound::<()>::default());
    let (client, mut server) = tokio::io::duplex(1024);
    {
        let mut q = outbound.lock();
        q.push(b"bulk1,");
        q.push(b"bulk2,");
        q.push_urgent(b"PONG,");
        assert_eq!(q.queued(), 12, "urgent frames are not bulk");
        assert_eq!(q.queued_frames(), 2);
    }
    let writer = tokio::spawn({
        let outbound = outbound.clone();
        async move { outbound.write_to(client).await }
    });
    let mut got = vec![0u8; 17];
    server.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"PONG,bulk1,bulk2,");
    assert_eq!(outbound.lock().queued_frames(), 0, "taken by the writer");
    outbound.lock().close();
    writer.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_control_frame_overtakes_a_large_batch_at_a_frame_boundary() {
    const FRAME: usize = 1000;
    const FRAMES: usize = 500;
    let outbound = Arc::new(Outbound::<()>::default());
    let (client, mut server) = tokio::io::duplex(4096);
    {
        let mut q = outbound.lock();
        for i in 0..FRAMES {
            q.push(&[b'a' + (i % 26) as u8; FRAME]);
        }
    }
    let writer = tokio::spawn({
        let outbound = outbound.clone();
        async move { outbound.write_to(client).await }
    });
    // The writer has taken the whole batch and is stuck in it (the pipe holds 4 KiB).
    let mut got = vec![0u8; 8192];
    server.read_exact(&mut got).await.unwrap();
    assert_eq!(outbound.lock().queued(), 0, "the batch is the writer's");
    outbound.lock().push_urgent(b"URGENT");
    outbound.lock().close();
    server.read_to_end(&mut got).await.unwrap();
    writer.await.unwrap().unwrap();
    assert_eq!(got.len(), FRAME * FRAMES + 6);
    let at = got
        .windows(6)
        .position(|w| w == b"URGENT")
        .expect("written");
    assert_eq!(at % FRAME, 0, "between two frames");
    assert!(at < FRAME * FRAMES / 2, "early in the batch, at {at}");
    let mut bulk = got[..at].to_vec();
    bulk.extend_from_slice(&got[at + 6..]);
    for (i, frame) in bulk.chunks(FRAME).enumerate() {
        assert!(
            frame.iter().all(|&b| b == b'a' + (i % 26) as u8),
            "frame {i} intact"
        );
    }
}

#[tokio::test]
async fn nothing_is_kept_once_the_writer_has_failed() {
    let outbound = Arc::new(Outbound::<()>::default());
    let (client, server) = tokio::io::duplex(16);
    drop(server);
    outbound.lock().push(b"to nobody");
    assert!(outbound.write_to(client).await.is_err());
    assert!(!outbound.is_open());
    assert!(!outbound.lock().push(b"more"));
}

#[tokio::test]
async fn the_backlog_counts_what_the_writer_holds_and_the_gate_opens_under_the_bound() {
    use std::future::poll_fn;
    let outbound = Arc::new(Outbound::with_limit((), 100));
    let (client, mut server) = tokio::io::duplex(64);
    {
        let mut q = outbound.lock();
        q.push(&[1; 150]);
        q.push_urgent(&[2; 30]);
        assert_eq!(q.backlog(), 180, "bulk and control frames both count");
    }
    let mut cx = Context::from_waker(Waker::noop());
    assert!(outbound.poll_room(&mut cx).is_pending(), "over the bound");
    let writer = tokio::spawn({
        let outbound = outbound.clone();
        async move { outbound.write_to(client).await }
    });
    // The writer has taken everything but can write only 64 bytes: the rest still counts.
    let mut got = vec![0u8; 10];
    server.read_exact(&mut got).await.unwrap();
    while outbound.lock().queued() > 0 {
        tokio::task::yield_now().await;
    }
    assert!(
        outbound.lock().backlog() > 100,
        "held by the writer, still owed"
    );
    assert!(outbound.is_over_limit());
    // Reading lets the writer go on; the gate opens once it is back under the bound.
    let reader = tokio::spawn(async move {
        let mut rest = vec![0u8; 170];
        server.read_exact(&mut rest).await.unwrap();
        server
    });
    poll_fn(|cx| outbound.poll_room(cx)).await;
    assert!(outbound.lock().backlog() <= 100);
    let _server = reader.await.unwrap();
    outbound.lock().close();
    writer.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_cut_off_drops_the_backlog_and_writes_only_the_last_frame() {
    let outbound = Arc::new(Outbound::<()>::default());
    let (client, mut server) = tokio::io::duplex(1 << 20);
    {
        let mut q = outbound.lock();
        q.push(b"bulk,");
        q.push_urgent(b"pong,");
        q.cut_off(b"GONE");
        assert_eq!(q.backlog(), 4, "only the last frame is left");
        assert!(!q.push(b"late"), "nothing is taken after");
        q.cut_off(b"AGAIN");
        assert_eq!(q.backlog(), 4, "cut once");
    }
    let writer = tokio::spawn({
        let outbound = outbound.clone();
        async move { outbound.write_to(client).await }
    });
    let mut got = Vec::new();
    server.read_to_end(&mut got).await.unwrap();
    assert_eq!(&got, b"GONE");
    writer.await.unwrap().unwrap();
}

/// A frame `flush_now` could write only part of (the socket was full) is finished before a
/// control frame queued after it: the peer never reads a PONG in the middle of a MESSAGE.
#[tokio::test]
async fn a_frame_flush_now_half_wrote_is_finished_before_control_frames() {
    use tokio::io::AsyncReadExt;
    let (outbound, mut server, writer) = idle_writer_over_pipe(8).await;
    {
        let mut q = outbound.lock();
        q.push(b"BULK-FRAME-OF-20-BYT");
        q.flush_now();
        assert_eq!(q.queued(), 12, "the pipe took 8 bytes of the frame");
        q.push_urgent(b"PP");
    }
    let mut got = vec![0u8; 22];
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        server.read_exact(&mut got),
    )
    .await
    .expect("everything is written")
    .unwrap();
    assert_eq!(&got, b"BULK-FRAME-OF-20-BYTPP");
    // And the next flush starts with control frames again.
    {
        let mut q = outbound.lock();
        q.push(b"bb");
        q.push_urgent(b"u");
    }
    let mut got = vec![0u8; 3];
    server.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"ubb");
    outbound.lock().close();
    writer.await.unwrap().unwrap();
}

/// A peer cut off while a frame `flush_now` began is still half written gets the rest of that
/// frame before the last frame: otherwise the error would be read as part of it.
#[tokio::test]
async fn a_cut_off_finishes_a_frame_flush_now_half_wrote_before_the_last_frame() {
    // A frame longer than `URGENT_CHECK_BYTES`, so that the next one starts at a mark.
    let long = vec![b'A'; URGENT_CHECK_BYTES + 10];
    let (outbound, mut server, writer) = idle_writer_over_pipe(8).await;
    {
        let mut q = outbound.lock();
        q.push(&long);
        q.push(b"BBBB");
        q.push(b"CCCC");
        q.flush_now();
        assert_eq!(
            q.queued(),
            long.len() - 8 + 8,
            "the pipe took 8 bytes of the first frame"
        );
        q.cut_off(b"E");
        assert_eq!(
            q.queued(),
            long.len() - 8,
            "only the rest of the half-written frame is kept"
        );
    }
    let mut got = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        server.read_to_end(&mut got),
    )
    .await
    .expect("everything is written and the side shut")
    .unwrap();
    assert_eq!(got.len(), long.len() + 1);
    assert_eq!(&got[..long.len()], &long[..]);
    assert_eq!(got.last(), Some(&b'E'));
    writer.await.unwrap().unwrap();
}
