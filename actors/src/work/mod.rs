//! The network work queue's dispatcher: a [`Dispatcher`] actor serving work queues to remote
//! workers over its own listener (`docs/work-queue.md`, wire format in `docs/protocol.md`
//! section 12). The bookkeeping is [`hubwire_core::work::Dispatch`]; the clients are
//! [`hubwire_core::work::Producer`] and [`hubwire_core::work::Worker`].
//!
//! ```text
//!  producer ─ENQUEUE─▶ ┐                     ┌─▶ store (durable queues: enqueue committed
//!  worker  ─TAKE/ACK─▶ ├ listener ─Frames─▶ Dispatcher   before ENQUEUED; acks recorded)
//!                      │  (one task per     │  owns Dispatch: queues, credit, leases
//!  worker ◀─DELIVER─── ┘   connection)  ◀───┘  Outbox per connection (bounded, own writer)
//! ```
//!
//! # Layout
//! - `options.rs`: [`DispatcherOptions`], [`WorkQueue`].
//! - `dispatcher/`: the actor: frames in, deliveries out, ticks for leases and heartbeats
//!   (`mod.rs`); its store side, a read pass's enqueues and records in one submission, the
//!   load and the requeue scan (`store.rs`).
//!   Its in-memory queues' error queues, pause states and operator operations
//!   (`memory.rs`).
//! - `admin.rs`: [`WorkQueueDirectory`], through which the operator's `QueueAdmin` reaches
//!   in-memory queues by name.
//! - `durable.rs`: durable queues in the store (`crate::queue::StoreHandle`).
//! - `listener.rs`: the listener and each connection's reader.
//! - `outbox.rs`: each connection's bounded outbound queue and writer task.
//! - `security.rs`: the TLS handshake of a `tls://` listener and the AUTH a dispatcher with
//!   users asks for.
//! - `relay.rs`: [`run_relay`], a node that is a worker of its parent and a dispatcher for its
//!   children.

mod admin;
mod dispatcher;
mod durable;
mod listener;
mod options;
mod outbox;
mod relay;
mod security;

use actix::{Actor, Addr};
use hubwire_core::work::Dispatch;
use hubwire_core::Address;

pub use admin::WorkQueueDirectory;
pub use dispatcher::{
    Dispatcher, GetFigures, MemoryAnswer, MemoryOp, MemoryQueueOp, RelayItem, SetPaused,
    WorkFigures, BROADCAST_IDS_FROM,
};
pub use options::{
    DispatcherOptions, WorkQueue, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_OUTBOUND_BYTES,
    DEFAULT_MAX_PENDING,
};
pub use relay::run_relay;

use crate::queue::{QueueError, StoreHandle};

/// Why a dispatcher could not start.
#[derive(Debug, thiserror::Error)]
pub enum WorkSetupError {
    /// A durable queue needs the process's store.
    #[error("work queue {0:?} is durable and needs a store; give the dispatcher one, or make the queue in_memory")]
    NoStore(String),
    /// The store refused (a queue name already in use in this process, or a read failed).
    #[error("work queue store: {0}")]
    Store(#[from] QueueError),
    /// The listener could not bind.
    #[error("work listener on {address}: {source}")]
    Bind {
        /// The address.
        address: String,
        /// Why.
        source: std::io::Error,
    },
    /// Two queues with one name.
    #[error("work queue {0:?} is declared twice")]
    Duplicate(String),
    /// A non-loopback address would be open to every peer by default.
    #[error("refusing to listen on {0} with no explicit allow-list: set `allow` (--allow PEER, HUBWIRE_ALLOW, or \"allow\" in the config file, or DispatcherOptions::allow) to the addresses, CIDR ranges or uids that may connect")]
    OpenWithoutAllowList(String),
}

/// A running dispatcher.
#[derive(Debug, Clone)]
pub struct DispatcherHandle {
    /// The actor.
    pub addr: Addr<Dispatcher>,
    /// Where it listens (port 0 resolved).
    pub address: Address,
    /// The names of its in-memory queues.
    in_memory: Vec<String>,
}

impl DispatcherHandle {
    /// The figures of every queue and worker.
    pub async fn figures(&self) -> Option<WorkFigures> {
        self.addr.send(GetFigures).await.ok()
    }

    /// The names of its in-memory queues.
    pub fn in_memory_queues(&self) -> &[String] {
        &self.in_memory
    }
}

/// The dispatchers started in this process, for `hubwire.stats` (addresses only: each
/// dispatcher's state stays in its actor).
static RUNNING: std::sync::Mutex<Vec<(String, Addr<Dispatcher>)>> =
    std::sync::Mutex::new(Vec::new());

/// The figures of every dispatcher running in this process, by name.
pub async fn figures_of_all() -> std::collections::BTreeMap<String, WorkFigures> {
    let running: Vec<(String, Addr<Dispatcher>)> = {
        let mut running = RUNNING.lock().unwrap();
        running.retain(|(_, addr)| addr.connected());
        running.clone()
    };
    let mut all = std::collections::BTreeMap::new();
    for (name, addr) in running {
        if let Ok(figures) = addr.send(GetFigures).await {
            all.insert(name, figures);
        }
    }
    all
}

/// Starts a dispatcher on the current actix system (call it from inside one): binds its
/// listener, and serves; its durable queues are loaded from `store` as it starts (items
/// enqueued meanwhile are served too).
pub fn start_dispatcher(
    options: DispatcherOptions,
    store: Option<&StoreHandle>,
) -> Result<DispatcherHandle, WorkSetupError> {
    let mut dispatch = Dispatch::new(options.policy, options.limits);
    for queue in &options.queues {
        if dispatch.has_queue(&queue.name) {
            return Err(WorkSetupError::Duplicate(queue.name.clone()));
        }
        dispatch.declare_queue(&queue.name, queue.config);
    }
    let durable = match (options.queues.iter().find(|q| q.durable), store) {
        (None, _) => None,
        (Some(q), None) => return Err(WorkSetupError::NoStore(q.name.clone())),
        (Some(_), Some(store)) => Some(durable::Durable::open(store, &options.queues)?),
    };
    let bind_error = |source| WorkSetupError::Bind {
        address: options.listen.to_string(),
        source,
    };
    let bound = listener::bind(&options.listen, options.tls.as_ref()).map_err(bind_error)?;
    if options.allow.is_none() && !bound.is_loopback() {
        return Err(WorkSetupError::OpenWithoutAllowList(
            options.listen.to_string(),
        ));
    }
    let auth = options.auth.map(|auth| match auth {
        options::DispatcherAuth::Shared(auth) => auth,
        options::DispatcherAuth::Users(users) => {
            let (users, limits) = *users;
            let registry = hubwire_core::stats::StatsRegistry::new();
            crate::auth::Authenticator::start(users, limits, &registry)
        }
    });
    let in_memory = options
        .queues
        .iter()
        .filter(|q| !q.durable)
        .map(|q| q.name.clone())
        .collect();
    let actor = Dispatcher::new(
        options.name.clone(),
        dispatch,
        options.queues,
        durable,
        options.ping_every,
    );
    let addr = actor.start();
    let settings = listener::ConnSettings {
        agent: options.name.clone(),
        max_connections: options.max_connections,
        max_frame: options.max_frame,
        max_outbound_bytes: options.max_outbound_bytes,
        auth,
        allow: options.allow.unwrap_or_default(),
    };
    let address = listener::serve_bound(bound, addr.clone(), settings).map_err(bind_error)?;
    let mut running = RUNNING.lock().unwrap();
    // Stopped dispatchers leave: a process that starts many (tests) keeps no list of the dead.
    running.retain(|(_, addr)| addr.connected());
    running.push((options.name, addr.clone()));
    drop(running);
    Ok(DispatcherHandle {
        addr,
        address,
        in_memory,
    })
}
