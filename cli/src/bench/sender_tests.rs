//! Unit tests of `hubwire bench sender`: flags, figures and the table, and one short run.

use super::*;
use crate::bench::{BenchArgs, BenchMode};
use crate::{Cli, Command};
use clap::Parser;

fn parse(args: &[&str]) -> SenderArgs {
    let cli = Cli::try_parse_from(["hubwire", "bench", "sender"].iter().chain(args)).unwrap();
    let Command::Bench(BenchArgs {
        mode: BenchMode::Sender(args),
        ..
    }) = cli.command
    else {
        panic!("not bench sender");
    };
    args
}

#[test]
fn sender_mode_defaults_to_8_producers_64_deep_64_workers() {
    let args = parse(&[]);
    let plan = args.check().unwrap();
    assert_eq!((plan.clients, plan.depth, plan.size), (8, 64, 128));
    assert_eq!((args.workers, args.backlog), (64, 10_000));
    let args = parse(&["--producers", "2", "--depth", "3", "--workers", "5"]);
    assert_eq!(
        (args.load.clients, args.load.depth, args.workers),
        (2, 3, 5)
    );
    assert!(Cli::try_parse_from(["hubwire", "bench", "sender", "--clients", "2"]).is_err());
    let refused = |args: &[&str]| parse(args).check().unwrap_err();
    assert!(refused(&["--producers", "0"]).contains("--producers"));
    assert!(refused(&["--workers", "0"]).contains("--workers"));
}

#[test]
fn figures_are_counts_over_the_probes_window() {
    let at = Instant::now();
    let probe = |secs: u64, commits: u64, delivered: u64, pending: u64| Probe {
        at: at + Duration::from_secs(secs),
        commits,
        delivered,
        pending,
        retrying: 0,
        errors: 0,
    };
    let mut sample = Sample::default();
    let window = Window {
        from: at,
        until: at + Duration::from_secs(2),
    };
    for _ in 0..3_000 {
        sample.success(
            &window,
            at + Duration::from_secs(1),
            Duration::from_micros(5),
        );
    }
    let run = SenderRun {
        sends: Report::new(sample, Duration::from_secs(2)),
        first: probe(1, 10, 100, 7),
        last: probe(3, 110, 4_100, 9),
    };
    assert_eq!(run.delivered_per_second(), 2_000.0);
    assert_eq!(run.commits_per_second(), 50.0);
    // (1,500 acks/s + 2,000 delivered/s) / 50 commits/s.
    assert_eq!(run.ops_per_commit(), Some(70.0));
    let row = Row::of_run("run", &run, Some(1_000.0));
    assert_eq!(row.backlog, Some((7, 9)));
    assert_eq!(row.acks_per_second, Some(1_500.0));
}

#[test]
fn the_table_gives_ratios_to_the_floor_and_the_target_met_or_missed() {
    let row = |run: &'static str, per_second: f64, target: Option<f64>| Row {
        run,
        unit: "delivered",
        per_second,
        acks_per_second: Some(per_second),
        commits_per_second: Some(1_234.0),
        ops_per_commit: Some(40.0),
        backlog: Some((9_990, 10_250)),
        target,
    };
    let rows = [
        row("floor", 80_000.0, None),
        row("durable", 20_000.0, Some(20_000.0)),
        row("memory", 19_999.0, Some(20_000.0)),
    ];
    let table = sender_table(&rows, 80_000.0);
    let line = |name: &str| {
        let row = table.lines().find(|l| l.trim_start().starts_with(name));
        row.unwrap().to_owned()
    };
    assert!(line("floor").contains("1.00"), "{table}");
    assert!(line("floor").ends_with("  -"), "{table}");
    assert!(line("durable").contains("0.25"), "{table}");
    assert!(line("durable").contains(">= 20,000: met"), "{table}");
    assert!(line("durable").contains("9,990 -> 10,250"), "{table}");
    assert!(line("durable").contains("1,234"), "{table}");
    assert!(line("memory").contains(">= 20,000: MISSED"), "{table}");
    assert!(sender_table(&rows, 0.0)
        .lines()
        .nth(1)
        .unwrap()
        .contains(" - "));
    assert_eq!(thousands(1_234_567.4), "1,234,567");
    assert_eq!(thousands(-1.0), "0");
}

/// A durable sender, very briefly: sends are acknowledged and delivered, nothing errs, and
/// its temporary directory is gone afterwards.
#[tokio::test]
async fn a_short_durable_sender_run_delivers() {
    let args = SenderArgs {
        load: LoadArgs {
            clients: 2,
            depth: 4,
            duration: 0.3,
            warmup: 0.1,
            ..parse(&[]).load
        },
        workers: 4,
        backlog: 100,
    };
    let plan = args.check().unwrap();
    let run = run_sender(StoreKind::Redb, &plan, args.workers, Some(args.backlog))
        .await
        .unwrap();
    assert!(run.sends.completed > 0, "{run:?}");
    assert_eq!(run.sends.error_total(), 0, "{run:?}");
    assert!(run.last.delivered > 0, "{run:?}");
    assert_eq!((run.last.retrying, run.last.errors), (0, 0), "{run:?}");
}
