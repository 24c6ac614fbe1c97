//! Guards the histogram's promises: exact count, sum and extremes, and percentiles within
//! `MAX_RELATIVE_ERROR` of the exact nearest-rank values.

use std::thread;
use std::time::Duration;

use proptest::prelude::*;

use super::{Histogram, HistogramSummary, StatsRegistry, MAX_RELATIVE_ERROR, MAX_TRACKED_MICROS};

fn histogram() -> Histogram {
    StatsRegistry::new().histogram("requests.latency", &[])
}

/// The exact nearest-rank percentile of sorted `values`, ranked as the histogram ranks.
fn exact_percentile(sorted: &[u64], q: f64) -> u64 {
    let count = sorted.len() as u64;
    let rank = ((q * count as f64).ceil() as u64).clamp(1, count);
    sorted[rank as usize - 1]
}

fn within_error(reported: u64, exact: u64) -> bool {
    (reported as f64 - exact as f64).abs() <= exact as f64 * MAX_RELATIVE_ERROR
}

#[test]
fn empty_histogram_reports_zeros() {
    let histogram = histogram();
    assert_eq!(histogram.summary(), HistogramSummary::default());
    assert_eq!(histogram.percentile_micros(0.5), 0);
    assert_eq!(histogram.percentile_micros(1.0), 0);
}

#[test]
fn percentiles_of_a_uniform_spread_are_within_the_relative_error() {
    let histogram = histogram();
    for micros in 1..=100_000 {
        histogram.record_micros(micros);
    }
    let summary = histogram.summary();
    assert_eq!(summary.count, 100_000);
    assert_eq!(summary.sum_micros, 100_000 * 100_001 / 2);
    assert_eq!((summary.min_micros, summary.max_micros), (1, 100_000));
    for (reported, exact) in [
        (summary.p50_micros, 50_000),
        (summary.p95_micros, 95_000),
        (summary.p99_micros, 99_000),
        (histogram.percentile_micros(0.999), 99_900),
    ] {
        assert!(within_error(reported, exact), "{reported} vs {exact}");
    }
}

#[test]
fn small_latencies_are_reported_exactly() {
    let histogram = histogram();
    for micros in [3, 3, 7, 9, 30] {
        histogram.record_micros(micros);
    }
    let summary = histogram.summary();
    assert_eq!((summary.p50_micros, summary.p95_micros), (7, 30));
}

#[test]
fn durations_are_recorded_in_whole_microseconds() {
    let histogram = histogram();
    histogram.record(Duration::from_nanos(1_999));
    histogram.record(Duration::MAX);
    let summary = histogram.summary();
    assert_eq!((summary.min_micros, summary.max_micros), (1, u64::MAX));
}

#[test]
fn latencies_past_the_tracked_range_keep_the_exact_maximum() {
    let histogram = histogram();
    let hours = 5 * 3_600 * 1_000_000;
    histogram.record_micros(hours);
    let summary = histogram.summary();
    assert!(hours > MAX_TRACKED_MICROS);
    assert_eq!(
        (summary.count, summary.sum_micros, summary.max_micros),
        (1, hours, hours)
    );
    assert_eq!(summary.p99_micros, hours, "a single value clamps to itself");
}

#[test]
fn recordings_from_many_threads_are_all_counted() {
    let histogram = histogram();
    thread::scope(|scope| {
        for thread in 0..8u64 {
            let histogram = histogram.clone();
            scope.spawn(move || {
                for micros in 1..=1_000 {
                    histogram.record_micros(micros * (thread + 1));
                }
            });
        }
    });
    let summary = histogram.summary();
    assert_eq!(summary.count, 8_000);
    assert_eq!(summary.sum_micros, 500_500 * (1..=8).sum::<u64>());
    assert_eq!((summary.min_micros, summary.max_micros), (1, 8_000));
}

#[test]
fn timer_records_once_when_stopped_and_once_when_dropped() {
    let histogram = histogram();
    let elapsed = histogram.start_timer().stop();
    {
        let _timer = histogram.start_timer();
    }
    let summary = histogram.summary();
    assert_eq!(summary.count, 2);
    assert!(summary.sum_micros >= elapsed.as_micros() as u64);
}

/// Latencies spread over every power of two up to the tracked range, as real latencies are.
fn latency() -> impl Strategy<Value = u64> {
    (0u32..=32, any::<u64>()).prop_map(|(bits, random)| random & ((1u64 << bits) - 1))
}

proptest! {
    #[test]
    fn percentiles_are_within_the_relative_error_and_totals_exact(
        mut latencies in prop::collection::vec(latency(), 1..500)
    ) {
        let histogram = histogram();
        for &micros in &latencies {
            histogram.record_micros(micros);
        }
        latencies.sort_unstable();
        let summary = histogram.summary();

        prop_assert_eq!(summary.count, latencies.len() as u64);
        prop_assert_eq!(summary.sum_micros, latencies.iter().sum::<u64>());
        prop_assert_eq!(summary.min_micros, latencies[0]);
        prop_assert_eq!(summary.max_micros, *latencies.last().unwrap());
        for (q, reported) in [
            (0.50, summary.p50_micros),
            (0.95, summary.p95_micros),
            (0.99, summary.p99_micros),
        ] {
            let exact = exact_percentile(&latencies, q);
            prop_assert!(within_error(reported, exact), "p{}: {} vs {}", q * 100.0, reported, exact);
        }
    }
}
