//! Guards that counters and gauges lose no update when many threads record at once.

use std::thread;

use super::StatsRegistry;

const THREADS: usize = 8;
const PER_THREAD: u64 = 10_000;

#[test]
fn counter_counts_exactly_across_threads() {
    let stats = StatsRegistry::new();
    let counter = stats.counter("requests.total", &[]);
    thread::scope(|scope| {
        for _ in 0..THREADS {
            let counter = counter.clone();
            scope.spawn(move || {
                for _ in 0..PER_THREAD {
                    counter.inc();
                }
            });
        }
    });
    assert_eq!(counter.get(), 80_000);
    assert_eq!(
        stats.snapshot().counter("requests.total", &[]),
        Some(80_000)
    );
}

#[test]
fn counter_add_adds() {
    let counter = StatsRegistry::new().counter("bytes.written", &[]);
    counter.add(40);
    counter.add(2);
    counter.inc();
    assert_eq!(counter.get(), 43);
}

#[test]
fn gauge_moves_both_ways_and_set_replaces() {
    let gauge = StatsRegistry::new().gauge("connections.open", &[]);
    gauge.inc();
    gauge.inc();
    gauge.dec();
    assert_eq!(gauge.get(), 1);
    gauge.add(-5);
    assert_eq!(gauge.get(), -4);
    gauge.set(17);
    assert_eq!(gauge.get(), 17);
}

#[test]
fn gauge_is_exact_across_threads() {
    let gauge = StatsRegistry::new().gauge("mailbox.queued", &[]);
    thread::scope(|scope| {
        for _ in 0..THREADS {
            let gauge = gauge.clone();
            scope.spawn(move || {
                for _ in 0..PER_THREAD {
                    gauge.inc();
                }
                for _ in 0..PER_THREAD / 2 {
                    gauge.dec();
                }
            });
        }
    });
    assert_eq!(gauge.get(), 40_000);
}
