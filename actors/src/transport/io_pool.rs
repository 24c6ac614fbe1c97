//! The I/O threads that connections (and, by default, handlers) run on.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix::{Arbiter, ArbiterHandle};
use hubwire_core::stats::StatsRegistry;

use super::idle_spin::{idle_spin, SpinStats};

/// A fixed set of actix arbiters (one thread each), handed out round-robin.
#[derive(Debug)]
pub struct IoPool {
    arbiters: Vec<Arbiter>,
    next: AtomicUsize,
}

impl IoPool {
    /// Starts `threads` arbiters (at least one). Must be called inside an actix system.
    pub fn start(threads: usize) -> IoPool {
        IoPool {
            arbiters: (0..threads.max(1)).map(|_| Arbiter::new()).collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// Makes every thread keep polling its sockets for `window` after each read (`io_spin_us`;
    /// zero: not at all), counting what it costs in `registry`.
    pub fn spin_after_reads(&self, window: Duration, registry: &StatsRegistry) {
        if window.is_zero() {
            return;
        }
        let stats = SpinStats::new(registry);
        for arbiter in &self.arbiters {
            arbiter.spawn(idle_spin(window, stats.clone()));
        }
    }

    /// The next arbiter in turn.
    pub fn pick(&self) -> ArbiterHandle {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.arbiters.len();
        self.arbiters[i].handle()
    }

    /// Handles of every arbiter, for actors that spread work themselves.
    pub fn handles(&self) -> Vec<ArbiterHandle> {
        self.arbiters.iter().map(Arbiter::handle).collect()
    }

    /// Stops every arbiter: the actors on them are dropped and their sockets closed.
    pub fn stop(&self) {
        for arbiter in &self.arbiters {
            arbiter.stop();
        }
    }
}

impl Drop for IoPool {
    fn drop(&mut self) {
        self.stop();
    }
}
