//! The arithmetic and formatting of `hubwire bench pubsub` and `hubwire bench rpc` (no timed
//! runs here: the figures depend on the machine).

use super::*;
use crate::bench::rpc::rpc_rows;
use crate::bench::side_by_side::{body, ratio, side_by_side, SideBySideArgs};
use crate::bench::stats::{thousands, Report};
use crate::bench::{BenchArgs, BenchMode};
use crate::{Cli, Command};
use clap::Parser;

fn run(published: u64, received: u64, in_window: u64) -> PubsubRun {
    PubsubRun {
        published,
        received,
        received_in_window: in_window,
        slow_consumers: 0,
        wire_bytes: None,
    }
}

#[test]
fn drops_count_every_copy_a_subscriber_should_have_had() {
    let fan_out = Shape {
        publishers: 1,
        subscribers: 4,
    };
    // 1,000 published to 4 subscribers: 4,000 due.
    assert_eq!(run(1_000, 4_000, 3_000).drops(fan_out.subscribers), 0);
    assert_eq!(run(1_000, 3_900, 3_000).drops(fan_out.subscribers), 100);
    // More received than due (never expected) is not a negative drop.
    assert_eq!(run(1_000, 4_100, 0).drops(fan_out.subscribers), 0);
}

#[test]
fn the_rate_counts_only_what_arrived_inside_the_window() {
    let r = run(10_000, 10_000, 6_000);
    assert_eq!(r.per_second(Duration::from_secs(3)), 2_000.0);
    let mut total = run(5, 5, 2);
    total.merge(PubsubRun {
        slow_consumers: 1,
        ..run(1, 3, 3)
    });
    assert_eq!(
        total,
        PubsubRun {
            published: 6,
            received: 8,
            received_in_window: 5,
            slow_consumers: 1,
            wire_bytes: None,
        }
    );
}

#[test]
fn ratios_are_hubwire_over_nats_and_absent_without_nats() {
    assert_eq!(ratio(500.0, Some(1_000.0)), "0.50");
    assert_eq!(ratio(1_500.0, Some(1_000.0)), "1.50");
    assert_eq!(ratio(1.0, None), "-");
    assert_eq!(ratio(1.0, Some(0.0)), "-");
    assert_eq!(ratio(f64::NAN, Some(1.0)), "-");
}

#[test]
fn counts_are_grouped_by_thousands() {
    assert_eq!(thousands(0.0), "0");
    assert_eq!(thousands(999.4), "999");
    assert_eq!(thousands(1_000.0), "1,000");
    assert_eq!(thousands(1_234_567.0), "1,234,567");
    assert_eq!(thousands(-5.0), "0");
}

#[test]
fn a_pubsub_row_carries_both_rates_the_ratio_and_the_drops() {
    let shape = SHAPES[1];
    let hub = run(1_000, 3_990, 3_000);
    let nats = PubsubRun {
        slow_consumers: 1,
        ..run(1_000, 4_000, 6_000)
    };
    let row = pubsub_row(shape, 128, Duration::from_secs(1), &hub, Some(&nats));
    assert_eq!(row.name, "1 -> 4, 128 B msg/s");
    assert_eq!((row.hub, row.nats), (3_000.0, Some(6_000.0)));
    assert!(row.note.contains("drops hub 10 NATS 0"), "{}", row.note);
    assert!(
        row.note.contains("slow consumers hub 0 NATS 1"),
        "{}",
        row.note
    );
    let table = side_by_side(&[row]);
    let line = table.lines().nth(1).unwrap();
    assert!(
        line.contains("3,000") && line.contains("6,000") && line.contains("0.50"),
        "{table}"
    );
}

#[test]
fn rpc_rows_give_latencies_and_rates_with_their_ratios() {
    let report = |completed: u64, p50: u64| Report {
        completed,
        window: Duration::from_secs(1),
        p50_ns: Some(p50),
        p99_ns: Some(p50 * 2),
        max_ns: Some(p50 * 4),
        mean_ns: Some(p50),
        errors: Default::default(),
    };
    let rows = rpc_rows(
        &report(5_000, 200_000),
        Some(&report(5_500, 180_000)),
        &report(40_000, 400_000),
        Some(&report(46_000, 350_000)),
        16,
    );
    let table = side_by_side(&rows);
    let line = |name: &str| {
        table
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap()
            .to_owned()
    };
    assert!(line("1 caller, p50").contains("1.11"), "{table}");
    assert!(line("1 caller, p50").contains("lower is better"), "{table}");
    assert!(line("16 callers, calls/s").contains("0.87"), "{table}");
    assert!(line("16 callers, calls/s").contains("40,000"), "{table}");
}

#[test]
fn flags_parse_and_bad_ones_are_refused() {
    let cli =
        Cli::try_parse_from(["hubwire", "bench", "pubsub", "--sizes", "16,128,1024"]).unwrap();
    let Command::Bench(BenchArgs {
        mode: BenchMode::Pubsub(args),
        ..
    }) = cli.command
    else {
        panic!("not bench pubsub");
    };
    assert_eq!(args.sizes, [16, 128, 1024]);
    assert_eq!(args.run.nats, None);
    assert_eq!(args.nats_client, NatsClient::Lean);
    let timing = args.run.check().unwrap();
    assert_eq!(timing.duration, Duration::from_secs(3));

    let bad = |edit: fn(&mut SideBySideArgs)| {
        let mut run = args.run.clone();
        edit(&mut run);
        run.check().is_err()
    };
    assert!(bad(|r| r.duration = 0.0));
    assert!(bad(|r| r.warmup = f64::NAN));
    assert!(bad(|r| r.client_threads = 0));
    assert_eq!(
        bad(|r| r.nats = Some("nats://127.0.0.1:4222".into())),
        !cfg!(feature = "nats-bench")
    );
    // The lean client is in every build; async-nats only with the feature.
    let mut with_nats = args.run.clone();
    with_nats.nats = Some("nats://127.0.0.1:4222".into());
    assert!(with_nats.check_with(false).is_ok());
    assert_eq!(
        with_nats.check_with(true).is_err(),
        !cfg!(feature = "nats-bench")
    );

    let cli = Cli::try_parse_from(["hubwire", "bench", "rpc", "--callers", "8"]).unwrap();
    let Command::Bench(BenchArgs {
        mode: BenchMode::Rpc(rpc),
        ..
    }) = cli.command
    else {
        panic!("not bench rpc");
    };
    assert_eq!((rpc.callers, rpc.size), (8, 128));
    assert_eq!(rpc.nats_client, NatsClient::Lean);
    let cli = Cli::try_parse_from(["hubwire", "bench", "rpc", "--nats-client", "async-nats"]);
    let Command::Bench(BenchArgs {
        mode: BenchMode::Rpc(rpc),
        ..
    }) = cli.unwrap().command
    else {
        panic!("not bench rpc");
    };
    assert_eq!(rpc.nats_client, NatsClient::AsyncNats);
    assert!(Cli::try_parse_from(["hubwire", "bench", "pubsub", "--nats-client", "go"]).is_err());
}

/// The lean client cannot dial TLS: a tls:// --nats URL with it is a usage error that says
/// what to pass, before anything starts.
#[tokio::test]
async fn a_tls_nats_url_with_the_lean_client_is_refused_with_the_way_out() {
    let cli = Cli::try_parse_from([
        "hubwire",
        "bench",
        "pubsub",
        "--nats",
        "tls://127.0.0.1:1",
        "--duration",
        "0.1",
    ])
    .unwrap();
    let Command::Bench(BenchArgs {
        mode: BenchMode::Pubsub(args),
        ..
    }) = cli.command
    else {
        panic!("not bench pubsub");
    };
    let failure = bench_pubsub(&args).await.unwrap_err();
    assert_eq!(failure.code, EXIT_USAGE, "{}", failure.message);
    assert!(
        failure.message.contains("--nats-client async-nats"),
        "{}",
        failure.message
    );
}

#[test]
fn the_body_has_the_size_asked_for() {
    for size in [0, 16, 128, 300] {
        assert_eq!(body(size).len(), size);
    }
}

#[test]
fn a_shape_is_publishers_dash_subscribers() {
    assert_eq!(parse_shape("1-4"), Ok(SHAPES[1]));
    assert_eq!(parse_shape("4-1"), Ok(SHAPES[2]));
    for bad in ["", "1", "0-1", "1-0", "a-b", "1-4-2"] {
        assert!(parse_shape(bad).is_err(), "{bad}");
    }
}
