//! [`FailureThrottle`]: an address that keeps failing to authenticate waits longer and longer
//! before its next attempt is even checked. The table is bounded: past `addresses` entries the
//! least recently failing address is forgotten (an attacker spreading over many addresses is
//! bounded by `max_connections_per_listener` instead).

use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use lru::LruCache;

/// How failures are slowed down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottleLimits {
    /// The delay after the first failure; it doubles with each further one.
    pub base: Duration,
    /// The longest delay.
    pub max: Duration,
    /// Addresses remembered at most.
    pub addresses: usize,
    /// A failing address is forgotten after this long without a failure.
    pub forget_after: Duration,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        ThrottleLimits {
            base: Duration::from_millis(100),
            max: Duration::from_secs(10),
            addresses: 10_000,
            forget_after: Duration::from_secs(600),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Record {
    failures: u32,
    last_failure: Instant,
    /// No attempt from the address is checked before this.
    not_before: Instant,
}

/// Failures per address and the delay they earn. Time comes from the caller.
#[derive(Debug)]
pub struct FailureThrottle {
    limits: ThrottleLimits,
    table: LruCache<IpAddr, Record>,
}

impl FailureThrottle {
    /// An empty table.
    pub fn new(limits: ThrottleLimits) -> Self {
        let cap = NonZeroUsize::new(limits.addresses.max(1)).expect("at least one");
        FailureThrottle {
            limits,
            table: LruCache::new(cap),
        }
    }

    fn live(&mut self, ip: IpAddr, now: Instant) -> Option<Record> {
        let record = *self.table.peek(&ip)?;
        if now.saturating_duration_since(record.last_failure) >= self.limits.forget_after {
            self.table.pop(&ip);
            return None;
        }
        Some(record)
    }

    /// How long an attempt from `ip` arriving at `now` waits before it is checked.
    pub fn wait(&mut self, ip: IpAddr, now: Instant) -> Duration {
        self.live(ip, now).map_or(Duration::ZERO, |r| {
            r.not_before.saturating_duration_since(now)
        })
    }

    /// An attempt from `ip` failed at `now`: returns the delay its next attempt will wait.
    pub fn failed(&mut self, ip: IpAddr, now: Instant) -> Duration {
        let failures = self.live(ip, now).map_or(0, |r| r.failures) + 1;
        let doubling = 2u32.saturating_pow(failures - 1);
        let delay = self
            .limits
            .base
            .saturating_mul(doubling)
            .min(self.limits.max);
        self.table.put(
            ip,
            Record {
                failures,
                last_failure: now,
                not_before: now + delay,
            },
        );
        delay
    }

    /// An attempt from `ip` succeeded: its record is dropped.
    pub fn succeeded(&mut self, ip: IpAddr) {
        self.table.pop(&ip);
    }

    /// Failures remembered for `ip` (0 when none, or forgotten).
    pub fn failures(&mut self, ip: IpAddr, now: Instant) -> u32 {
        self.live(ip, now).map_or(0, |r| r.failures)
    }

    /// Addresses in the table.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether no address is in the table.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}
