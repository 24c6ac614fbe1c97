//! A server: routes and their handler actors, listeners, connections, and the I/O threads they run
//! on, started together and stopped together.
//!
//! ```text
//! Server
//! ├── IoPool (one arbiter per core)
//! │   ├── Connection … (one per peer)
//! │   ├── handler actors (one per route, by default)
//! │   └── UdpEndpoint … (one per udp:// address)
//! └── supervisor "server" (see `listeners`)
//!     └── supervisor per transport
//!         └── Listener … (one per stream address, restarted when it fails)
//! ```

mod binding;
mod listeners;
mod routes;

pub use listeners::FaultInjector;
pub use routes::RouteSet;

use routes::{BlockingSpec, EndpointSpec, HandlerSpec, RouteSpec};

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use hubwire_core::stats::{Gauge, StatsRegistry};
use hubwire_core::tls::ServerTls;
use hubwire_core::websocket::OriginPolicy;
use tokio::sync::watch;

use actix::{Actor, Context, Handler, SyncContext};
use hubwire_core::{validate_route_key, Address, Config, InvalidRouteKey, Route};

use crate::handler::{Dispatch, HandlerError};
use crate::routing::{
    AsyncFnEndpoint, DuplicateRoute, FnEndpoint, RouteEndpoint, RouteStatsSnapshot, RouteTable,
};
use crate::supervisor::{ChildSpec, GaveUp, StopChild, SupervisorOptions};
use crate::transport::{
    bind, bind_udp, ConnectionLimits, ConnectionShared, IoPool, Phase, SocketOptions, UdpStats,
};

/// How often shutdown checks whether the connections have closed.
const SHUTDOWN_POLL: Duration = Duration::from_millis(10);
/// How long closing connections get to write their last frames after the shutdown deadline.
const SHUTDOWN_FLUSH: Duration = Duration::from_secs(1);

/// Why a server did not start. Nothing is left running when `start` fails.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A route key was registered twice.
    #[error(transparent)]
    DuplicateRoute(#[from] DuplicateRoute),
    /// A route key is not valid.
    #[error(transparent)]
    InvalidRouteKey(#[from] InvalidRouteKey),
    /// A listen address could not be bound (or its host name could not be resolved).
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address.
        address: Address,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// There is nothing to listen on.
    #[error("no listen address is configured")]
    NoListeners,
    /// The TLS settings (certificate, key, CA file) could not be loaded.
    #[error(transparent)]
    Tls(#[from] hubwire_core::tls::TlsError),
    /// A `tls://` or `wss://` address (or a `nats://` one with `nats_tls`) is to be listened
    /// on, but the config has no `tls` block.
    #[error("cannot listen on {0}: TLS needs a certificate and a key: set tls.cert_file and tls.key_file in the config (`hubwire hub`: pass --cert-file and --key-file)")]
    TlsWithoutSettings(Address),
    /// The users in the config are not acceptable (a plain-text password, a bad hash).
    #[error("the users in the config are refused: {0}")]
    Users(hubwire_core::auth::UsersError),
    /// UDP carries no authentication, so a server with users does not listen on it.
    #[error("cannot listen on {0}: this server has users and UDP carries no authentication; remove the udp:// address or the users")]
    UdpWithUsers(Address),
    /// An entry of `ws_allowed_origins` is not a browser origin.
    #[error("ws_allowed_origins: {0}")]
    BadOrigin(#[from] hubwire_core::websocket::BadOrigin),
    /// A non-loopback address would be open to every peer by default.
    #[error("refusing to listen on {0} with no explicit allow-list: set `allow` (--allow PEER, HUBWIRE_ALLOW, or \"allow\" in the config file) to the addresses, CIDR ranges or uids that may connect")]
    OpenWithoutAllowList(Address),
    /// A `nats://` listener on a server that serves no hub.
    #[error("cannot listen on {0}: a nats:// listener speaks to a hub, and this server serves none (serve one with ServerBuilder::hub, or run `hubwire hub`)")]
    NatsWithoutHub(Address),
}

/// Collects routes and settings, then starts a [`Server`].
pub struct ServerBuilder {
    config: Config,
    routes: Vec<Box<dyn RouteSpec>>,
    endpoints: Vec<Arc<dyn RouteEndpoint>>,
    registry: StatsRegistry,
    on_escalation: Option<Box<dyn FnOnce(GaveUp) + Send>>,
    services: Vec<ChildSpec>,
    hub: Option<crate::hub::HubLimits>,
    /// Who `nats://` listeners admit (everyone, on a hub without users).
    nats_gate: Option<Arc<dyn hubwire_core::nats::NatsGate>>,
}

impl std::fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<_> = self.routes.iter().flat_map(|r| r.keys()).collect();
        f.debug_struct("ServerBuilder")
            .field("config", &self.config)
            .field("routes", &keys)
            .finish()
    }
}

impl ServerBuilder {
    /// A server with `config` and no routes yet.
    pub fn new(config: Config) -> Self {
        ServerBuilder {
            config,
            routes: Vec::new(),
            endpoints: Vec::new(),
            registry: StatsRegistry::new(),
            on_escalation: None,
            services: Vec::new(),
            hub: None,
            nats_gate: None,
        }
    }

    /// What to do when the server's supervision tree gives up (its listeners fail faster than
    /// the restart intensity allows): the application base shuts down with a non-zero exit.
    /// Without it the failure is logged and the server goes on without those listeners.
    pub fn on_escalation(mut self, f: impl FnOnce(GaveUp) + Send + 'static) -> Self {
        self.on_escalation = Some(Box::new(f));
        self
    }

    /// Supervises `child` in the server's tree, beside the listeners: started before them,
    /// stopped after them, restarted under the server's intensity and back-off, and escalated
    /// (see [`on_escalation`](Self::on_escalation)) when it fails too often. Queued routes put
    /// their workers here.
    pub fn supervise(mut self, child: ChildSpec) -> Self {
        self.services.push(child);
        self
    }

    /// Serves a pub/sub hub on every stream listener (the frames of `docs/protocol.md`,
    /// section 10) with `limits`.
    pub fn hub(mut self, limits: crate::hub::HubLimits) -> Self {
        self.hub = Some(limits);
        self
    }

    /// Who the hub's `nats://` listeners admit, and what each client may publish and
    /// subscribe to (`docs/nats-compatibility.md`), in place of the server's users. Without
    /// it, NATS clients are held to the users (`UsersGate`) on a server that has users, and
    /// every one is admitted and may do everything on a server without.
    pub fn nats_gate(mut self, gate: Arc<dyn hubwire_core::nats::NatsGate>) -> Self {
        self.nats_gate = Some(gate);
        self
    }

    /// Records the server's figures in `registry` (shared with the rest of the application)
    /// instead of a registry of its own.
    pub fn stats_registry(mut self, registry: StatsRegistry) -> Self {
        self.registry = registry;
        self
    }

    /// The registry the server will record in.
    pub fn registry(&self) -> &StatsRegistry {
        &self.registry
    }

    /// The configuration the server will start with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Serves an endpoint that answers by itself, without a handler actor (the standard
    /// `hubwire.*` endpoints are such).
    pub fn endpoint(mut self, endpoint: Arc<dyn RouteEndpoint>) -> Self {
        self.endpoints.push(endpoint);
        self
    }

    /// Serves route `R` with an actor made by `factory` (the framework may call it again to make
    /// more instances): `.route(DiceRoll, || Dice)`. Registering a key twice makes
    /// [`start`](Self::start) fail. Each registration makes its own actor; to serve several
    /// routes from one actor and its state, use [`routes`](Self::routes).
    pub fn route<R, H, F>(self, route: R, factory: F) -> Self
    where
        R: Route,
        H: Actor<Context = Context<H>> + Handler<Dispatch<R>>,
        F: Fn() -> H + Send + Sync + 'static,
    {
        self.route_pool(route, 1, factory)
    }

    /// Serves every route of `routes` (a tuple of route keys) from one actor made by `factory`:
    /// `.routes((DiceGuess, DiceRoll), || Dice)`. The routes share the actor's state and its
    /// queue (bounded by `max_in_flight_per_route`), and are counted each under its own key.
    pub fn routes<S, H, F>(self, routes: S, factory: F) -> Self
    where
        S: RouteSet<H>,
        H: Actor<Context = Context<H>>,
        F: Fn() -> H + Send + Sync + 'static,
    {
        self.routes_pool(routes, 1, factory)
    }

    /// Serves route `R` with a pool of `instances` actors spread over the I/O threads; each
    /// request goes to the next member in turn (skipping any whose queue is full).
    pub fn route_pool<R, H, F>(self, route: R, instances: usize, factory: F) -> Self
    where
        R: Route,
        H: Actor<Context = Context<H>> + Handler<Dispatch<R>>,
        F: Fn() -> H + Send + Sync + 'static,
    {
        self.routes_pool((route,), instances, factory)
    }

    /// Serves every route of `routes` from a pool of `instances` actors, each serving them all.
    pub fn routes_pool<S, H, F>(mut self, _routes: S, instances: usize, factory: F) -> Self
    where
        S: RouteSet<H>,
        H: Actor<Context = Context<H>>,
        F: Fn() -> H + Send + Sync + 'static,
    {
        self.routes.push(Box::new(HandlerSpec::<S, H, F> {
            factory,
            instances,
            _types: PhantomData,
        }));
        self
    }

    /// Serves route `R` with a plain function, called on the connection's I/O thread without a
    /// handler actor: `.route_fn(DiceRoll, |roll: Roll| Ok(Rolled { result: 4 }))`. `?` works
    /// inside it; a panic becomes a handler-failure reply. The function must answer quickly and
    /// never block (it holds up every connection of its thread): use
    /// [`route_blocking`](Self::route_blocking) for blocking work.
    pub fn route_fn<R, F>(mut self, _route: R, answer: F) -> Self
    where
        R: Route,
        F: Fn(R::Request) -> Result<R::Reply, HandlerError> + Send + Sync + 'static,
    {
        self.routes.push(Box::new(EndpointSpec {
            key: R::KEY,
            make: Box::new(move |registry| {
                FnEndpoint::<R>::new(registry, move |request, _| answer(request))
            }),
        }));
        self
    }

    /// Serves route `R` with an async function (an `async fn` or a closure returning an `async`
    /// block), run as a task on the connection's I/O thread:
    /// `.route_async(Fetch, |page: Page| async move { Ok(download(page).await?) })`. `?` works
    /// inside it; a panic becomes a handler-failure reply. It may wait on anything, but must
    /// not block.
    pub fn route_async<R, F, Fut>(mut self, _route: R, answer: F) -> Self
    where
        R: Route,
        F: Fn(R::Request) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<R::Reply, HandlerError>> + 'static,
    {
        self.routes.push(Box::new(EndpointSpec {
            key: R::KEY,
            make: Box::new(move |registry| {
                AsyncFnEndpoint::<R>::new(registry, move |request, _| answer(request))
            }),
        }));
        self
    }

    /// Serves route `R` with blocking handlers ([`ServeBlocking`](crate::handler::ServeBlocking))
    /// on `threads` dedicated threads (actix's `SyncArbiter`), never on an I/O thread. At most
    /// `max_in_flight_per_route` requests are in flight; more are answered busy.
    pub fn route_blocking<R, H, F>(mut self, _route: R, threads: usize, factory: F) -> Self
    where
        R: Route,
        H: Actor<Context = SyncContext<H>> + Handler<Dispatch<R>>,
        F: Fn() -> H + Send + Sync + 'static,
    {
        self.routes.push(Box::new(BlockingSpec::<R, H, F> {
            factory,
            threads,
            _types: PhantomData,
        }));
        self
    }

    /// Checks the routes, binds every listen address, and starts everything. Must run inside an
    /// actix system. Binding happens before any actor starts, so a bad address leaves nothing
    /// running.
    pub async fn start(mut self) -> Result<Server, StartError> {
        let mut keys = std::collections::HashSet::new();
        for key in self.routes.iter().flat_map(|spec| spec.keys()) {
            validate_route_key(key)?;
            if !keys.insert(key) {
                return Err(DuplicateRoute(key.to_owned()).into());
            }
        }
        for endpoint in &self.endpoints {
            if !keys.insert(endpoint.key()) {
                return Err(DuplicateRoute(endpoint.key().to_owned()).into());
            }
        }
        if self.config.listen.is_empty() {
            return Err(StartError::NoListeners);
        }
        if let (None, Some(nats)) = (
            &self.hub,
            self.config.listen.iter().find(|a| a.scheme() == "nats"),
        ) {
            return Err(StartError::NatsWithoutHub(nats.clone()));
        }
        // Host names are resolved now: what they stand for is what gets bound and checked.
        let listen = binding::resolve_all(&self.config.listen).await?;
        let tls = binding::load_tls(&self.config, &listen)?;
        let ws_origins = OriginPolicy::new(&self.config.ws_allowed_origins)?;
        if self.config.allow.is_none() {
            let open = listen
                .iter()
                .find(|a| a.socket_addr().is_some_and(|addr| !addr.ip().is_loopback()));
            if let Some(address) = open {
                return Err(StartError::OpenWithoutAllowList(address.clone()));
            }
        }
        let users = self.config.checked_users().map_err(StartError::Users)?;
        if !users.is_empty() {
            if let Some(udp) = listen.iter().find(|a| matches!(a, Address::Udp(_))) {
                return Err(StartError::UdpWithUsers(udp.clone()));
            }
        }
        let throttle = self.config.auth_throttle_limits().map_err(|e| {
            StartError::Users(hubwire_core::auth::UsersError {
                user: String::new(),
                problem: e,
            })
        })?;
        let mode = self.config.unix_socket_mode_bits();
        let mut bound = Vec::new();
        let mut udp_bound = Vec::new();
        for address in &listen {
            if let (Address::Udp(_), Some(addr)) = (address, address.socket_addr()) {
                let (socket, local) = bind_udp(addr).map_err(|source| StartError::Bind {
                    address: address.clone(),
                    source,
                })?;
                udp_bound.push((socket, local));
                continue;
            }
            let (socket, local) = bind(address, SocketOptions::from(&self.config), mode)
                .await
                .map_err(|source| StartError::Bind {
                    address: address.clone(),
                    source,
                })?;
            bound.push((socket, local));
        }

        let pool = IoPool::start(self.config.io_thread_count());
        pool.spin_after_reads(self.config.io_spin, &self.registry);
        let mut table = RouteTable::default();
        for spec in self.routes {
            for endpoint in spec.start(&pool, self.config.max_in_flight_per_route, &self.registry) {
                table.insert(endpoint)?;
            }
        }
        for endpoint in self.endpoints {
            table.insert(endpoint)?;
        }
        let routes = Arc::new(table);
        let (phase, phase_rx) = watch::channel(Phase::Running);
        let hub = self.hub.map(|limits| {
            let name = bound.first().map(|(_, local)| local.to_string());
            crate::bridge::start_for_hub(
                limits,
                &self.config,
                name,
                &self.registry,
                &mut self.services,
            )
        });
        if hub.is_none() && !self.config.bridges.is_empty() {
            tracing::warn!("bridges are configured but this server serves no hub: none is made");
        }
        let auth = (!users.is_empty())
            .then(|| crate::auth::Authenticator::start(users, throttle, &self.registry));
        let shared = Arc::new(ConnectionShared {
            routes: routes.clone(),
            limits: ConnectionLimits::from(&self.config),
            agent: concat!("hubwire-server/", env!("CARGO_PKG_VERSION")).to_owned(),
            allow: self.config.allow_list(),
            phase: phase_rx,
            registry: self.registry.clone(),
            hub,
            nats: crate::transport::NatsSettings::new(
                &self.config,
                self.nats_gate.take().unwrap_or_else(|| match &auth {
                    Some(_) => Arc::new(hubwire_core::nats::UsersGate),
                    None => Arc::new(hubwire_core::nats::OpenGate),
                }),
            ),
            tls: tls.clone(),
            auth,
            ws_origins,
        });
        let open_connections = ["tcp", "tls", "unix", "ws", "wss", "nats"]
            .map(|transport| shared.transport_stats(transport).open)
            .to_vec();
        let mut addresses = Vec::new();
        addresses.extend(bound.iter().map(|(_, local)| local.clone()));
        let udp_in_flight = self.config.max_in_flight_per_udp_endpoint;
        let supervision = SupervisorOptions::from_config(&self.config);
        let on_escalation = self.on_escalation.unwrap_or_else(|| {
            Box::new(|gave_up: GaveUp| tracing::error!(%gave_up, "the server's listeners could not be kept running"))
        });

        let mut udp = Vec::new();
        let mut sockets: Vec<(listeners::Socket, Address)> = bound
            .into_iter()
            .map(|(socket, local)| (listeners::Socket::Stream(socket), local))
            .collect();
        for (socket, local) in udp_bound {
            let stats = Arc::new(UdpStats::new(&self.registry));
            udp.push(stats.clone());
            addresses.push(local.clone());
            sockets.push((listeners::Socket::Datagram(socket, stats), local));
        }
        let tree = listeners::start(
            sockets,
            pool.handles(),
            shared.clone(),
            SocketOptions::from(&self.config),
            mode,
            udp_in_flight,
            supervision,
            &self.registry,
            on_escalation,
            self.services,
        );
        Ok(Server {
            addresses,
            phase,
            open_connections,
            shutdown_timeout: self.config.shutdown_timeout,
            registry: self.registry,
            udp,
            tree,
            routes,
            pool,
            tls,
        })
    }
}

/// A running server. Dropping it stops it.
#[derive(Debug)]
pub struct Server {
    addresses: Vec<Address>,
    phase: watch::Sender<Phase>,
    open_connections: Vec<Gauge>,
    shutdown_timeout: Duration,
    registry: StatsRegistry,
    udp: Vec<Arc<UdpStats>>,
    tree: listeners::ListenerTree,
    routes: Arc<RouteTable>,
    pool: IoPool,
    /// The TLS settings of the `tls://` listeners, when there are any.
    tls: Option<Arc<ServerTls>>,
}

impl Server {
    /// A builder with `config`.
    pub fn builder(config: Config) -> ServerBuilder {
        ServerBuilder::new(config)
    }

    /// The addresses actually listened on (port 0 resolved): streams first, then UDP.
    pub fn addresses(&self) -> &[Address] {
        &self.addresses
    }

    /// The first address with `scheme` (`"tcp"`, `"unix"`, `"udp"`).
    pub fn address(&self, scheme: &str) -> Option<&Address> {
        self.addresses.iter().find(|a| a.scheme() == scheme)
    }

    /// The counters of the first UDP endpoint, if there is one.
    pub fn udp_stats(&self) -> Option<Arc<UdpStats>> {
        self.udp.first().cloned()
    }

    /// The registered route keys.
    pub fn route_keys(&self) -> Vec<&'static str> {
        self.routes.keys()
    }

    /// The route table (shareable across threads: counters can be read from anywhere).
    pub fn route_table(&self) -> Arc<RouteTable> {
        self.routes.clone()
    }

    /// The counters of route `key`.
    pub fn route_stats(&self, key: &str) -> Option<RouteStatsSnapshot> {
        self.routes.get(key).map(|e| e.stats().snapshot())
    }

    /// The TLS settings of the `tls://` listeners: [`ServerTls::reload`] re-reads the
    /// certificate and key for the handshakes that follow (the application does on SIGHUP).
    pub fn tls(&self) -> Option<&Arc<ServerTls>> {
        self.tls.as_ref()
    }

    /// Fault injection into the listeners' supervision tree (for tests and drills).
    pub fn fault_injector(&self) -> FaultInjector {
        self.tree.faults.clone()
    }

    /// Every figure the server records.
    pub fn stats_registry(&self) -> &StatsRegistry {
        &self.registry
    }

    /// Stream connections open now, over every listener.
    pub fn open_connections(&self) -> i64 {
        self.open_connections.iter().map(Gauge::get).sum()
    }

    /// Shuts down gracefully: stops accepting, lets requests in flight finish within the
    /// configured `shutdown_timeout` (new requests are answered shutting-down), sends DISCONN to
    /// every peer, answers whatever is still in flight at the deadline with shutting-down, and
    /// stops. Returns how many connections had to be closed at the deadline.
    pub async fn shutdown(self) -> usize {
        let deadline = tokio::time::Instant::now() + self.shutdown_timeout;
        // No new requests anywhere; then the listeners stop accepting (a UDP endpoint, being its
        // own connection, first finishes what it has in flight).
        let _ = self.phase.send(Phase::Draining);
        let _ = self.tree.root.send(StopChild).await;
        while self.open_connections() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(SHUTDOWN_POLL).await;
        }
        let forced = self.open_connections().max(0) as usize;
        let _ = self.phase.send(Phase::Closing);
        let flushed = tokio::time::Instant::now() + SHUTDOWN_FLUSH;
        while self.open_connections() > 0 && tokio::time::Instant::now() < flushed {
            tokio::time::sleep(SHUTDOWN_POLL).await;
        }
        tracing::info!(forced, "server stopped");
        forced
    }

    /// Stops at once: closes every connection and stops every handler (see
    /// [`shutdown`](Self::shutdown) for the graceful way).
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.tree.root.do_send(StopChild);
        self.pool.stop();
    }
}
