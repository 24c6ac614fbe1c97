//! Guards the bridge dialer's attempt count: a link that comes up and is cut soon after does
//! not start the count over, so a peer that keeps admitting and dropping the link is dialed
//! after a longer wait each time (the policy's `reset_after` of health starts it over, as for
//! spokes), not after the minimum delay forever.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hubwire::backoff::BackoffPolicy;
use hubwire::bridge::Secret;
use hubwire::hub::HubLimits;
use support::bridge::*;
use support::*;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

/// How long the relay lets each link live: long enough to be admitted and up.
const CUT_AFTER: Duration = Duration::from_millis(500);
/// The dialer's first wait; it doubles per attempt (no jitter, so the waits are exact).
const MIN_DELAY: Duration = Duration::from_millis(100);
/// Links watched: four waits, the last of which is 8 times the first.
const LINKS: usize = 5;

/// A relay on an ephemeral loopback port to `to` that cuts each connection `CUT_AFTER` after
/// accepting it, reporting when it accepted each.
async fn cutting_relay(to: SocketAddr) -> (SocketAddr, UnboundedReceiver<Instant>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (accepted, accepts) = unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let _ = accepted.send(Instant::now());
            tokio::spawn(async move {
                let Ok(mut outbound) = TcpStream::connect(to).await else {
                    return;
                };
                let relay = tokio::io::copy_bidirectional(&mut inbound, &mut outbound);
                let _ = tokio::time::timeout(CUT_AFTER, relay).await;
            });
        }
    });
    (addr, accepts)
}

/// A hub that dials a bridge to `relay` with a back-off from `MIN_DELAY` to 10 s, no jitter,
/// forever, started over after 30 s of health.
fn dialing_hub(relay: SocketAddr) -> TestServer {
    let mut config = loopback_config();
    config.bridge_secret = Some(Secret::new(secret()));
    config.bridges = vec![target(relay.port())];
    config.bridge_backoff =
        BackoffPolicy::exponential_with(MIN_DELAY, Duration::from_secs(10), 2.0, 0.0)
            .with_max_attempts(None)
            .with_reset_after(Some(Duration::from_secs(30)));
    TestServer::start(config, |b| b.hub(HubLimits::default())).expect("the hub starts")
}

#[tokio::test]
async fn a_link_cut_soon_after_it_is_up_is_dialed_again_after_a_growing_wait() {
    let p = ports(1);
    let peer = bridged_hub(p[0], &[]);
    let (relay, mut accepts) = cutting_relay(format!("127.0.0.1:{}", p[0]).parse().unwrap()).await;
    let dialer = dialing_hub(relay);
    let mut dials = Vec::new();
    for _ in 0..LINKS {
        dials.push(recv_or_fail("the next dial", accepts.recv()).await.unwrap());
    }
    // Each link was really up (made and counted) before it was cut.
    let bridge = format!("tcp://127.0.0.1:{}", relay.port());
    let reconnects = bridge_figure(&dialer, "bridge.reconnects", &bridge);
    assert!(
        reconnects >= LINKS as i64 - 2,
        "links made again: {reconnects}"
    );
    for (n, pair) in dials.windows(2).enumerate() {
        // The link lived CUT_AFTER, then the dialer waited MIN_DELAY * 2^n (at least).
        let wait = MIN_DELAY * 2u32.pow(n as u32);
        let gap = pair[1] - pair[0];
        assert!(
            gap >= CUT_AFTER + wait,
            "dial {} came {gap:?} after the one before: the wait after a lost link was not \
             {wait:?} (the attempt count started over when the link came up)",
            n + 2
        );
    }
    drop(peer);
}
