//! Guards the pacing of NATS publishers (`docs/nats-compatibility.md`, slow consumers): four
//! publishers faster than their one subscriber are held back while it catches up, as
//! nats-server stalls fast producers, so a subscriber that keeps reading, however slowly, gets
//! every message and is not cut off; one that stops reading is still cut off (guarded in
//! `nats_listener_refuses_and_bounds.rs`).

#[path = "support/nats.rs"]
mod nats_support;
mod support;

use std::time::Duration;

use hubwire::hub::HubLimits;
use nats_support::*;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PUBLISHERS: usize = 4;
const EACH: usize = 4000;
const SIZE: usize = 128;
/// `MSG fan.in 1 128\r\n`, the payload, `\r\n`.
const MSG_BYTES: usize = 18 + SIZE + 2;

#[actix::test]
async fn fast_publishers_wait_for_a_slow_subscriber_instead_of_cutting_it_off() {
    let limits = HubLimits {
        // The four publishers together would pass it twice over; one read of each (64 KiB)
        // past the stall mark (64 KiB) stays well inside it.
        max_outbound_bytes: 1024 * 1024,
        ..HubLimits::default()
    };
    // Small socket buffers both ways, so what the subscriber has not read stays in the hub.
    let mut config = nats_hub_config(0, 0);
    config.send_buffer_bytes = 64 * 1024;
    let hub = TestServer::start(config, move |b| b.hub(limits)).expect("the hub starts");

    // A subscriber that reads 4 KiB every 4 ms at most (about 1 MB/s).
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(32 * 1024).unwrap();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", hub.nats_port()).parse().unwrap();
    socket.connect(&addr.into()).unwrap();
    socket.set_nonblocking(true).unwrap();
    let mut sub = TcpStream::from_std(socket.into()).unwrap();
    sub.write_all(b"CONNECT {}\r\nSUB fan.in 1\r\nPING\r\n")
        .await
        .unwrap();
    let mut seen = Vec::new();
    recv_or_fail("PONG", async {
        let mut buf = [0u8; 1024];
        while !String::from_utf8_lossy(&seen).contains("PONG\r\n") {
            let n = sub.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed early");
            seen.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    let expected = PUBLISHERS * EACH * MSG_BYTES;
    let reader = tokio::spawn(async move {
        let mut got = 0usize;
        let mut buf = vec![0u8; 4096];
        let mut tail = Vec::new();
        while got < expected {
            match tokio::time::timeout(Duration::from_secs(20), sub.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => {
                    got += n;
                    tail.extend_from_slice(&buf[..n]);
                    let keep = tail.len().saturating_sub(64);
                    tail.drain(..keep);
                }
                _ => break,
            }
            tokio::time::sleep(Duration::from_millis(4)).await;
        }
        (got, String::from_utf8_lossy(&tail).into_owned())
    });

    let mut publishers = Vec::new();
    for _ in 0..PUBLISHERS {
        let client = nats_client(&hub.nats_url()).await;
        publishers.push(tokio::spawn(async move {
            for i in 0..EACH {
                client
                    .publish("fan.in", vec![b'x'; SIZE].into())
                    .await
                    .unwrap();
                if i % 100 == 99 {
                    client.flush().await.unwrap();
                }
            }
            client.flush().await.unwrap();
            client
        }));
    }
    let mut clients = Vec::new();
    for publisher in publishers {
        clients.push(publisher.await.unwrap());
    }
    let (got, tail) = tokio::time::timeout(Duration::from_secs(120), reader)
        .await
        .expect("the subscriber reads everything in time")
        .unwrap();
    let slow = hub
        .registry
        .snapshot()
        .counter("hub.slow_consumers", &[])
        .unwrap_or(0);
    assert_eq!(
        slow, 0,
        "the subscriber was cut off; it read {got} bytes, ending {tail:?}"
    );
    assert_eq!(got, expected, "ending {tail:?}");
    assert!(
        tail.ends_with(&format!("{}\r\n", "x".repeat(40))),
        "{tail:?}"
    );
}
