//! Guards `io_spin_us` (docs/configuration.md): after a read, an I/O thread keeps polling for
//! the window before it sleeps, for hubwire connections and NATS clients alike; each spin
//! lasts at least the window and ends once reads stop (`io.spins`, `io.spin_us`); zero turns
//! spinning off.

/// Hubs with a `nats://` listener (a module of its own, not in `support`).
#[path = "support/nats.rs"]
mod nats_support;
mod support;

use std::time::Duration;

use hubwire::prelude::*;
use nats_support::{nats_hub_config, start_nats_hub, RawNats};
use support::{loopback_config, recv_or_fail, Echo, Message, TestServer, PATIENCE};

const WINDOW: Duration = Duration::from_millis(5);

/// (spins, microseconds spun) so far.
fn spun(server: &TestServer) -> (Option<u64>, Option<u64>) {
    let snapshot = server.registry.snapshot();
    (
        snapshot.counter("io.spins", &[]),
        snapshot.counter("io.spin_us", &[]),
    )
}

/// Waits until the server has finished at least one spin.
async fn first_spin(server: &TestServer) -> (u64, u64) {
    recv_or_fail("a spin", async {
        loop {
            if let (Some(spins @ 1..), Some(us)) = spun(server) {
                return (spins, us);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
}

async fn echo_three_times(server: &TestServer) -> Client {
    let client = Client::connect(server.tcp(), ClientOptions::default())
        .await
        .expect("connects");
    for i in 0..3 {
        let message = format!("echo {i}");
        let reply = client
            .call::<Echo>(&Message {
                message: message.clone(),
            })
            .await
            .expect("an echo");
        assert_eq!(reply.message, message);
    }
    client
}

#[actix::test]
async fn requests_start_spins_that_last_their_window_and_end() {
    let mut config = loopback_config();
    config.io_spin = WINDOW;
    let server = TestServer::with_test_routes(config);
    let _client = echo_three_times(&server).await;
    let (spins, us) = first_spin(&server).await;
    assert!(
        us >= spins * WINDOW.as_micros() as u64,
        "{spins} spins took {us} µs: each lasts at least its window"
    );
    // The client is still connected but quiet: the spins stop, the counters stand still.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let before = spun(&server);
        tokio::time::sleep(WINDOW * 10).await;
        if spun(&server) == before {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the I/O threads never stopped spinning: {:?}",
            spun(&server)
        );
    }
}

#[actix::test]
async fn a_nats_clients_reads_start_spins_too() {
    let mut config = nats_hub_config(0, 0);
    config.io_spin = WINDOW;
    let hub = start_nats_hub(config);
    let mut nats = RawNats::connect(&hub).await;
    nats.send(b"CONNECT {\"verbose\":false}\r\nPING\r\n").await;
    assert_eq!(nats.line().await.as_deref(), Some("PONG"));
    let (spins, us) = first_spin(&hub).await;
    assert!(us >= spins * WINDOW.as_micros() as u64);
}

#[actix::test]
async fn zero_turns_spinning_off() {
    let mut config = loopback_config();
    config.io_spin = Duration::ZERO;
    let server = TestServer::with_test_routes(config);
    let _client = echo_three_times(&server).await;
    tokio::time::sleep(WINDOW * 4).await;
    assert_eq!(spun(&server), (None, None), "no spin was counted");
}
