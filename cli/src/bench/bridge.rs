//! `hubwire bench bridge`: the 1 -> 1 pub/sub rows, a paced stream's one-way latency and one
//! synchronous caller, with the publisher and caller on one hub and the subscriber and
//! provider on another, bridged to it. With `--nats URL_A --nats-b URL_B`, the same across two
//! nats-servers in a cluster (publisher and caller on A, subscriber and provider on B).
//!
//! ```text
//!   publisher, caller ──> hub A <══ bridge (B dials A) ══ hub B <── subscriber, provider
//! ```
//!
//! Both hubs run in this process, on 127.0.0.1, with a fresh random bridge secret; every row
//! probes the bridge first (`probe.rs`), so no window opens while interest is still crossing.
//! The rows count and flow-control as `bench pubsub` and `bench rpc` do.

use std::net::SocketAddr;
use std::time::Duration;

use hubwire_actors::hub::HubLimits;
use hubwire_core::config::{BridgeTarget, Secret};
use hubwire_core::{Address, Config};

use super::hub::InProcessServer;
use super::one_way::{hub_one_way, OneWay, PACE, STAMPED_SIZE};
use super::pubsub::{
    count_only, drops_note, hub_pubsub, nats_pubsub, pubsub_row, PubsubRun, Shape,
};
use super::rpc::{hub_rpc, nats_rpc, sync_rows};
use super::side_by_side::{on_client_runtime, side_by_side, Ends, Row, SideBySideArgs, Timing};
use super::stats::{human_ns, thousands, Report};
use super::{Failure, EXIT_USAGE};

/// The one shape across a bridge: one publisher, one subscriber.
const ONE_TO_ONE: Shape = Shape {
    publishers: 1,
    subscribers: 1,
};
/// The largest body a row takes.
const MAX_SIZE: usize = 1 << 20;

/// Arguments of `hubwire bench bridge`.
#[derive(Debug, Clone, clap::Args)]
pub struct BridgeArgs {
    /// Where and how long; `--nats` is the nats-server the publisher and caller use (A).
    #[command(flatten)]
    pub run: SideBySideArgs,
    /// The nats-server clustered with `--nats` that the subscriber and provider use (B);
    /// needed with `--nats`.
    #[arg(long, value_name = "URL")]
    pub nats_b: Option<String>,
    /// Body sizes in bytes of the 1 -> 1 rows.
    #[arg(long, value_delimiter = ',', default_values_t = [16usize, 128])]
    pub sizes: Vec<usize>,
    /// Body bytes of each call and reply.
    #[arg(long, default_value_t = 128)]
    pub rpc_size: usize,
}

impl BridgeArgs {
    /// The timing, and the two NATS servers if asked for (both or neither).
    fn check(&self) -> Result<(Timing, Option<Ends<String>>), String> {
        let timing = self.run.check()?;
        if self.sizes.is_empty() || self.sizes.iter().any(|&s| s > MAX_SIZE) {
            return Err(format!("--sizes must be 0..={MAX_SIZE} bytes each"));
        }
        if self.rpc_size > MAX_SIZE {
            return Err(format!("--rpc-size must be at most {MAX_SIZE} bytes"));
        }
        let nats = match (&self.run.nats, &self.nats_b) {
            (Some(near), Some(far)) if near != far => Some(Ends {
                near: near.clone(),
                far: far.clone(),
            }),
            (None, None) => None,
            _ => return Err("--nats and --nats-b name two different servers, or neither".into()),
        };
        Ok((timing, nats))
    }
}

/// Two in-process hubs on 127.0.0.1: A listens, B dials A; both stopped when dropped.
struct BridgedHubs {
    /// B first: it is stopped before the hub it dials.
    b: InProcessServer,
    a: InProcessServer,
    /// Publishers and callers on A, subscribers and providers on B.
    ends: Ends<SocketAddr>,
}

impl BridgedHubs {
    fn start() -> Result<BridgedHubs, Failure> {
        let secret = Secret::new(format!(
            "hubwire-bench-{:016x}{:016x}",
            fastrand::u64(..),
            fastrand::u64(..)
        ));
        let hub = |bridges: Vec<BridgeTarget>| {
            let config = Config {
                listen: vec![Address::tcp(([127, 0, 0, 1], 0).into())],
                bridge_secret: Some(secret.clone()),
                bridges,
                ..Config::default()
            };
            let limits = HubLimits::from(&config);
            InProcessServer::with_config(config, Box::new(move |b| Ok(b.hub(limits))))
                .map_err(|e| Failure::new(1, e))
        };
        let a = hub(Vec::new())?;
        let b = hub(vec![BridgeTarget::new(a.address.clone())])?;
        let tcp = |server: &InProcessServer| {
            server
                .address
                .socket_addr()
                .ok_or_else(|| Failure::new(1, "a hub has no TCP address"))
        };
        let ends = Ends {
            near: tcp(&a)?,
            far: tcp(&b)?,
        };
        Ok(BridgedHubs { b, a, ends })
    }
}

/// Runs `hubwire bench bridge`.
pub(super) async fn bench_bridge(args: &BridgeArgs) -> Result<Report, Failure> {
    let (timing, nats) = args.check().map_err(|e| Failure::new(EXIT_USAGE, e))?;
    let hubs = BridgedHubs::start()?;
    let ends = hubs.ends;
    println!(
        "bench bridge: hub A at tcp://{} and hub B at tcp://{} dialing it (in-process, {} and \
         {}){}; {} s measured after {} s warmup; {} client threads",
        ends.near,
        ends.far,
        hubs.a.threads(),
        hubs.b.threads(),
        nats.as_ref().map_or(String::new(), |n| format!(
            ", NATS A at {} clustered with NATS B at {}",
            n.near, n.far
        )),
        timing.duration.as_secs_f64(),
        timing.warmup.as_secs_f64(),
        args.run.client_threads
    );
    let threads = args.run.client_threads;
    let mut rows = Vec::new();
    let mut received = 0;
    for &size in &args.sizes {
        let hub = on_client_runtime(threads, move |subscribers| {
            hub_pubsub(subscribers, ends, ONE_TO_ONE, size, timing)
        })
        .await?;
        received += hub.received_in_window;
        let nats = match &nats {
            Some(urls) => Some(nats_pubsub(threads, urls.clone(), ONE_TO_ONE, size, timing).await?),
            None => None,
        };
        let row = pubsub_row(ONE_TO_ONE, size, timing.duration, &hub, nats.as_ref());
        print_rate(&row.name, "hubwire", &hub, timing.duration);
        if let Some(n) = &nats {
            print_rate(&row.name, "NATS   ", n, timing.duration);
        }
        rows.push(row);
    }

    let hub = on_client_runtime(threads, move |subscribers| {
        hub_one_way(subscribers, ends, timing)
    })
    .await?
    .finish(timing.duration);
    received += hub.0.received_in_window;
    let nats_one_way = match &nats {
        Some(urls) => Some(
            nats_one_way(threads, urls.clone(), timing)
                .await?
                .finish(timing.duration),
        ),
        None => None,
    };
    print_latency("one-way", "hubwire", &hub.1);
    if let Some((_, n)) = &nats_one_way {
        print_latency("one-way", "NATS   ", n);
    }
    rows.extend(one_way_rows(&hub, nats_one_way.as_ref()));

    let size = args.rpc_size;
    let sync = on_client_runtime(threads, move |_| hub_rpc(ends, 1, size, timing)).await?;
    drop(hubs);
    let nats_sync = match nats {
        Some(urls) => Some(nats_rpc(threads, urls, 1, size, timing).await?),
        None => None,
    };
    print_latency("rpc", "hubwire", &sync);
    if let Some(n) = &nats_sync {
        print_latency("rpc", "NATS   ", n);
    }
    rows.extend(sync_rows(
        &format!("rpc {size} B, 1 caller"),
        &sync,
        nats_sync.as_ref(),
    ));

    println!(
        "\nacross one bridge (hubwire) / one cluster route (NATS), publisher and caller on A:"
    );
    print!("{}", side_by_side(&rows));
    Ok(count_only(received + sync.completed, timing.duration))
}

fn print_rate(row: &str, side: &str, run: &PubsubRun, window: Duration) {
    println!(
        "  {row}: {side} {}{}",
        thousands(run.per_second(window)),
        drops_note("", run, ONE_TO_ONE)
    );
}

fn print_latency(row: &str, side: &str, report: &Report) {
    println!(
        "  {row}: {side} p50 {}  p99 {}  max {}  ({} in the window; errors {})",
        human_ns(report.p50_ns),
        human_ns(report.p99_ns),
        human_ns(report.max_ns),
        thousands(report.completed as f64),
        report.errors_line()
    );
}

/// The paced stream's rows: p50 and p99 of the one-way latency, with its drops.
pub(super) fn one_way_rows(
    hub: &(PubsubRun, Report),
    nats: Option<&(PubsubRun, Report)>,
) -> Vec<Row> {
    let name = format!(
        "one-way {STAMPED_SIZE} B, 1 per {} ms",
        PACE.as_secs_f64() * 1e3
    );
    let ns = |v: Option<u64>| v.map_or(f64::NAN, |v| v as f64);
    let mut note = format!("drops hub {}", thousands(hub.0.drops(1) as f64));
    if let Some((n, _)) = nats {
        note.push_str(&format!(" NATS {}", thousands(n.drops(1) as f64)));
    }
    let errors = hub.1.error_total() + nats.map_or(0, |(_, n)| n.error_total());
    if errors > 0 {
        note.push_str(&format!(", {errors} without a stamp"));
    }
    vec![
        Row {
            name: format!("{name}, p50"),
            unit: "ns",
            hub: ns(hub.1.p50_ns),
            nats: nats.map(|(_, n)| ns(n.p50_ns)),
            note,
            higher_is_better: false,
        },
        Row {
            name: format!("{name}, p99"),
            unit: "ns",
            hub: ns(hub.1.p99_ns),
            nats: nats.map(|(_, n)| ns(n.p99_ns)),
            note: String::new(),
            higher_is_better: false,
        },
    ]
}

#[cfg(feature = "nats-bench")]
async fn nats_one_way(
    threads: usize,
    urls: Ends<String>,
    timing: Timing,
) -> Result<OneWay, Failure> {
    on_client_runtime(threads, move |subscribers| {
        super::nats::one_way(subscribers, urls, timing)
    })
    .await
}

#[cfg(not(feature = "nats-bench"))]
async fn nats_one_way(_: usize, _: Ends<String>, _: Timing) -> Result<OneWay, Failure> {
    Err(Failure::new(
        EXIT_USAGE,
        "--nats needs a build with `--features nats-bench`",
    ))
}

#[cfg(test)]
#[path = "bridge_tests.rs"]
mod tests;
