//! [`SenderSpec`]: a sender's destination and options, and starting it under supervision.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, Addr, Arbiter};
use hubwire_core::backoff::BackoffPolicy;
use hubwire_core::client::{Client, ClientOptions};
use hubwire_core::sender::{Destination, RetryRule};
use hubwire_core::stats::StatsRegistry;
use hubwire_core::tls::TlsClient;

use super::handle::{Sender, SenderShared};
use super::keeper::{Clock, Keeper, KeeperSetup, SenderCounters, Wake};
use super::options::{Ordering, SenderOptions};
use crate::queue::{QueueError, StoreHandle};
use crate::supervisor::{actor_child, ChildSpec, Supervisor, SupervisorOptions};

/// The store queue that holds sender `name`'s messages. Route keys cannot contain `:`, so a
/// sender's queue never shares a name with a queued route's.
pub fn sender_queue(name: &str) -> String {
    format!("sender:{name}")
}

/// Whether `name` can name a sender: letters, digits, `.`, `-` and `_`.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// Everything a sender is made from.
///
/// ```no_run
/// # use hubwire_actors::sender::{SenderSpec, Ordering, GroupOnError};
/// # use hubwire_actors::queue::StoreHandle;
/// # use hubwire_core::sender::Destination;
/// # use hubwire_core::stats::StatsRegistry;
/// # async fn f(store: StoreHandle) -> Result<(), Box<dyn std::error::Error>> {
/// let dice = Destination::new("tcp://127.0.0.1:7400".parse()?, "dice.roll_times");
/// let (sender, _supervisor) = SenderSpec::new("rolls", dice)
///     .workers(4)
///     .max_attempts(20)
///     .ordering(Ordering::Groups(GroupOnError::Continue))
///     .start(&store, &StatsRegistry::new())?;
/// // Any serializable message: here a map like {"sides": 6, "how_many": 3}.
/// let roll = std::collections::BTreeMap::from([("sides", 6), ("how_many", 3)]);
/// let id = sender.send_in_group("table-7", &roll).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SenderSpec {
    name: String,
    destination: Destination,
    options: SenderOptions,
    clock: Option<Clock>,
    /// For a `tls://` destination: the roots trusted and the client certificate.
    tls: Option<TlsClient>,
    /// For a destination with users: who the sender authenticates as.
    credentials: Option<hubwire_core::auth::Credentials>,
}

impl std::fmt::Debug for SenderSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SenderSpec")
            .field("name", &self.name)
            .field("destination", &self.destination)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl SenderSpec {
    /// A sender called `name` (letters, digits, `.`, `-`, `_`; it names its queues) that
    /// delivers to `destination`, with the default [`SenderOptions`].
    pub fn new(name: impl Into<String>, destination: Destination) -> Self {
        SenderSpec {
            name: name.into(),
            destination,
            options: SenderOptions::default(),
            clock: None,
            tls: None,
            credentials: None,
        }
    }

    /// For a `tls://` destination: trusts `tls`'s roots and shows its client certificate
    /// (default: the system roots, no certificate).
    pub fn tls(mut self, tls: TlsClient) -> Self {
        self.tls = Some(tls);
        self
    }

    /// For a destination with users (`docs/security.md`): the user name and password, or the
    /// token, sent in AUTH on every connection (default: none).
    pub fn credentials(mut self, credentials: hubwire_core::auth::Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Replaces every option at once.
    pub fn options(mut self, options: SenderOptions) -> Self {
        self.options = options;
        self
    }

    /// Deliveries in flight at once (at least 1).
    pub fn workers(mut self, workers: usize) -> Self {
        self.options.workers = workers.max(1);
        self
    }

    /// Attempts in all, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.options.max_attempts = attempts.max(1);
        self
    }

    /// When to retry.
    pub fn backoff(mut self, policy: BackoffPolicy) -> Self {
        self.options.backoff = policy;
        self
    }

    /// Which failures are retried.
    pub fn retry(mut self, rule: RetryRule) -> Self {
        self.options.retry = rule;
        self
    }

    /// Messages held before `send` answers full.
    pub fn max_pending(mut self, max_pending: usize) -> Self {
        self.options.max_pending = max_pending;
        self
    }

    /// How long one attempt waits for its answer.
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.options.call_timeout = timeout;
        self
    }

    /// Delivery order.
    pub fn ordering(mut self, ordering: Ordering) -> Self {
        self.options.ordering = ordering;
        self
    }

    /// Whether to add an `idempotency-key` header to messages without one (default: yes).
    pub fn idempotency_keys(mut self, on: bool) -> Self {
        self.options.idempotency_keys = on;
        self
    }

    /// Reads the time (ms since the Unix epoch) from `clock` instead of the system clock, for
    /// retry times: tests move it themselves.
    pub fn clock(mut self, clock: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// The sender's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Makes the sender: its handle, and the child spec of its keeper for a supervisor to run
    /// (`ServerBuilder::supervise`, or [`start`](Self::start)). Call it inside an actix
    /// system; the keeper and its workers run on the current arbiter. It waits for the store
    /// to read the sender's persisted pause state.
    pub fn build(
        self,
        store: &StoreHandle,
        registry: &StatsRegistry,
    ) -> Result<(Sender, ChildSpec), QueueError> {
        if !valid_name(&self.name) {
            return Err(QueueError::InvalidName { name: self.name });
        }
        let queue = sender_queue(&self.name);
        let pause = store.watch_exclusive_blocking(&queue)?;
        let sender_pause = pause.clone();
        let labels = [("sender", self.name.as_str())];
        let counters = SenderCounters {
            delivered: registry.counter("sender.delivered", &labels),
            retried: registry.counter("sender.retried", &labels),
            errored: registry.counter("sender.errored", &labels),
        };
        let client_options = ClientOptions {
            call_timeout: self.options.call_timeout,
            tls: self.tls,
            credentials: self.credentials,
            ..ClientOptions::default()
        };
        let clock: Clock = self.clock.unwrap_or_else(|| Arc::new(crate::queue::now_ms));
        let wake_sent = Arc::new(AtomicBool::new(false));
        let setup = KeeperSetup {
            name: self.name.clone(),
            queue: queue.clone(),
            route: self.destination.route.clone(),
            client: Client::with_options(self.destination.address.clone(), client_options),
            store: store.clone(),
            pause,
            wake_sent: wake_sent.clone(),
            workers: self.options.workers.max(1),
            // The policy counts retries; max_attempts counts the first attempt too.
            policy: self
                .options
                .backoff
                .with_max_attempts(Some(self.options.max_attempts.saturating_sub(1))),
            retry: self.options.retry,
            ordering: self.options.ordering,
            call_timeout: self.options.call_timeout,
            clock,
            counters,
        };
        let id = format!("sender.{}", self.name);
        let lost = registry.counter("supervisor.lost_messages", &[("child", id.as_str())]);
        let (spec, keeper) = actor_child(
            id,
            Arbiter::current(),
            move |exit| Ok(Keeper::new(setup.clone(), exit)),
            lost,
        );
        let sender = Sender {
            shared: Arc::new(SenderShared {
                name: self.name,
                queue,
                route: self.destination.route,
                store: store.clone(),
                max_pending: self.options.max_pending,
                idempotency_keys: self.options.idempotency_keys,
                pause: sender_pause,
                wake: Box::new(move || keeper.do_send(Wake)),
                wake_sent,
            }),
        };
        Ok((sender, spec))
    }

    /// Makes the sender and starts its keeper under a supervisor of its own (restarts with
    /// the default intensity and back-off; giving up is logged). For programs without a
    /// server; in a server, pass [`build`](Self::build)'s child spec to
    /// `ServerBuilder::supervise`. Call it inside an actix system.
    pub fn start(
        self,
        store: &StoreHandle,
        registry: &StatsRegistry,
    ) -> Result<(Sender, Addr<Supervisor>), QueueError> {
        let name = format!("senders.{}", self.name);
        let (sender, spec) = self.build(store, registry)?;
        let supervisor = Supervisor::new(
            name,
            SupervisorOptions::default(),
            vec![spec],
            registry,
            |gave_up| tracing::error!(%gave_up, "a sender could not be kept running"),
        )
        .start();
        Ok((sender, supervisor))
    }
}
