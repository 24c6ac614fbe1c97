//! Unit tests of `hubwire bench queue`: flags, formatting and figures, and one short run of
//! every run.

use super::*;
use crate::bench::{BenchArgs, BenchMode};
use crate::{Cli, Command};
use clap::Parser;

fn parse(args: &[&str]) -> QueueArgs {
    let cli = Cli::try_parse_from(["hubwire", "bench", "queue"].iter().chain(args)).unwrap();
    let Command::Bench(BenchArgs {
        mode: BenchMode::Queue(args),
        ..
    }) = cli.command
    else {
        panic!("not bench queue");
    };
    args
}

#[test]
fn queue_mode_defaults_to_8_clients_64_deep_and_64_workers() {
    let args = parse(&[]);
    let plan = args.check().unwrap();
    assert_eq!((plan.clients, plan.depth, plan.size), (8, 64, 128));
    assert_eq!((args.workers, args.backlog, args.batch), (64, 10_000, None));
    let args = parse(&[
        "--clients",
        "2",
        "--depth",
        "3",
        "--workers",
        "5",
        "--batch",
        "7",
    ]);
    assert_eq!((args.load.clients, args.load.depth), (2, 3));
    assert_eq!((args.workers, args.batch), (5, Some(7)));
    assert!(parse(&["--workers", "0"]).check().is_err());
    assert!(parse(&["--batch", "0"]).check().is_err());
}

#[test]
fn counts_print_with_thousands_separators() {
    assert_eq!(thousands(0.0), "0");
    assert_eq!(thousands(999.4), "999");
    assert_eq!(thousands(1_000.0), "1,000");
    assert_eq!(thousands(85_123.0), "85,123");
    assert_eq!(thousands(1_234_567.0), "1,234,567");
    assert_eq!(thousands(-3.0), "0");
}

#[test]
fn the_table_gives_ratios_to_the_floor_and_targets_met_or_missed() {
    let row = |run: &str, per_second: f64, target: Option<f64>| Row {
        run: run.into(),
        unit: "acks",
        per_second,
        fsyncs_per_second: Some(500.0),
        batch: Some(40.0),
        target,
    };
    let rows = [
        row("echo", 80_000.0, None),
        row("durable", 20_000.0, Some(20_000.0)),
        row("memory", 60_000.0, Some(100_000.0)),
    ];
    let table = queue_table(&rows, 80_000.0);
    let line = |name: &str| table.lines().find(|l| l.contains(name)).unwrap().to_owned();
    assert!(line("echo").contains("1.00"), "{table}");
    assert!(line("echo").ends_with("  -"), "{table}");
    assert!(line("durable").contains("0.25"), "{table}");
    assert!(line("durable").contains(">= 20,000: met"), "{table}");
    assert!(line("memory").contains("0.75"), "{table}");
    assert!(line("memory").contains(">= 100,000: MISSED"), "{table}");
    assert!(line("memory").contains("40.0"), "{table}");
    assert!(queue_table(&rows, 0.0)
        .lines()
        .nth(1)
        .unwrap()
        .contains(" - "));
}

#[test]
fn the_mean_batch_is_ops_over_commits() {
    assert_eq!(mean_batch(30_000.0, 500.0), Some(60.0));
    assert_eq!(mean_batch(30_000.0, 0.0), None);
    let at = Instant::now();
    let probe = |secs: u64, commits: u64, processed: u64| Probe {
        at: at + Duration::from_secs(secs),
        commits,
        processed,
        pending: 0,
    };
    let run = QueuedRun {
        report: Report::new(Default::default(), Duration::from_secs(2)),
        first: probe(1, 10, 100),
        last: probe(3, 110, 4_100),
    };
    assert_eq!(run.commits_per_second(), 50.0);
    assert_eq!(run.processed_per_second(), 2_000.0);
    assert_eq!(run.mean_batch(), Some(40.0));
}

/// Every run, very briefly: each completes requests without errors.
#[tokio::test]
async fn a_short_queue_bench_runs_every_run() {
    let args = QueueArgs {
        load: LoadArgs {
            clients: 2,
            depth: 4,
            duration: 0.2,
            warmup: 0.0,
            ..parse(&[]).load
        },
        workers: 4,
        backlog: 100,
        batch: None,
    };
    let floor = bench_queue(&args).await.unwrap();
    assert!(floor.completed > 0);
    let plan = args.check().unwrap();
    let run = run_queued(StoreKind::Redb, &plan, 4, true, Some(100))
        .await
        .unwrap();
    assert!(run.report.completed > 0, "{run:?}");
    assert_eq!(run.report.error_total(), 0, "{run:?}");
    let dir = TempDir::new().unwrap();
    let bare = bare_redb(&dir.0, 3, plan.window()).unwrap();
    assert!(bare.inserts_per_second > 0.0);
    assert!((bare.inserts_per_second - bare.commits_per_second * 3.0).abs() < 1e-6);
}
