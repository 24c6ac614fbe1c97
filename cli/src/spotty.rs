//! `hubwire spotty-spoke`: a spoke that connects, subscribes, checks a message gets through,
//! and disconnects, over and over (half the time cleanly, half the time by dropping the
//! socket). For drills and tests: a hub must recover every subscription and leak nothing.

use std::time::Duration;

use bytes::Bytes;
use hubwire_actors::spoke::SpokeSpec;
use hubwire_actors::supervisor::StopChild;
use hubwire_core::protocol::{Envelope, Hello, Subscribe, PROTOCOL_VERSION};
use hubwire_core::pubsub::{Channel, Pattern};
use hubwire_core::stats::StatsRegistry;
use hubwire_core::Address;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use super::server::ServerArg;
use super::{EXIT_CANNOT_CONNECT, EXIT_OK, EXIT_USAGE};

/// Arguments of `hubwire spotty-spoke`.
#[derive(Debug, clap::Args)]
pub struct SpottyArgs {
    /// The hub (default: $HUBWIRE_URL, else tcp://127.0.0.1:7500).
    #[command(flatten)]
    pub server: ServerArg,
    /// Connect-subscribe-check-disconnect cycles.
    #[arg(long, default_value_t = 100)]
    pub cycles: u32,
    /// Subscriptions made in each cycle.
    #[arg(long, default_value_t = 3)]
    pub subscriptions: u32,
    /// Seconds each cycle may take.
    #[arg(long, default_value_t = 5.0)]
    pub timeout: f64,
}

/// Runs `hubwire spotty-spoke`; prints `{cycles, failed}` as JSON; exit 0 when every cycle
/// got its message through.
pub fn spotty_spoke(args: SpottyArgs) -> i32 {
    let address = args
        .server
        .resolve(None, Some(super::DEFAULT_HUB_ADDRESS))
        .and_then(|a| a.parse::<Address>().map_err(|e| e.to_string()));
    let address = match address {
        Ok(address) => address,
        Err(e) => {
            eprintln!("hubwire spotty-spoke: {e}");
            return EXIT_USAGE;
        }
    };
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        eprintln!("hubwire spotty-spoke: --timeout must be a positive number of seconds");
        return EXIT_USAGE;
    }
    let timeout = Duration::from_secs_f64(args.timeout);
    let system = actix::System::new();
    let failed = system.block_on(async move {
        let mut failed = 0u32;
        for cycle in 0..args.cycles {
            let outcome = if cycle % 2 == 0 {
                tokio::time::timeout(timeout, clean_cycle(&address, cycle, args.subscriptions))
                    .await
            } else {
                tokio::time::timeout(timeout, abrupt_cycle(&address, cycle, args.subscriptions))
                    .await
            };
            if !matches!(outcome, Ok(Ok(()))) {
                failed += 1;
                let why = match outcome {
                    Ok(Err(e)) => e,
                    _ => "timed out".into(),
                };
                eprintln!("hubwire spotty-spoke: cycle {cycle}: {why}");
            }
        }
        failed
    });
    println!("{}", json!({"cycles": args.cycles, "failed": failed}));
    if failed == 0 {
        EXIT_OK
    } else {
        EXIT_CANNOT_CONNECT
    }
}

/// A spoke subscribes, receives its own publish, and stops cleanly (DISCONN).
async fn clean_cycle(address: &Address, cycle: u32, subscriptions: u32) -> Result<(), String> {
    let (spoke, supervisor) = SpokeSpec::new(address.clone())
        .name(format!("spotty-{cycle}"))
        .start(&StatsRegistry::new());
    let result = async {
        spoke
            .ready(Duration::from_secs(5))
            .await
            .map_err(|e| e.to_string())?;
        let mut receivers = Vec::new();
        for n in 0..subscriptions.max(1) {
            let pattern = Pattern::parse(&format!("spotty/{cycle}/{n}/**")).expect("valid");
            let (_, rx) = spoke.subscribe(pattern).await.map_err(|e| e.to_string())?;
            receivers.push(rx);
        }
        let channel = Channel::parse(&format!("spotty/{cycle}/0/check")).expect("valid");
        spoke
            .publish(channel, Bytes::from_static(b"check"))
            .await
            .map_err(|e| e.to_string())?;
        match receivers[0].recv().await {
            Some(message) if &message.body[..] == b"check" => Ok(()),
            other => Err(format!("expected the check message, got {other:?}")),
        }
    }
    .await;
    let _ = supervisor.send(StopChild).await;
    result
}

/// A raw connection subscribes and vanishes without a goodbye (the socket dropped).
async fn abrupt_cycle(address: &Address, cycle: u32, subscriptions: u32) -> Result<(), String> {
    let (Address::Tcp(_), Some(addr)) = (address, address.socket_addr()) else {
        return Err("abrupt cycles speak TCP to an IP address".into());
    };
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let mut out = bytes::BytesMut::new();
    let hello = Hello {
        version: PROTOCOL_VERSION,
        agent: "hubwire-spotty-spoke".into(),
        max_frame: 1 << 20,
        max_in_flight: 1,
    };
    hello.write_frame(&mut out).map_err(|e| e.to_string())?;
    for n in 0..subscriptions.max(1) {
        let pattern = Pattern::parse(&format!("spotty/{cycle}/{n}/*")).expect("valid");
        Subscribe::new(u64::from(n), pattern)
            .write_frame(&mut out)
            .map_err(|e| e.to_string())?;
    }
    stream.write_all(&out).await.map_err(|e| e.to_string())?;
    // Gone mid-conversation: no DISCONN, replies unread.
    drop(stream);
    Ok(())
}
