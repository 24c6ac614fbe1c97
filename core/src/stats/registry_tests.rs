//! Guards that the registry hands out one series per name and labels, reports every series in
//! a stable order, and stays bounded.

use super::{HistogramSummary, StatsRegistry, MAX_SERIES};

const ROLL: &[(&str, &str)] = &[("route", "dice.roll")];
const FLIP: &[(&str, &str)] = &[("route", "coin.flip")];

fn assert_send_sync_clone<T: Send + Sync + Clone>() {}

#[test]
fn registry_and_handles_are_shareable_between_threads() {
    assert_send_sync_clone::<StatsRegistry>();
    assert_send_sync_clone::<super::Counter>();
    assert_send_sync_clone::<super::Gauge>();
    assert_send_sync_clone::<super::Histogram>();
}

#[test]
fn same_name_and_labels_return_the_same_series() {
    let stats = StatsRegistry::new();
    stats.counter("requests.total", ROLL).inc();
    stats.clone().counter("requests.total", ROLL).inc();
    stats.gauge("connections.open", &[]).set(3);
    stats.histogram("requests.latency", ROLL).record_micros(10);
    stats.histogram("requests.latency", ROLL).record_micros(20);

    assert_eq!(stats.counter("requests.total", ROLL).get(), 2);
    assert_eq!(stats.gauge("connections.open", &[]).get(), 3);
    assert_eq!(stats.histogram("requests.latency", ROLL).summary().count, 2);
}

#[test]
fn label_order_does_not_matter() {
    let stats = StatsRegistry::new();
    stats
        .counter(
            "errors.total",
            &[("route", "dice.roll"), ("code", "timeout")],
        )
        .inc();
    let same = stats.counter(
        "errors.total",
        &[("code", "timeout"), ("route", "dice.roll")],
    );
    assert_eq!(same.get(), 1);
}

#[test]
fn different_labels_return_different_series() {
    let stats = StatsRegistry::new();
    stats.counter("requests.total", ROLL).add(5);
    stats.counter("requests.total", FLIP).inc();
    stats.counter("requests.total", &[]).add(7);

    assert_eq!(stats.counter("requests.total", ROLL).get(), 5);
    assert_eq!(stats.counter("requests.total", FLIP).get(), 1);
    assert_eq!(stats.counter("requests.total", &[]).get(), 7);
}

#[test]
fn snapshot_lists_series_sorted_by_name_then_labels() {
    let stats = StatsRegistry::new();
    stats.counter("requests.total", ROLL).inc();
    stats.counter("frames.dropped", &[]).add(2);
    stats.counter("requests.total", FLIP).add(3);
    stats
        .gauge("connections.open", &[("transport", "tcp")])
        .set(-1);

    let snapshot = stats.snapshot();
    let order: Vec<_> = snapshot
        .counters
        .iter()
        .map(|s| {
            (
                s.name.as_str(),
                s.labels.get("route").map(String::as_str),
                s.value,
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            ("frames.dropped", None, 2),
            ("requests.total", Some("coin.flip"), 3),
            ("requests.total", Some("dice.roll"), 1),
        ]
    );
    assert_eq!(
        snapshot.gauge("connections.open", &[("transport", "tcp")]),
        Some(-1)
    );
}

#[test]
fn snapshot_lookups_miss_unknown_series() {
    let stats = StatsRegistry::new();
    stats.counter("requests.total", ROLL).inc();
    let snapshot = stats.snapshot();
    assert_eq!(snapshot.counter("requests.total", FLIP), None);
    assert_eq!(snapshot.counter("requests.total", &[]), None);
    assert_eq!(snapshot.gauge("requests.total", ROLL), None);
    assert_eq!(snapshot.histogram("requests.latency", ROLL), None);
}

#[test]
fn snapshot_serializes_as_plain_data() {
    let stats = StatsRegistry::new();
    stats.counter("requests.total", ROLL).inc();
    stats.histogram("requests.latency", ROLL).record_micros(250);
    let json = serde_json::to_value(stats.snapshot()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "counters": [{"name": "requests.total", "labels": {"route": "dice.roll"}, "value": 1}],
            "gauges": [],
            "histograms": [{
                "name": "requests.latency",
                "labels": {"route": "dice.roll"},
                "value": {
                    "count": 1, "sum_micros": 250, "min_micros": 250, "max_micros": 250,
                    "p50_micros": 250, "p95_micros": 250, "p99_micros": 250
                }
            }]
        })
    );
    let back: super::StatsSnapshot = serde_json::from_value(json).unwrap();
    assert_eq!(back, stats.snapshot());
}

#[test]
fn registered_but_unrecorded_histogram_reports_zeros() {
    let stats = StatsRegistry::new();
    stats.histogram("requests.latency", &[]);
    let summary = stats.snapshot().histogram("requests.latency", &[]);
    assert_eq!(summary, Some(HistogramSummary::default()));
}

#[test]
#[should_panic(expected = "is a Counter, asked for as a Gauge")]
fn one_name_cannot_be_two_kinds() {
    let stats = StatsRegistry::new();
    stats.counter("requests.total", ROLL);
    stats.gauge("requests.total", FLIP);
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "is not dotted")]
fn names_outside_the_convention_fail_in_debug_builds() {
    StatsRegistry::new().counter("Requests-Total", &[]);
}

#[test]
fn series_past_the_bound_still_record_but_are_not_reported() {
    let stats = StatsRegistry::new();
    for n in 0..MAX_SERIES {
        stats.counter("requests.total", &[("n", &n.to_string())]);
    }
    let extra = stats.counter("requests.total", &[("n", "extra")]);
    extra.inc();
    assert_eq!(extra.get(), 1);
    let snapshot = stats.snapshot();
    assert_eq!(snapshot.counters.len(), MAX_SERIES);
    assert_eq!(snapshot.counter("requests.total", &[("n", "extra")]), None);
    // Series registered before the bound was hit are still the same series.
    stats.counter("requests.total", &[("n", "0")]).inc();
    assert_eq!(
        stats.snapshot().counter("requests.total", &[("n", "0")]),
        Some(1)
    );
}
