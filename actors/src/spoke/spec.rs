//! [`SpokeSpec`]: a spoke's hub address and options, and starting it under supervision.

use std::sync::Arc;

use actix::{Actor, Addr, Arbiter};
use hubwire_core::spoke::{Readiness, SpokeOptions};
use hubwire_core::stats::StatsRegistry;
use hubwire_core::Address;
use tokio::sync::{broadcast, watch};

use super::actor::{SpokeActor, SpokeShared};
use super::Spoke;
use crate::supervisor::{actor_child, ChildSpec, Supervisor, SupervisorOptions};

/// Connection events kept for receivers that fall behind.
const EVENT_CAPACITY: usize = 64;

/// Everything a spoke is made from.
#[derive(Clone, Debug)]
pub struct SpokeSpec {
    name: String,
    address: Address,
    options: SpokeOptions,
}

impl SpokeSpec {
    /// A spoke of the hub at `address` (`tcp://` or `unix://`), named `spoke` in logs,
    /// counters and its supervisor, with the default [`SpokeOptions`].
    pub fn new(address: Address) -> Self {
        SpokeSpec {
            name: "spoke".into(),
            address,
            options: SpokeOptions::default(),
        }
    }

    /// Names the spoke (its child id is `spoke.<name>`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Replaces every option at once.
    pub fn options(mut self, options: SpokeOptions) -> Self {
        self.options = options;
        self
    }

    /// Makes the spoke: its handle, and the child spec of its actor for a supervisor to run
    /// (`ServerBuilder::supervise`, or [`start`](Self::start)). Call it inside an actix
    /// system; the actor runs on the current arbiter. Nothing connects until the supervisor
    /// starts the child.
    ///
    /// A restarted actor (after a panic in the spoke's own code; a provider's panic is caught)
    /// starts with no subscriptions: the receivers of the old ones end, so their owners see it.
    pub fn build(self, registry: &StatsRegistry) -> (Spoke, ChildSpec) {
        let labels = [("spoke", self.name.as_str())];
        let shared = Arc::new(SpokeShared {
            address: self.address,
            options: self.options,
            events: broadcast::channel(EVENT_CAPACITY).0,
            readiness: watch::channel(Readiness::default()).0,
            last_failure: watch::channel(None).0,
            dropped: registry.counter("spoke.dropped", &labels),
            refused: registry.counter("spoke.refused", &labels),
        });
        let id = format!("spoke.{}", self.name);
        let lost = registry.counter("supervisor.lost_messages", &[("child", id.as_str())]);
        let for_actor = shared.clone();
        let (spec, actor) = actor_child(
            id,
            Arbiter::current(),
            move |exit| Ok(SpokeActor::new(for_actor.clone(), exit)),
            lost,
        );
        (Spoke { actor, shared }, spec)
    }

    /// Makes the spoke and starts it under a supervisor of its own (restarts with the default
    /// intensity and back-off; giving up is logged). For programs without a server; in a
    /// server, pass [`build`](Self::build)'s child spec to `ServerBuilder::supervise`. Call it
    /// inside an actix system.
    pub fn start(self, registry: &StatsRegistry) -> (Spoke, Addr<Supervisor>) {
        let name = format!("spokes.{}", self.name);
        let (spoke, spec) = self.build(registry);
        let supervisor = Supervisor::new(
            name,
            SupervisorOptions::default(),
            vec![spec],
            registry,
            |gave_up| tracing::error!(%gave_up, "a spoke could not be kept running"),
        )
        .start();
        (spoke, supervisor)
    }
}
