//! What a load run measures: completed requests, every latency, errors by kind; and the report.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// The measuring window of a run: after the warmup, until the end.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Window {
    /// Replies before this are warmup and not counted.
    pub from: Instant,
    /// No request is sent at or after this; replies after it are not counted.
    pub until: Instant,
}

impl Window {
    /// A window that opens `warmup` from now and lasts `duration`.
    pub fn starting_now(warmup: Duration, duration: Duration) -> Window {
        let from = Instant::now() + warmup;
        Window {
            from,
            until: from + duration,
        }
    }

    /// Whether a reply at `at` is counted.
    pub fn counts(&self, at: Instant) -> bool {
        at >= self.from && at <= self.until
    }

    /// Whether a request may still be sent at `at`.
    pub fn open(&self, at: Instant) -> bool {
        at < self.until
    }
}

/// What one load loop (or several, merged) recorded.
#[derive(Debug, Default)]
pub(crate) struct Sample {
    /// The latency of every successful request answered inside the window, in nanoseconds.
    pub latencies_ns: Vec<u64>,
    /// Failed requests by kind of failure, over the whole run (warmup included).
    pub errors: BTreeMap<String, u64>,
}

impl Sample {
    /// Records a successful request answered at `at` after `latency`.
    pub fn success(&mut self, window: &Window, at: Instant, latency: Duration) {
        if window.counts(at) {
            self.latencies_ns
                .push(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX));
        }
    }

    /// Records `count` failures of `kind`.
    pub fn error(&mut self, kind: impl Into<String>, count: u64) {
        *self.errors.entry(kind.into()).or_default() += count;
    }

    /// Adds another sample's figures to this one.
    pub fn merge(&mut self, other: Sample) {
        if self.latencies_ns.is_empty() {
            self.latencies_ns = other.latencies_ns;
        } else {
            self.latencies_ns.extend_from_slice(&other.latencies_ns);
        }
        for (kind, count) in other.errors {
            self.error(kind, count);
        }
    }
}

/// The nearest-rank percentile `p` (0 < p <= 100) of sorted values; `None` when there are none.
pub(crate) fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// The figures of one run.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Report {
    /// Successful requests answered inside the window.
    pub completed: u64,
    /// The window's length.
    pub window: Duration,
    /// Median latency (ns).
    pub p50_ns: Option<u64>,
    /// 99th percentile latency (ns).
    pub p99_ns: Option<u64>,
    /// Largest latency (ns).
    pub max_ns: Option<u64>,
    /// Mean latency (ns).
    pub mean_ns: Option<u64>,
    /// Failures by kind.
    pub errors: BTreeMap<String, u64>,
}

impl Report {
    /// The report of a sample measured over `window`.
    pub fn new(mut sample: Sample, window: Duration) -> Report {
        let latencies = &mut sample.latencies_ns;
        latencies.sort_unstable();
        let mean_ns = (!latencies.is_empty()).then(|| {
            let sum: u128 = latencies.iter().map(|&ns| u128::from(ns)).sum();
            (sum / latencies.len() as u128) as u64
        });
        Report {
            completed: latencies.len() as u64,
            window,
            p50_ns: percentile(latencies, 50.0),
            p99_ns: percentile(latencies, 99.0),
            max_ns: latencies.last().copied(),
            mean_ns,
            errors: sample.errors,
        }
    }

    /// Successful requests per second over the window.
    pub fn per_second(&self) -> f64 {
        self.completed as f64 / self.window.as_secs_f64()
    }

    /// Every failure, whatever its kind.
    pub fn error_total(&self) -> u64 {
        self.errors.values().sum()
    }

    /// The errors as one line: `none`, or `3 timeout, 1 connection lost`.
    pub fn errors_line(&self) -> String {
        if self.errors.is_empty() {
            return "none".to_owned();
        }
        let parts: Vec<String> = self
            .errors
            .iter()
            .map(|(kind, count)| format!("{count} {kind}"))
            .collect();
        parts.join(", ")
    }

    /// The figures as indented lines, under a title line printed by the caller.
    pub fn lines(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "  requests     {} in {:.1} s = {:.0} requests/s",
            self.completed,
            self.window.as_secs_f64(),
            self.per_second()
        );
        let _ = writeln!(
            out,
            "  latency      p50 {}   p99 {}   max {}   mean {}",
            human_ns(self.p50_ns),
            human_ns(self.p99_ns),
            human_ns(self.max_ns),
            human_ns(self.mean_ns)
        );
        let _ = writeln!(out, "  errors       {}", self.errors_line());
        out
    }
}

/// A latency for people: `38.2 µs`, `1.25 ms`, `2.001 s`, or `-` when there is none.
pub(crate) fn human_ns(ns: Option<u64>) -> String {
    match ns {
        None => "-".to_owned(),
        Some(ns) if ns < 1_000_000 => format!("{:.1} µs", ns as f64 / 1e3),
        Some(ns) if ns < 1_000_000_000 => format!("{:.2} ms", ns as f64 / 1e6),
        Some(ns) => format!("{:.3} s", ns as f64 / 1e9),
    }
}

/// A count for people: `1,234,567`.
pub(super) fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&values, 50.0), Some(50));
        assert_eq!(percentile(&values, 99.0), Some(99));
        assert_eq!(percentile(&values, 100.0), Some(100));
        assert_eq!(percentile(&values, 0.1), Some(1));
        assert_eq!(percentile(&[7], 50.0), Some(7));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile(&[1, 2], 50.0), Some(1));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn a_report_merges_samples_and_counts_only_the_window() {
        let start = Instant::now();
        let window = Window {
            from: start + Duration::from_secs(1),
            until: start + Duration::from_secs(3),
        };
        let mut a = Sample::default();
        a.success(&window, start, Duration::from_micros(999)); // warmup
        a.success(
            &window,
            start + Duration::from_secs(2),
            Duration::from_micros(30),
        );
        a.error("timeout", 1);
        let mut b = Sample::default();
        b.success(
            &window,
            start + Duration::from_secs(2),
            Duration::from_micros(10),
        );
        b.success(
            &window,
            start + Duration::from_secs(2),
            Duration::from_micros(20),
        );
        b.success(
            &window,
            start + Duration::from_secs(4),
            Duration::from_micros(999),
        ); // after
        b.error("timeout", 2);
        b.error("connection lost", 1);
        a.merge(b);
        let report = Report::new(a, Duration::from_secs(2));
        assert_eq!(report.completed, 3);
        assert_eq!(report.per_second(), 1.5);
        assert_eq!(report.p50_ns, Some(20_000));
        assert_eq!(report.max_ns, Some(30_000));
        assert_eq!(report.mean_ns, Some(20_000));
        assert_eq!(report.error_total(), 4);
        assert_eq!(report.errors_line(), "1 connection lost, 3 timeout");
    }

    #[test]
    fn latencies_print_in_a_readable_unit() {
        assert_eq!(human_ns(None), "-");
        assert_eq!(human_ns(Some(38_240)), "38.2 µs");
        assert_eq!(human_ns(Some(1_250_000)), "1.25 ms");
        assert_eq!(human_ns(Some(2_001_000_000)), "2.001 s");
    }
}
