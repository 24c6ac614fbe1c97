//! [`StatsRegistry`]: where every part of the system registers its series and where the stats
//! endpoint reads them all.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::counter::{Counter, Gauge};
use super::histogram::Histogram;
use super::naming::{is_valid_label_key, is_valid_name};
use super::snapshot::{labels_from, Labels, Sample, StatsSnapshot};

/// Series kept at most. Each label combination is a series kept for the registry's life, so a
/// label fed from unbounded input (peer addresses, unknown route keys) would otherwise grow
/// memory without limit; past this, new series still work but are not reported.
pub const MAX_SERIES: usize = 4096;

/// A series' identity: its name and labels. Ordered, so snapshots come out sorted.
type SeriesKey = (String, Labels);

/// The kinds of series; one name is one kind, whatever its labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// The registered series. Behind one mutex, taken only to register or to snapshot; recording
/// goes through the handles and never touches it.
#[derive(Default)]
struct Tables {
    /// The kind each name was first registered as, so asking for `requests.total` as a gauge
    /// after registering it as a counter fails whatever the labels.
    kinds: BTreeMap<String, Kind>,
    counters: BTreeMap<SeriesKey, Counter>,
    gauges: BTreeMap<SeriesKey, Gauge>,
    histograms: BTreeMap<SeriesKey, Histogram>,
    /// Set once a series has been turned away for [`MAX_SERIES`], so the warning is logged once.
    overflow_warned: bool,
}

impl Tables {
    fn len(&self) -> usize {
        self.counters.len() + self.gauges.len() + self.histograms.len()
    }
}

/// The set of series for one hubwire process (or one test): counters, gauges and histograms,
/// each a name plus labels.
///
/// Clones share the same series, so hand a clone to each part that records. Asking twice for
/// the same name and labels returns handles to the same series. Looking a series up takes a
/// lock and allocates, so look it up once and keep the handle; recording through the handle is
/// lock-free and does not contend between threads.
///
/// # Panics
/// Asking for a name as one kind (say a gauge) after it was registered as another (a counter)
/// panics: that is a programming error and no label value can make it right. Debug builds also
/// panic on names and label keys outside the [naming convention](super#naming).
#[derive(Clone, Default)]
pub struct StatsRegistry {
    tables: Arc<Mutex<Tables>>,
}

impl StatsRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// The counter `name` with `labels`, registered at zero on first request.
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> Counter {
        self.series(
            Kind::Counter,
            name,
            labels,
            |t| &mut t.counters,
            Counter::new,
        )
    }

    /// The gauge `name` with `labels`, registered at zero on first request.
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> Gauge {
        self.series(Kind::Gauge, name, labels, |t| &mut t.gauges, Gauge::new)
    }

    /// The latency histogram `name` with `labels`, registered empty on first request.
    pub fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Histogram {
        self.series(
            Kind::Histogram,
            name,
            labels,
            |t| &mut t.histograms,
            Histogram::new,
        )
    }

    /// Every series' current figure, sorted by name then labels.
    pub fn snapshot(&self) -> StatsSnapshot {
        let tables = self.lock();
        StatsSnapshot {
            counters: samples(&tables.counters, Counter::get),
            gauges: samples(&tables.gauges, Gauge::get),
            histograms: samples(&tables.histograms, Histogram::summary),
        }
    }

    /// The series of `kind` found (or made) in the table `table` picks.
    fn series<S: Clone>(
        &self,
        kind: Kind,
        name: &str,
        labels: &[(&str, &str)],
        table: fn(&mut Tables) -> &mut BTreeMap<SeriesKey, S>,
        new: fn() -> S,
    ) -> S {
        debug_assert!(
            is_valid_name(name),
            "stats series name `{name}` is not dotted [a-z0-9_] segments"
        );
        debug_assert!(
            labels.iter().all(|(key, _)| is_valid_label_key(key)),
            "stats series `{name}` has a label key outside [a-z0-9_]: {labels:?}"
        );
        let mut tables = self.lock();
        if let Some(&registered) = tables.kinds.get(name) {
            if registered != kind {
                drop(tables); // so the panic does not poison the lock
                panic!("stats series `{name}` is a {registered:?}, asked for as a {kind:?}");
            }
        }
        let key = (name.to_owned(), labels_from(labels));
        if let Some(existing) = table(&mut tables).get(&key) {
            return existing.clone();
        }
        if tables.len() >= MAX_SERIES {
            if !tables.overflow_warned {
                tables.overflow_warned = true;
                tracing::warn!(
                    series = name,
                    ?labels,
                    max = MAX_SERIES,
                    "stats registry full; new series are recorded but not reported"
                );
            }
            return new();
        }
        tables.kinds.insert(name.to_owned(), kind);
        let series = new();
        table(&mut tables).insert(key, series.clone());
        series
    }

    fn lock(&self) -> MutexGuard<'_, Tables> {
        // The tables stay consistent even if a panic interrupted a holder: every change is a
        // single insert.
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for StatsRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatsRegistry")
            .field("series", &self.lock().len())
            .finish()
    }
}

/// One sample per series of a table, in the table's (sorted) order.
fn samples<S, V>(table: &BTreeMap<SeriesKey, S>, read: fn(&S) -> V) -> Vec<Sample<V>> {
    table
        .iter()
        .map(|((name, labels), series)| Sample {
            name: name.clone(),
            labels: labels.clone(),
            value: read(series),
        })
        .collect()
}
