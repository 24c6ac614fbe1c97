//! How replies are shown to a person at a terminal: `hubwire stats` as a table of the figures
//! that are not zero, times as dates, and what an operation did in words. `--json` prints the
//! endpoint's reply unchanged instead, for scripts.

use std::fmt::Write;
use std::time::{Duration, UNIX_EPOCH};

use serde_json::{Map, Value};

/// How a command prints a successful reply.
pub enum Show {
    /// The reply as JSON, unchanged.
    Json,
    /// The reply (as JSON) turned into text for a person.
    Text(Box<dyn FnOnce(Value) -> String + Send>),
}

impl std::fmt::Debug for Show {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Show::Json => "Json",
            Show::Text(_) => "Text",
        })
    }
}

/// `hubwire.stats` as a table: a heading, then counters, gauges, latencies and queues, each
/// only with its series that are not zero (a section with none is left out).
pub fn stats_table(stats: &Value) -> String {
    let mut out = String::new();
    let app = stats["app"].as_str().unwrap_or("?");
    let instance = stats["instance"].as_str().unwrap_or("?");
    let _ = write!(out, "{app} (instance {instance})");
    if let Some(ms) = stats["uptime_ms"].as_u64() {
        let up = humantime::format_duration(Duration::from_secs(ms / 1000));
        let _ = write!(out, ", up {up}");
    }
    out.push('\n');
    for (kind, title) in [("counters", "counter"), ("gauges", "gauge")] {
        let rows: Vec<Vec<String>> = series(stats, kind)
            .filter_map(|(name, value)| match value.as_i64() {
                Some(0) | None => None,
                Some(n) => Some(vec![name, n.to_string()]),
            })
            .collect();
        table(&mut out, &[title, "value"], rows);
    }
    let rows: Vec<Vec<String>> = series(stats, "histograms")
        .filter(|(_, h)| h["count"].as_u64().unwrap_or(0) > 0)
        .map(|(name, h)| {
            let mut row = vec![name];
            for field in [
                "count",
                "p50_micros",
                "p95_micros",
                "p99_micros",
                "max_micros",
            ] {
                row.push(h[field].as_u64().unwrap_or(0).to_string());
            }
            row
        })
        .collect();
    table(
        &mut out,
        &["latency (µs)", "count", "p50", "p95", "p99", "max"],
        rows,
    );
    for (field, title) in [("queues", "queue"), ("senders", "sender")] {
        let Some(queues) = stats[field].as_object() else {
            continue;
        };
        let rows = queues
            .iter()
            .map(|(name, q)| {
                let paused = |half: &str| q["pause"][half].as_bool().unwrap_or(false);
                let pause = match (paused("receiving_paused"), paused("processing_paused")) {
                    (true, true) => "receiving, processing",
                    (true, false) => "receiving",
                    (false, true) => "processing",
                    (false, false) => "-",
                };
                let mut row = vec![name.clone()];
                for figure in ["pending", "retrying", "errors", "processed", "failed"] {
                    row.push(q[figure].as_u64().unwrap_or(0).to_string());
                }
                row.push(pause.to_string());
                row
            })
            .collect();
        table(
            &mut out,
            &[
                title,
                "pending",
                "retrying",
                "errors",
                "processed",
                "failed",
                "paused",
            ],
            rows,
        );
    }
    out
}

/// The series of one kind as (`name{label=value,...}`, value).
fn series<'a>(stats: &'a Value, kind: &str) -> impl Iterator<Item = (String, &'a Value)> {
    let list = stats["stats"][kind].as_array().map(Vec::as_slice);
    list.unwrap_or_default().iter().map(|entry| {
        let mut name = entry["name"].as_str().unwrap_or("?").to_string();
        if let Some(labels) = entry["labels"].as_object().filter(|l| !l.is_empty()) {
            let labels: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("?")))
                .collect();
            let _ = write!(name, "{{{}}}", labels.join(","));
        }
        (name, &entry["value"])
    })
}

/// Appends a blank line and a table: the first column left-aligned, numbers right-aligned.
fn table(out: &mut String, header: &[&str], rows: Vec<Vec<String>>) {
    if rows.is_empty() {
        return;
    }
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    out.push('\n');
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
            let pad = width - cell.chars().count();
            match i {
                0 => line.push_str(&format!("{cell}{}", " ".repeat(pad))),
                _ => line.push_str(&format!("  {}{cell}", " ".repeat(pad))),
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// The reply with every time in milliseconds since the epoch (`at_ms`, `..._at_ms`) shown as a
/// date instead (`at`, `..._at`: RFC 3339, UTC, milliseconds).
pub fn with_dates(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(
                    |(key, value)| match (key.strip_suffix("_ms"), value.as_u64()) {
                        (Some(stem), Some(ms)) if stem == "at" || stem.ends_with("_at") => {
                            (stem.to_string(), Value::String(date(ms)))
                        }
                        _ => (key, with_dates(value)),
                    },
                )
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(with_dates).collect()),
        other => other,
    }
}

/// Milliseconds since the epoch as an RFC 3339 date in UTC.
fn date(ms: u64) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn times_since_the_epoch_become_dates_at_any_depth() {
        let reply = json!({
            "id": 4,
            "enqueued_at_ms": 1718000000100u64,
            "errors": [{"at_ms": 1718000000120u64, "message": "no"}],
            "timeout_ms": 5000,
        });
        assert_eq!(
            with_dates(reply),
            json!({
                "id": 4,
                "enqueued_at": "2024-06-10T06:13:20.100Z",
                "errors": [{"at": "2024-06-10T06:13:20.120Z", "message": "no"}],
                "timeout_ms": 5000,
            })
        );
    }

    #[test]
    fn the_stats_table_shows_only_figures_that_are_not_zero() {
        let stats = json!({
            "app": "dice", "instance": "main", "uptime_ms": 125_000,
            "stats": {
                "counters": [
                    {"name": "requests.succeeded", "labels": {"route": "dice.roll"}, "value": 12},
                    {"name": "requests.failed", "labels": {"route": "dice.roll"}, "value": 0},
                ],
                "gauges": [{"name": "connections.open", "labels": {"transport": "tcp"}, "value": 0}],
                "histograms": [
                    {"name": "requests.latency", "labels": {"route": "dice.roll"},
                     "value": {"count": 12, "p50_micros": 20, "p95_micros": 31, "p99_micros": 40, "max_micros": 41}},
                    {"name": "requests.latency", "labels": {"route": "dice.guess"},
                     "value": {"count": 0, "p50_micros": 0, "p95_micros": 0, "p99_micros": 0, "max_micros": 0}},
                ],
            },
            "queues": {"dice.roll_times": {"pending": 1, "retrying": 0, "errors": 2,
                "pause": {"receiving_paused": true, "processing_paused": false},
                "processed": 10, "failed": 2}},
        });
        let text = stats_table(&stats);
        let expected = "\
dice (instance main), up 2m 5s

counter                              value
requests.succeeded{route=dice.roll}     12

latency (µs)                       count  p50  p95  p99  max
requests.latency{route=dice.roll}     12   20   31   40   41

queue            pending  retrying  errors  processed  failed     paused
dice.roll_times        1         0       2         10       2  receiving
";
        assert_eq!(text, expected);
    }
}
