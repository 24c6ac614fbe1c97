//! An I/O thread's idle spin (`io_spin_us`): after a read, the thread keeps polling its
//! sockets without sleeping until the window passes with no read, so the next message finds
//! it awake. A task on the thread yields to tokio over and over; each yield makes the runtime
//! poll its sockets without blocking, and run whatever they woke, before the task goes on.

use std::future::poll_fn;
use std::time::{Duration, Instant};

use hubwire_core::stats::{Counter, StatsRegistry};
use hubwire_core::stream::activity::{self, SpinWindow};

/// What the spins cost, for `hubwire.stats`.
#[derive(Clone)]
pub(crate) struct SpinStats {
    spins: Counter,
    spun_us: Counter,
}

impl SpinStats {
    pub(crate) fn new(registry: &StatsRegistry) -> SpinStats {
        SpinStats {
            spins: registry.counter("io.spins", &[]),
            spun_us: registry.counter("io.spin_us", &[]),
        }
    }
}

/// Runs on one I/O thread for as long as it lives: waits for a read, spins, and again.
pub(crate) async fn idle_spin(window: Duration, stats: SpinStats) {
    loop {
        let seen = activity::reads();
        poll_fn(|cx| activity::poll_read_after(seen, cx)).await;
        let started = Instant::now();
        let mut spin = SpinWindow::start(window, activity::reads(), started);
        while spin.keep_spinning(activity::reads(), Instant::now()) {
            // Whatever else is runnable on this CPU goes first (the peer this thread waits
            // for, say): a spin must never delay the work it waits for.
            std::thread::yield_now();
            tokio::task::yield_now().await;
        }
        stats.spins.inc();
        stats.spun_us.add(started.elapsed().as_micros() as u64);
    }
}
