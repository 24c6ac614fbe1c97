//! Guards memory after bursts of connections: 1,000 connections that open at once and close
//! leave no growth behind burst after burst (the listener returns the allocator's free memory
//! to the system once a burst of closes has settled; glibc kept it before, about 8 MB more per
//! burst of 1,000). Alone in its binary: it measures this process's resident memory.

mod support;

use std::time::Duration;

use hubwire::protocol::{kind, Envelope, Hello, PROTOCOL_VERSION};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CONNECTIONS: usize = 1000;

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap();
    kib / 1024.0
}

/// Opens `CONNECTIONS` connections (each through the handshake), then closes them all.
async fn burst(address: std::net::SocketAddr) {
    let hello = Hello {
        version: PROTOCOL_VERSION,
        agent: "burst".into(),
        max_frame: 1 << 20,
        max_in_flight: 0,
    }
    .to_frame_bytes()
    .unwrap();
    let mut open = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        stream.write_all(&hello).await.unwrap();
        let mut answer = [0u8; 128];
        let n = recv_or_fail("CONN", stream.read(&mut answer))
            .await
            .unwrap();
        assert!(n >= 6 && u16::from_be_bytes([answer[4], answer[5]]) == kind::CONN);
        open.push(stream);
    }
    drop(open);
}

#[actix_rt::test]
async fn bursts_of_connections_leave_no_growing_memory_behind() {
    let mut config = loopback_config();
    config.max_connections_per_peer = CONNECTIONS + 10;
    let server = TestServer::with_test_routes(config);
    let address = server.tcp().socket_addr().unwrap();
    let mut after = Vec::new();
    for _ in 0..4 {
        burst(address).await;
        recv_or_fail("every connection to close", async {
            loop {
                let stats = server.registry.snapshot();
                if stats.gauge("connections.open", &[("transport", "tcp")]) == Some(0) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        // The trim runs 500 ms after the burst's closes.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        after.push(rss_mib());
    }
    let growth = after[3] - after[1];
    assert!(
        growth < 3.0,
        "resident memory grew {growth:.1} MiB over two more bursts (after each: {after:?})"
    );
}
