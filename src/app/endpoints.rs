//! The standard endpoints: `hubwire.health`, `hubwire.stats` (queue figures included),
//! `hubwire.log.level`.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use hubwire_actors::actix;
use hubwire_actors::server::FaultInjector;
use hubwire_core::Address;

use hubwire_actors::handler::HandlerError;
use hubwire_actors::queue::{QueueAdmin, QueueData, QueueError, StoreHandle};
use hubwire_actors::routing::{AsyncFnEndpoint, FnEndpoint};
use hubwire_actors::work::WorkQueueDirectory;
use hubwire_actors::ServerBuilder;
use hubwire_core::protocol::ErrorCode;
use hubwire_core::AllowList;

use super::logging::LogLevel;
use crate::standard::{
    FailListener, FailListenerReply, Health, HealthReply, LogLevel as LogLevelRoute, LogLevelReply,
    Stats, StatsReply,
};

/// What the standard endpoints report and guard.
#[derive(Clone, Debug)]
pub(crate) struct Identity {
    pub(crate) app: String,
    pub(crate) instance: String,
    pub(crate) started: Instant,
}

/// Adds the standard endpoints to `builder`.
pub(crate) fn add_standard_endpoints(
    builder: ServerBuilder,
    identity: Identity,
    log_level: Option<LogLevel>,
    admin: AllowList,
    store: Option<StoreHandle>,
    work_queues: WorkQueuesCell,
) -> ServerBuilder {
    let registry = builder.registry().clone();
    let who = identity.clone();
    let health = FnEndpoint::<Health>::new(&registry, move |(), _| {
        Ok(HealthReply {
            status: "ok".into(),
            app: who.app.clone(),
            instance: who.instance.clone(),
            version: env!("CARGO_PKG_VERSION").into(),
            uptime_ms: who.started.elapsed().as_millis() as u64,
        })
    });
    let figures = registry.clone();
    let stats = AsyncFnEndpoint::<Stats>::new(&registry, move |(), _| {
        let (identity, figures, store) = (identity.clone(), figures.clone(), store.clone());
        let work = work_queues.get().cloned().unwrap_or_default();
        async move {
            let (by_queue, by_sender) = match store {
                Some(store) => (
                    figures_of(QueueAdmin::new(store.clone()).with_work_queues(work)).await?,
                    figures_of(QueueAdmin::senders(store)).await?,
                ),
                None => Default::default(),
            };
            Ok(StatsReply {
                app: identity.app.clone(),
                instance: identity.instance.clone(),
                uptime_ms: identity.started.elapsed().as_millis() as u64,
                stats: figures.snapshot(),
                queues: by_queue,
                senders: by_sender,
                work: hubwire_actors::work::figures_of_all().await,
            })
        }
    });
    let level = FnEndpoint::<LogLevelRoute>::new(&registry, move |request, peer| {
        let Some(handle) = &log_level else {
            return Err(HandlerError::new(
                "logging is not managed by this application",
            ));
        };
        if let Some(new) = request.level {
            if !peer.allowed_by(&admin) {
                tracing::warn!(%peer, "non-admin peer tried to change the log level");
                return Err(HandlerError {
                    code: ErrorCode::Denied,
                    message: format!(
                        "changing the log level is for admin peers (admin_allow), and {peer} is not one"
                    ),
                });
            }
            handle
                .set(&new)
                .map_err(|e| HandlerError::invalid_request(e.to_string()))?;
        }
        Ok(LogLevelReply {
            level: handle.get(),
        })
    });
    builder.endpoint(health).endpoint(stats).endpoint(level)
}

/// Every queue's figures (or every sender's) by name; one that cannot be read is left out.
async fn figures_of(admin: QueueAdmin) -> Result<BTreeMap<String, QueueData>, HandlerError> {
    let mut by_name = BTreeMap::new();
    for name in admin.queues().await.map_err(QueueError::answer)? {
        match admin.data(&name).await {
            Ok(data) => {
                by_name.insert(name, data);
            }
            Err(e) => tracing::warn!(name, error = %e, "cannot read the figures of a queue"),
        }
    }
    Ok(by_name)
}

/// Where `hubwire.stats` finds the app's in-memory work queues, known once its steps have run.
pub(crate) type WorkQueuesCell = Arc<OnceLock<WorkQueueDirectory>>;

/// Where the fault endpoint finds the server's injector, which exists only once it has started.
pub(crate) type InjectorCell = Arc<OnceLock<FaultInjector>>;

/// Adds `hubwire.fault.fail_listener` (for `fault_injection` on): admin peers only.
pub(crate) fn add_fault_endpoint(
    builder: ServerBuilder,
    injector: InjectorCell,
    admin: AllowList,
) -> ServerBuilder {
    let registry = builder.registry().clone();
    let endpoint = FnEndpoint::<FailListener>::new(&registry, move |request, peer| {
        if !peer.allowed_by(&admin) {
            return Err(HandlerError {
                code: ErrorCode::Denied,
                message: format!(
                    "fault injection is for admin peers (admin_allow), and {peer} is not one"
                ),
            });
        }
        let address: Address =
            request
                .address
                .parse()
                .map_err(|e: hubwire_core::AddressError| {
                    HandlerError::invalid_request(e.to_string())
                })?;
        let Some(injector) = injector.get().cloned() else {
            return Err(HandlerError::busy("the server is still starting"));
        };
        tracing::warn!(%address, failing_restarts = request.failing_restarts, "fault injection: failing a listener");
        let failing = request.failing_restarts;
        actix::spawn(async move {
            injector.fail_listener(&address, failing).await;
        });
        Ok(FailListenerReply { requested: true })
    });
    builder.endpoint(endpoint)
}
