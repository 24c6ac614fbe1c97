//! [`StatsSnapshot`]: every series' figures at one moment, as a plain serializable value.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::histogram::HistogramSummary;

/// A series' labels, sorted by key: `{"route": "dice.roll"}`. A map, so the order labels are
/// given in does not matter and a key given twice keeps its last value.
pub type Labels = BTreeMap<String, String>;

/// `[("route", "dice.roll")]` as [`Labels`].
pub(crate) fn labels_from(labels: &[(&str, &str)]) -> Labels {
    labels
        .iter()
        .map(|&(key, value)| (key.to_owned(), value.to_owned()))
        .collect()
}

/// One series' figure: a counter's total, a gauge's level or a histogram's summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample<V> {
    /// The dotted series name, like `requests.errors`.
    pub name: String,
    /// The labels telling this series from others of the same name.
    pub labels: Labels,
    /// The figure.
    pub value: V,
}

/// Every series in a [`StatsRegistry`](super::StatsRegistry), read at one moment, each list
/// sorted by name then labels so two snapshots line up and diff cleanly.
///
/// Each series is read on its own, so figures recorded during the snapshot may show in some
/// series and not others.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsSnapshot {
    /// Counter totals.
    pub counters: Vec<Sample<u64>>,
    /// Gauge levels.
    pub gauges: Vec<Sample<i64>>,
    /// Histogram summaries, latencies in microseconds.
    pub histograms: Vec<Sample<HistogramSummary>>,
}

impl StatsSnapshot {
    /// The total of counter `name` with exactly these `labels`, if it was registered.
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> Option<u64> {
        find(&self.counters, name, labels)
    }

    /// The level of gauge `name` with exactly these `labels`, if it was registered.
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> Option<i64> {
        find(&self.gauges, name, labels)
    }

    /// The summary of histogram `name` with exactly these `labels`, if it was registered.
    pub fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Option<HistogramSummary> {
        find(&self.histograms, name, labels)
    }
}

/// A linear search rather than a binary one, so a snapshot deserialized from elsewhere need
/// not be sorted; snapshots hold hundreds of series, not millions.
fn find<V: Copy>(samples: &[Sample<V>], name: &str, labels: &[(&str, &str)]) -> Option<V> {
    let labels = labels_from(labels);
    samples
        .iter()
        .find(|sample| sample.name == name && sample.labels == labels)
        .map(|sample| sample.value)
}
