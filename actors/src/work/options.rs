//! What a dispatcher serves and how: its queues, its listener, its policy and bounds.

use std::time::Duration;

use hubwire_core::work::{DispatchLimits, DispatchPolicy, LeastInFlight, QueueConfig};
use hubwire_core::Address;

/// Default items a queue holds (waiting and leased) before ENQUEUE is answered busy.
pub const DEFAULT_MAX_PENDING: usize = 100_000;
/// Default bytes owed to one connection before it is cut off (a peer that stops reading).
pub const DEFAULT_MAX_OUTBOUND_BYTES: usize = 8 * 1024 * 1024;
/// Default connections (producers and workers) a dispatcher keeps open at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// How often the dispatcher checks leases, heartbeats and delayed items.
pub const TICK_EVERY: Duration = Duration::from_millis(20);
/// How often a durable queue's store is looked at for items requeued by an operator.
pub const STORE_SCAN_EVERY: Duration = Duration::from_millis(500);

/// One work queue.
#[derive(Debug, Clone)]
pub struct WorkQueue {
    pub(crate) name: String,
    pub(crate) config: QueueConfig,
    pub(crate) durable: bool,
    pub(crate) max_pending: usize,
}

impl WorkQueue {
    /// A queue kept in the application's store: an enqueue is answered after its commit, and
    /// what was not acked is delivered again after a restart.
    pub fn durable(name: impl Into<String>) -> Self {
        WorkQueue {
            name: name.into(),
            config: QueueConfig::default(),
            durable: true,
            max_pending: DEFAULT_MAX_PENDING,
        }
    }

    /// A queue in memory only: lost with the dispatcher's process.
    pub fn in_memory(name: impl Into<String>) -> Self {
        WorkQueue {
            durable: false,
            ..WorkQueue::durable(name)
        }
    }

    /// How long a lease lasts without progress (default 30 s).
    pub fn visibility(mut self, visibility: Duration) -> Self {
        self.config.visibility_ms = visibility.as_millis() as u64;
        self
    }

    /// The longest a lease can be extended to, from when it began (default 1 hour).
    pub fn max_lease(mut self, max_lease: Duration) -> Self {
        self.config.max_lease_ms = max_lease.as_millis() as u64;
        self
    }

    /// Counted failures (nacks, lapsed leases) before the error queue (default 5, at least 1).
    pub fn max_deliveries(mut self, n: u32) -> Self {
        self.config.max_deliveries = n.max(1);
        self
    }

    /// Items the queue holds, waiting and leased, before ENQUEUE is answered busy.
    pub fn max_pending(mut self, n: usize) -> Self {
        self.max_pending = n;
        self
    }
}

/// A dispatcher: where it listens, its queues, its dispatch policy, its bounds.
#[derive(Debug)]
pub struct DispatcherOptions {
    pub(crate) name: String,
    pub(crate) listen: Address,
    pub(crate) queues: Vec<WorkQueue>,
    pub(crate) policy: Box<dyn DispatchPolicy>,
    pub(crate) limits: DispatchLimits,
    pub(crate) ping_every: Duration,
    pub(crate) max_outbound_bytes: usize,
    pub(crate) max_frame: usize,
    pub(crate) max_connections: usize,
}

impl DispatcherOptions {
    /// A dispatcher listening on `listen` (`tcp://` or `unix://`), least-in-flight policy.
    pub fn new(listen: Address) -> Self {
        let limits = DispatchLimits::default();
        DispatcherOptions {
            name: "hubwire-dispatcher".into(),
            listen,
            queues: Vec::new(),
            policy: Box::new(LeastInFlight),
            ping_every: Duration::from_millis(limits.heartbeat_timeout_ms / 3),
            limits,
            max_outbound_bytes: DEFAULT_MAX_OUTBOUND_BYTES,
            max_frame: hubwire_core::config::DEFAULT_MAX_FRAME,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }

    /// The name in its CONN and its STATUS.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Serves `queue`.
    pub fn queue(mut self, queue: WorkQueue) -> Self {
        self.queues.push(queue);
        self
    }

    /// Chooses workers with `policy` (default [`LeastInFlight`]).
    pub fn policy(mut self, policy: impl DispatchPolicy + 'static) -> Self {
        self.policy = Box::new(policy);
        self
    }

    /// As [`policy`](Self::policy), boxed (a built-in by name, say).
    pub fn boxed_policy(mut self, policy: Box<dyn DispatchPolicy>) -> Self {
        self.policy = policy;
        self
    }

    /// A worker silent this long is taken for lost (default 15 s); PINGs go out three times
    /// as often.
    pub fn heartbeat_timeout(mut self, timeout: Duration) -> Self {
        self.limits.heartbeat_timeout_ms = timeout.as_millis() as u64;
        self.ping_every = timeout / 3;
        self
    }

    /// The largest credit a worker is granted (default 1024).
    pub fn max_credit(mut self, credit: u32) -> Self {
        self.limits.max_credit = credit;
        self
    }

    /// Connections open at once (default 10 000); one more is answered ERROR 500 `busy` and
    /// closed.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n;
        self
    }

    /// Bytes owed to one connection before it is cut off (default 8 MiB).
    pub fn max_outbound_bytes(mut self, bytes: usize) -> Self {
        self.max_outbound_bytes = bytes;
        self
    }
}
