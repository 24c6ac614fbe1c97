//! The pure parts of `hubwire bench bridge`: its flags (two NATS servers or none), the stamps
//! of the paced stream and its rows (no timed runs here: the figures depend on the machine).

use std::time::{Duration, Instant};

use clap::Parser;

use super::*;
use crate::bench::one_way::{since_stamp, stamped_body};
use crate::bench::{BenchArgs, BenchMode};
use crate::{Cli, Command};

fn parse(args: &[&str]) -> BridgeArgs {
    let cli = Cli::try_parse_from(["hubwire", "bench", "bridge"].iter().chain(args)).unwrap();
    let Command::Bench(BenchArgs {
        mode: BenchMode::Bridge(args),
        ..
    }) = cli.command
    else {
        panic!("not bench bridge");
    };
    args
}

#[test]
fn nats_takes_two_clustered_servers_or_none() {
    let plain = parse(&[]);
    assert_eq!(
        (plain.sizes.as_slice(), plain.rpc_size),
        (&[16, 128][..], 128)
    );
    assert_eq!(plain.check().unwrap().1, None);

    let a = "nats://127.0.0.1:4222";
    let b = "nats://127.0.0.1:4223";
    let both = parse(&["--nats", a, "--nats-b", b]);
    if cfg!(feature = "nats-bench") {
        let ends = both.check().unwrap().1.unwrap();
        assert_eq!((ends.near.as_str(), ends.far.as_str()), (a, b));
        assert!(ends.across());
    } else {
        assert!(both.check().is_err());
    }
    assert!(parse(&["--nats", a]).check().is_err());
    assert!(parse(&["--nats-b", b]).check().is_err());
    assert!(parse(&["--nats", a, "--nats-b", a]).check().is_err());
    assert!(parse(&["--sizes", "2000000"]).check().is_err());
    assert!(parse(&["--duration", "0"]).check().is_err());
}

#[test]
fn a_stamp_gives_the_time_since_it_was_written() {
    let epoch = Instant::now();
    let written = epoch + Duration::from_micros(1_500);
    let body = stamped_body(16, epoch, written);
    assert_eq!(body.len(), 16);
    let read = written + Duration::from_micros(42);
    assert_eq!(
        since_stamp(&body, epoch, read),
        Some(Duration::from_micros(42))
    );
    // Too short to hold a stamp: none, not a made-up latency.
    assert_eq!(since_stamp(&body[..7], epoch, read), None);
    // A body asked smaller than the stamp still carries it.
    assert_eq!(stamped_body(4, epoch, written).len(), 8);
}

#[test]
fn one_way_rows_give_both_percentiles_their_ratios_and_the_drops() {
    let report = |p50: u64| Report {
        completed: 3_000,
        window: Duration::from_secs(3),
        p50_ns: Some(p50),
        p99_ns: Some(p50 * 3),
        max_ns: Some(p50 * 10),
        mean_ns: Some(p50),
        errors: Default::default(),
    };
    let run = |published: u64, received: u64| PubsubRun {
        published,
        received,
        received_in_window: received,
        slow_consumers: 0,
        wire_bytes: None,
    };
    let hub = (run(3_000, 2_998), report(60_000));
    let nats = (run(3_000, 3_000), report(40_000));
    let rows = one_way_rows(&hub, Some(&nats));
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].name, "one-way 16 B, 1 per 1 ms, p50");
    assert_eq!((rows[0].hub, rows[0].nats), (60_000.0, Some(40_000.0)));
    assert!(!rows[0].higher_is_better);
    assert!(
        rows[0].note.contains("drops hub 2 NATS 0"),
        "{}",
        rows[0].note
    );
    assert_eq!((rows[1].hub, rows[1].nats), (180_000.0, Some(120_000.0)));
    let table = side_by_side(&rows);
    assert!(table.contains("1.50"), "{table}");

    let alone = one_way_rows(&hub, None);
    assert_eq!(alone[0].nats, None);
    assert_eq!(alone[0].note, "drops hub 2");
}
