//! What a dispatcher serves and how: its queues, its listener, its policy and bounds.

use std::time::Duration;

use std::sync::Arc;

use hubwire_core::auth::{ThrottleLimits, Users};
use hubwire_core::tls::ServerTls;
use hubwire_core::work::{DispatchLimits, DispatchPolicy, ErrorBound, LeastInFlight, QueueConfig};
use hubwire_core::{Address, AllowList, Config};

use crate::auth::Authenticator;

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
    /// What an in-memory queue's error queue keeps (a durable one's is in the store).
    pub(crate) error_bound: ErrorBound,
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
            error_bound: ErrorBound::default(),
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

    /// In-memory queues: errored items the error queue keeps (default 10 000); past it the
    /// item that errored first is dropped and counted (`dead_dropped`). Durable queues keep
    /// their error queue in the store, unbounded.
    pub fn max_errors(mut self, n: usize) -> Self {
        self.error_bound.max_items = n;
        self
    }

    /// In-memory queues: bytes the error queue keeps, bodies and failure reasons (default
    /// 64 MiB); past it the items that errored first are dropped and counted (`dead_dropped`).
    pub fn max_error_bytes(mut self, bytes: usize) -> Self {
        self.error_bound.max_bytes = bytes;
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
    pub(crate) tls: Option<Arc<ServerTls>>,
    pub(crate) auth: Option<DispatcherAuth>,
    /// Peers that may connect; `None`: loopback and this process's uid, and no listening on
    /// another address (as the app's own listeners).
    pub(crate) allow: Option<AllowList>,
}

/// Who may connect to a dispatcher.
#[derive(Debug)]
pub(crate) enum DispatcherAuth {
    /// Users, checked by a gate of the dispatcher's own (started with it).
    Users(Box<(Users, ThrottleLimits)>),
    /// A gate that runs already (the app's, say).
    Shared(Authenticator),
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
            tls: None,
            auth: None,
            allow: None,
        }
    }

    /// The peers that may connect (addresses, CIDR ranges, uids), as the app's `allow`. Without
    /// it only loopback and this process's uid may, and a dispatcher refuses to listen on any
    /// other address.
    pub fn allow(mut self, allow: AllowList) -> Self {
        self.allow = Some(allow);
        self
    }

    /// The certificate and key of a `tls://` listener (reloadable: `ServerTls::reload`).
    pub fn tls(mut self, tls: Arc<ServerTls>) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Only these users may connect: each connection sends AUTH after its CONN (or shows a
    /// client certificate naming a user), as on the app's listeners; failed attempts from one
    /// address are slowed down by `limits`. No users (an empty table): anyone may connect.
    pub fn users(mut self, users: Users, limits: ThrottleLimits) -> Self {
        self.auth = (!users.is_empty()).then(|| DispatcherAuth::Users(Box::new((users, limits))));
        self
    }

    /// As [`users`](Self::users), checked by a gate that runs already.
    pub fn authenticator(mut self, auth: Authenticator) -> Self {
        self.auth = Some(DispatcherAuth::Shared(auth));
        self
    }

    /// Takes what `config` says of security and this dispatcher does not set itself: its TLS
    /// certificate (for a `tls://` listen address), its allow-list, and its users with their
    /// failure delays.
    /// `App::work` does this, so a dispatcher is as closed as the app's own listeners.
    pub fn secured_like(mut self, config: &Config) -> Result<Self, String> {
        if self.tls.is_none() && self.listen.uses_tls() {
            if let Some(files) = &config.tls {
                let tls = ServerTls::load(files).map_err(|e| e.to_string())?;
                self.tls = Some(Arc::new(tls));
            }
        }
        if self.allow.is_none() {
            self.allow = config.allow.clone();
        }
        if self.auth.is_none() && !config.users.is_empty() {
            let users = Users::from_specs(config.users.clone()).map_err(|e| e.to_string())?;
            let limits = config.auth_throttle_limits()?;
            self = self.users(users, limits);
        }
        Ok(self)
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
