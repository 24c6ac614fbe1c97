//! Unit tests of `hubwire bench work`: its flags, and one short run of each kind of queue on
//! the hubwire side (the JetStream side needs nats-server, which `benches/` runs by hand).

use super::*;
use crate::bench::{BenchArgs, BenchMode};
use crate::{Cli, Command};
use clap::Parser;

fn parse(args: &[&str]) -> WorkArgs {
    let cli = Cli::try_parse_from(["hubwire", "bench", "work"].iter().chain(args)).unwrap();
    let Command::Bench(BenchArgs {
        mode: BenchMode::Work(args),
        ..
    }) = cli.command
    else {
        panic!("not bench work");
    };
    args
}

#[test]
fn work_mode_defaults_to_1_4_and_16_workers_with_credit_64() {
    let args = parse(&[]);
    assert_eq!(args.workers, [1, 4, 16]);
    assert_eq!(
        (args.credit, args.in_flight, args.backlog),
        (64, 256, 10_000)
    );
    assert_eq!((args.only, args.no_nats), (None, false));
    let args = parse(&["--workers", "2,3", "--only", "durable", "--no-nats"]);
    assert_eq!(args.workers, [2, 3]);
    assert_eq!((args.only, args.no_nats), (Some(Kind::Durable), true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_run_of_each_kind_acknowledges_items() {
    for kind in [Kind::Memory, Kind::Durable] {
        let load = Load {
            kind,
            workers: 2,
            credit: 8,
            in_flight: 8,
            backlog: 100,
            timing: Timing {
                warmup: Duration::from_millis(100),
                duration: Duration::from_millis(400),
            },
        };
        let rate = hubwire_row(load, body(16)).await.unwrap();
        assert!(rate > 0.0, "{kind:?}: nothing acknowledged");
    }
}

#[tokio::test]
async fn bad_flags_are_refused_before_anything_starts() {
    for flags in [
        &["--workers", "0", "--no-nats"][..],
        &["--credit", "0", "--no-nats"],
        &["--in-flight", "0", "--no-nats"],
        &["--duration", "0", "--no-nats"],
    ] {
        let failure = bench_work(&parse(flags)).await.unwrap_err();
        assert_eq!(failure.code, EXIT_USAGE, "{flags:?}");
    }
}
