//! The settings of a queue and of the dispatcher.

/// Default visibility time of a lease: 30 s.
pub const DEFAULT_VISIBILITY_MS: u64 = 30_000;
/// Default longest a lease may be extended to, from when it was taken: 1 hour.
pub const DEFAULT_MAX_LEASE_MS: u64 = 3_600_000;
/// Default counted failures (nacks, lapsed leases) before an item goes to the error queue.
pub const DEFAULT_MAX_DELIVERIES: u32 = 5;
/// Default silence after which a worker is taken for lost: 15 s.
pub const DEFAULT_HEARTBEAT_TIMEOUT_MS: u64 = 15_000;
/// Default largest credit a worker may ask for.
pub const DEFAULT_MAX_CREDIT: u32 = 1024;
/// Default broadcast copies waiting per worker before the oldest is dropped (and counted).
pub const DEFAULT_MAX_BROADCAST_BACKLOG: usize = 1024;

/// How a queue leases its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueConfig {
    /// How long a lease lasts without progress (and what each progress may extend it by at
    /// most).
    pub visibility_ms: u64,
    /// A lease is never extended past this long after it was taken: a job stuck for ever is
    /// taken back in the end.
    pub max_lease_ms: u64,
    /// Counted failures (nacks and lapsed leases) after which the item goes to the error queue.
    /// At least 1.
    pub max_deliveries: u32,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            visibility_ms: DEFAULT_VISIBILITY_MS,
            max_lease_ms: DEFAULT_MAX_LEASE_MS,
            max_deliveries: DEFAULT_MAX_DELIVERIES,
        }
    }
}

/// Bounds of the dispatcher as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DispatchLimits {
    /// A worker heard nothing from for this long is taken for lost, and its leases go back to
    /// their queues (not counted against the items).
    pub heartbeat_timeout_ms: u64,
    /// Credit asked for over this is lowered to it.
    pub max_credit: u32,
    /// Broadcast copies waiting for one worker's credit; past it the oldest is dropped.
    pub max_broadcast_backlog: usize,
}

impl Default for DispatchLimits {
    fn default() -> Self {
        DispatchLimits {
            heartbeat_timeout_ms: DEFAULT_HEARTBEAT_TIMEOUT_MS,
            max_credit: DEFAULT_MAX_CREDIT,
            max_broadcast_backlog: DEFAULT_MAX_BROADCAST_BACKLOG,
        }
    }
}
