//! Where a cache actor reads the time: the system clock, or one a test moves by hand.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A source of the current instant.
///
/// The cache actor holds one as a trait object, so a test can hand it a [`ManualClock`] and
/// check expiry without sleeping. Any `Fn() -> Instant + Send` closure (such as
/// `Instant::now`) is a clock too.
pub trait Clock: Send + 'static {
    /// The current instant.
    fn now(&self) -> Instant;
}

impl<F: Fn() -> Instant + Send + 'static> Clock for F {
    fn now(&self) -> Instant {
        self()
    }
}

/// The real time: [`Instant::now`]. What caches use unless told otherwise.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that stands still until [`advance`](Self::advance)d; clones share the same time, so a
/// test keeps one clone and gives the other to the cache.
///
/// ```
/// use std::time::Duration;
/// use hubwire_actors::cache::{Clock, ManualClock};
///
/// let clock = ManualClock::new();
/// let given_to_the_cache = clock.clone();
/// let before = given_to_the_cache.now();
/// clock.advance(Duration::from_secs(5));
/// assert_eq!(given_to_the_cache.now() - before, Duration::from_secs(5));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    start: Instant,
    /// Nanoseconds past `start`; an atomic, so the test and the actor's thread share it without a
    /// lock.
    elapsed_nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock at the current real instant, standing still.
    pub fn new() -> Self {
        ManualClock {
            start: Instant::now(),
            elapsed_nanos: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Moves the time (of every clone) forward by `by`.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .elapsed_nanos
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                Some(n.saturating_add(nanos))
            });
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + Duration::from_nanos(self.elapsed_nanos.load(Ordering::Acquire))
    }
}
