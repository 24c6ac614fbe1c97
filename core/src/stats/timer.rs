//! A [`Timer`] that records how long a piece of work took.

use std::fmt;
use std::time::{Duration, Instant};

use super::histogram::Histogram;

/// Measures from its start until [`stop`](Self::stop) or drop, then records into a
/// [`Histogram`]. Recording on drop means early returns (`?`) and panics are timed too, so the
/// errors' latencies are not missing from the figures.
#[must_use = "a timer dropped at once records a latency of about zero"]
pub struct Timer {
    histogram: Histogram,
    started: Instant,
    /// Set by `stop`, so the drop that follows does not record a second time.
    recorded: bool,
}

impl Timer {
    /// Starts timing now.
    pub(crate) fn start(histogram: Histogram) -> Self {
        Timer {
            histogram,
            started: Instant::now(),
            recorded: false,
        }
    }

    /// Records the time since the start and returns it.
    pub fn stop(mut self) -> Duration {
        self.record()
    }

    fn record(&mut self) -> Duration {
        let elapsed = self.started.elapsed();
        self.histogram.record(elapsed);
        self.recorded = true;
        elapsed
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if !self.recorded {
            self.record();
        }
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("elapsed", &self.started.elapsed())
            .finish()
    }
}
