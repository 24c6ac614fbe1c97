//! The application base: a service's `main` in a few lines.
//!
//! ```no_run
//! use hubwire::prelude::*;
//! # #[derive(Serialize, Deserialize)] pub struct Say { pub message: String }
//! # route!(pub Echo = "echo", Say => Say);
//! # struct Echoer;
//! # impl Actor for Echoer { type Context = Context<Self>; }
//! # impl Serve<Echo> for Echoer {
//! #     fn serve(&mut self, r: Say, _: &mut Context<Self>) -> Reply<Say> { Reply::ok(r) }
//! # }
//! # serve!(Echoer: Echo);
//! fn main() -> std::process::ExitCode {
//!     App::new("echo").route(Echo, || Echoer).run()
//! }
//! ```
//!
//! `run` reads the layered configuration (flags, environment, `--config` file, defaults), starts
//! logging, takes the single-instance lock, starts the server with the standard endpoints, and
//! serves until SIGINT or SIGTERM (SIGHUP reloads the TLS certificate); then it shuts down gracefully, releases the lock and returns
//! the exit code. Lifecycle and endpoints: `docs/application-base.md`.

mod endpoints;
mod lock;
mod logging;
mod queue_endpoints;
mod queue_store;
mod reload;

pub use lock::{InstanceLock, LockError};
pub use logging::{LogLevel, LoggingError, LoggingGuard};
pub use queue_store::{open_queue_store, queue_store_path};

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use clap::Parser;
use hubwire_actors::actix::{Actor, Context, Handler, SyncContext};
use hubwire_actors::handler::{Dispatch, HandlerError};
use hubwire_actors::queue::{QueueAdmin, QueueError, QueuedRoute, StoreHandle};
use hubwire_actors::server::RouteSet;
use hubwire_actors::work::WorkQueueDirectory;
use hubwire_actors::ServerBuilder;
use hubwire_core::{Address, Config, Route};

use crate::config::{load_over, AppArgs};

/// Exit code: a configuration or argument error (nothing was started).
pub const EXIT_CONFIG: u8 = 2;
/// Exit code: the server could not start (an address could not be bound, ...).
pub const EXIT_START: u8 = 1;
/// Exit code: another process runs this app instance.
pub const EXIT_ALREADY_RUNNING: u8 = 3;
/// Exit code: the supervision tree gave up (a crash loop escalated to the root).
pub const EXIT_ESCALATED: u8 = 4;

type Setup = Box<dyn FnOnce(ServerBuilder, &Config) -> ServerBuilder + Send>;
/// Why a setup step that needs the store failed (a store error, a bad setting of the app's).
pub type SetupError = Box<dyn std::error::Error + Send + Sync>;
type QueuedSetup = Box<
    dyn FnOnce(ServerBuilder, &Config, &StoreHandle) -> Result<ServerBuilder, SetupError> + Send,
>;

/// An application: a name, its routes, and defaults; [`run`](Self::run) does the rest.
pub struct App {
    name: String,
    defaults: Config,
    setup: Vec<Setup>,
    queued: Vec<QueuedSetup>,
    checks: Vec<Check>,
    /// The in-memory work queues the `work` steps start, for the `hubwire.queue.*` endpoints
    /// built after them. Written only while the app is set up.
    work_queues: Arc<Mutex<WorkQueueDirectory>>,
    /// The keys of the queued routes: no in-memory work queue may take one as its name.
    queued_keys: Vec<&'static str>,
}

/// A check of the loaded configuration: `Err(why)` refuses to start.
type Check = Box<dyn Fn(&Config) -> Result<(), String> + Send>;

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(flatten)]
    args: AppArgs,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl App {
    /// An application called `name` (letters, digits, `-`, `_`: it names lock files and
    /// environment variables).
    pub fn new(name: impl Into<String>) -> App {
        App {
            name: name.into(),
            defaults: Config::default(),
            setup: Vec::new(),
            queued: Vec::new(),
            checks: Vec::new(),
            work_queues: Arc::default(),
            queued_keys: Vec::new(),
        }
    }

    /// Changes the built-in defaults (the lowest configuration layer) for this application.
    pub fn defaults(mut self, change: impl FnOnce(&mut Config)) -> Self {
        change(&mut self.defaults);
        self
    }

    /// Refuses to start when `check` finds the loaded configuration unfit for this application:
    /// its `Err` is printed and the process exits with [`EXIT_CONFIG`], before logging, the
    /// lock or any socket.
    pub fn check(mut self, check: impl Fn(&Config) -> Result<(), String> + Send + 'static) -> Self {
        self.checks.push(Box::new(check));
        self
    }

    /// Anything else to do to the server builder once the configuration is known.
    pub fn setup(
        mut self,
        f: impl FnOnce(ServerBuilder, &Config) -> ServerBuilder + Send + 'static,
    ) -> Self {
        self.setup.push(Box::new(f));
        self
    }

    /// Serves route `R` with an actor made by `factory`: `.route(DiceRoll, || Dice)`. Each
    /// registration makes its own actor; see [`routes`](Self::routes) to share one.
    pub fn route<R, H, F>(self, route: R, factory: F) -> Self
    where
        R: Route + Send,
        H: Actor<Context = Context<H>> + Handler<Dispatch<R>>,
        F: Fn() -> H + Send + Sync + 'static,
    {
        self.route_pool(route, 1, factory)
    }

    /// Serves every route of `routes` (a tuple of route keys) from one actor made by `factory`,
    /// which keeps one state for them all: `.routes((DiceGuess, DiceRoll), || Dice)`.
    pub fn routes<S, H, F>(self, routes: S, factory: F) -> Self
    where
        S: RouteSet<H> + Send,
        H: Actor<Context = Context<H>>,
        F: Fn() -> H + Send + Sync + 'static,
    {
        self.setup(move |b, _| b.routes(routes, factory))
    }

    /// Serves route `R` with a plain function on the I/O thread (quick answers only; see
    /// [`ServerBuilder::route_fn`]).
    pub fn route_fn<R, F>(self, route: R, answer: F) -> Self
    where
        R: Route + Send,
        F: Fn(R::Request) -> Result<R::Reply, HandlerError> + Send + Sync + 'static,
    {
        self.setup(move |b, _| b.route_fn(route, answer))
    }

    /// Serves route `R` with an async function (see [`ServerBuilder::route_async`]).
    pub fn route_async<R, F, Fut>(self, route: R, answer: F) -> Self
    where
        R: Route + Send,
        F: Fn(R::Request) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<R::Reply, HandlerError>> + 'static,
    {
        self.setup(move |b, _| b.route_async(route, answer))
    }

    /// Serves route `R` with a pool of actors; `handler_pools` in the configuration overrides
    /// `instances`.
    pub fn route_pool<R, H, F>(self, route: R, instances: usize, factory: F) -> Self
    where
        R: Route + Send,
        H: Actor<Context = Context<H>> + Handler<Dispatch<R>>,
        F: Fn() -> H + Send + Sync + 'static,
    {
        self.setup(move |b, config| {
            let n = config
                .handler_pools
                .get(R::KEY)
                .copied()
                .unwrap_or(instances);
            b.route_pool(route, n, factory)
        })
    }

    /// Serves route `R` with blocking handlers on their own threads; `handler_pools` in the
    /// configuration overrides `threads`.
    pub fn route_blocking<R, H, F>(self, route: R, threads: usize, factory: F) -> Self
    where
        R: Route + Send,
        H: Actor<Context = SyncContext<H>> + Handler<Dispatch<R>>,
        F: Fn() -> H + Send + Sync + 'static,
    {
        self.setup(move |b, config| {
            let n = config.handler_pools.get(R::KEY).copied().unwrap_or(threads);
            b.route_blocking(route, n, factory)
        })
    }

    /// Serves route `R` as a queued route: each request is stored in the application's queue
    /// store (`queue_store`, in `data_dir`), acknowledged with its id, and processed later by
    /// the route's workers, with retries and an error queue (`docs/queued-endpoints.md`).
    /// `handler_pools` in the configuration overrides the route's worker count.
    pub fn queued<R, H>(self, route: QueuedRoute<R, H>) -> Self
    where
        R: Route,
        H: Actor<Context = Context<H>> + Handler<Dispatch<R>>,
    {
        self.queued_with(move |_| route)
    }

    /// As [`queued`](Self::queued), with the route made from the loaded configuration (for
    /// handlers that read settings from `extra`).
    pub fn queued_with<R, H>(
        mut self,
        make: impl FnOnce(&Config) -> QueuedRoute<R, H> + Send + 'static,
    ) -> Self
    where
        R: Route,
        H: Actor<Context = Context<H>> + Handler<Dispatch<R>>,
    {
        self.queued_keys.push(R::KEY);
        self.queued.push(Box::new(move |builder, config, store| {
            let route = make(config);
            let route = match config.handler_pools.get(R::KEY) {
                Some(&workers) => route.workers(workers),
                None => route,
            };
            Ok(route.add_to(builder, store)?)
        }));
        self
    }

    /// Setup that needs the application's queue store: senders and broadcasters
    /// (`SenderSpec::build` with the store, then `builder.supervise(child)`, and the
    /// [`Sender`](hubwire_actors::sender::Sender) handed to the routes that use it). With any
    /// such step the application opens its store as for queued routes and serves
    /// `hubwire.sender.*`.
    pub fn with_store(
        mut self,
        f: impl FnOnce(ServerBuilder, &Config, &StoreHandle) -> Result<ServerBuilder, SetupError>
            + Send
            + 'static,
    ) -> Self {
        self.queued.push(Box::new(f));
        self
    }

    /// Serves work queues to remote workers (`docs/work-queue.md`): a dispatcher with the
    /// options `options` makes from the loaded configuration, its durable queues in the
    /// application's store (so they share its group commit and the `hubwire.queue.*` operator
    /// endpoints). It prints `<app> work queue listening on <address>` before the app's own
    /// listeners. The dispatcher takes the app's users and TLS certificate (for a `tls://`
    /// listen address) unless its options set their own
    /// ([`DispatcherOptions::secured_like`](hubwire_actors::work::DispatcherOptions::secured_like)).
    pub fn work(
        self,
        options: impl FnOnce(&Config) -> hubwire_actors::work::DispatcherOptions + Send + 'static,
    ) -> Self {
        let app = self.name.clone();
        let work_queues = self.work_queues.clone();
        self.with_store(move |builder, config, store| {
            let options = options(config)
                .secured_like(config)
                .map_err(|e| SetupError::from(format!("work queue security: {e}")))?;
            let handle = hubwire_actors::work::start_dispatcher(options, Some(store))?;
            let mut directory = work_queues.lock().unwrap_or_else(|e| e.into_inner());
            *directory = directory.with(&handle);
            println!("{app} work queue listening on {}", handle.address);
            tracing::info!(address = %handle.address, "work queue dispatcher serving");
            Ok(builder)
        })
    }

    /// Whether the application has queued routes or senders (and so needs a queue store).
    pub fn has_queued_routes(&self) -> bool {
        !self.queued.is_empty()
    }

    /// Adds this application's routes and setup to `builder`, as [`run`](Self::run) does with
    /// the loaded configuration (`handler_pools` included). For embedding an application's
    /// routes in another server, and for tests.
    ///
    /// # Panics
    /// When the application has queued routes: they need a store; use
    /// [`apply_with_store`](Self::apply_with_store).
    pub fn apply(self, builder: ServerBuilder) -> ServerBuilder {
        assert!(
            self.queued.is_empty(),
            "App::apply: this application has queued routes; use apply_with_store"
        );
        self.apply_with_store(builder, None)
            .expect("no queued routes, so nothing can fail")
    }

    /// Adds this application's routes and setup to `builder`, its queued routes kept by
    /// `store` along with the `hubwire.queue.*` operator endpoints, as [`run`](Self::run)
    /// does. A store is needed when the application has queued routes.
    pub fn apply_with_store(
        self,
        mut builder: ServerBuilder,
        store: Option<&StoreHandle>,
    ) -> Result<ServerBuilder, SetupError> {
        let config = builder.config().clone();
        for step in self.setup {
            builder = step(builder, &config);
        }
        if self.queued.is_empty() {
            return Ok(builder);
        }
        let Some(store) = store else {
            return Err(QueueError::NoStore.into());
        };
        for step in self.queued {
            builder = step(builder, &config, store)?;
        }
        let allow = config.admin_allow.clone();
        let work_queues = self
            .work_queues
            .lock()
            .map_or_else(|e| e.into_inner().clone(), |d| d.clone());
        // The operator's endpoints name queues by name alone: two queues of one name would be
        // one queue to them, and the other out of reach.
        if let Some(key) = self.queued_keys.iter().find(|k| work_queues.contains(k)) {
            return Err(format!(
                "the in-memory work queue {key:?} has the name of a queued route: the \
                 hubwire.queue.* endpoints and `hubwire queue` could reach only one of them; \
                 rename one"
            )
            .into());
        }
        let queues = QueueAdmin::new(store.clone()).with_work_queues(work_queues);
        let builder = queue_endpoints::add_admin_endpoints::<queue_endpoints::Queues>(
            builder,
            queues,
            allow.clone(),
        );
        let senders = QueueAdmin::senders(store.clone());
        Ok(queue_endpoints::add_admin_endpoints::<
            queue_endpoints::Senders,
        >(builder, senders, allow))
    }

    /// Parses the process's arguments and runs until SIGINT or SIGTERM.
    pub fn run(self) -> ExitCode {
        let cli = Cli::parse();
        self.run_with(cli.args)
    }

    /// Runs with arguments parsed elsewhere (an application with flags of its own flattens
    /// [`AppArgs`] into its parser).
    pub fn run_with(self, args: AppArgs) -> ExitCode {
        let name = self.name.clone();
        let fail = |code: u8, message: &dyn std::fmt::Display| {
            eprintln!("{name}: {message}");
            ExitCode::from(code)
        };
        if !valid_name(&self.name) || !valid_name(&args.instance) {
            return fail(
                EXIT_CONFIG,
                &"the app name and --instance must be letters, digits, '-' and '_'",
            );
        }
        let flags = match args.flag_values() {
            Ok(flags) => flags,
            Err(message) => return fail(EXIT_CONFIG, &message),
        };
        let env: Vec<(String, String)> = std::env::vars()
            .filter(|(k, _)| k.starts_with("HUBWIRE_"))
            .collect();
        let loaded = load_over(
            self.defaults,
            &self.name,
            &args.instance,
            args.config.as_deref(),
            &env,
            &flags,
        );
        let layered = match loaded {
            Ok(layered) => layered,
            Err(e) => return fail(EXIT_CONFIG, &e),
        };
        if args.print_config {
            print!("{}", layered.describe());
            return ExitCode::SUCCESS;
        }
        let config = layered.config;
        if let Some(why) = self.checks.iter().find_map(|check| check(&config).err()) {
            return fail(EXIT_CONFIG, &why);
        }
        let (log_level, log_guard) = match logging::init(&config) {
            Ok(logging) => logging,
            Err(e) => return fail(EXIT_CONFIG, &e),
        };
        let lock = match InstanceLock::acquire(&config.lock_dir, &self.name, &args.instance) {
            Ok(lock) => lock,
            Err(e @ LockError::AlreadyRunning { .. }) => return fail(EXIT_ALREADY_RUNNING, &e),
            Err(e) => return fail(EXIT_CONFIG, &e),
        };
        remove_stale_sockets(&config);
        let store = if self.queued.is_empty() {
            None
        } else {
            match open_queue_store(&config, &self.name, &args.instance) {
                Ok(store) => Some(store),
                Err(e) => return fail(EXIT_START, &e),
            }
        };
        let identity = endpoints::Identity {
            app: self.name.clone(),
            instance: args.instance.clone(),
            started: Instant::now(),
        };
        let app = App {
            name: self.name,
            defaults: Config::default(),
            setup: self.setup,
            queued: self.queued,
            checks: Vec::new(),
            work_queues: self.work_queues,
            queued_keys: self.queued_keys,
        };
        // The in-memory work queues, for `hubwire.stats`, once the app's steps have run.
        let work_queues = app.work_queues.clone();
        let work_cell = endpoints::WorkQueuesCell::default();
        let system = hubwire_actors::actix::System::new();
        let code = system.block_on(async move {
            let mut builder = ServerBuilder::new(config.clone());
            builder = endpoints::add_standard_endpoints(
                builder,
                identity,
                Some(log_level),
                config.admin_allow.clone(),
                store.clone(),
                work_cell.clone(),
            );
            let injector = endpoints::InjectorCell::default();
            if config.fault_injection {
                builder = endpoints::add_fault_endpoint(builder, injector.clone(), config.admin_allow.clone());
            }
            let (escalated, mut escalation) = tokio::sync::mpsc::unbounded_channel();
            builder = builder.on_escalation(move |gave_up| {
                let _ = escalated.send(gave_up);
            });
            builder = match app.apply_with_store(builder, store.as_ref()) {
                Ok(builder) => {
                    let directory = work_queues.lock().map_or_else(|e| e.into_inner().clone(), |d| d.clone());
                    let _ = work_cell.set(directory);
                    builder
                }
                Err(e) => {
                    eprintln!("{name}: cannot set up the queued routes and senders: {e}");
                    return EXIT_START;
                }
            };
            let server = match builder.start().await {
                Ok(server) => server,
                Err(e) => {
                    // One line on the console; the log file, if any, keeps it too.
                    if config.log_file.is_some() {
                        tracing::error!(error = %e, "cannot start");
                    }
                    eprintln!("{name}: {e}");
                    return EXIT_START;
                }
            };
            for address in server.addresses() {
                println!("{name} listening on {address}");
                tracing::info!(%address, "serving");
            }
            use std::io::Write;
            let _ = std::io::stdout().flush();
            let _ = injector.set(server.fault_injector());
            let reloads = reload::reload_on_sighup(server.tls().cloned());
            let code = tokio::select! {
                signal = shutdown_signal() => {
                    tracing::info!(signal, "shutting down");
                    0
                }
                Some(gave_up) = escalation.recv() => {
                    tracing::error!(child = %gave_up.child, failure = %gave_up.last_failure, "giving up: {gave_up}; shutting down");
                    eprintln!("{name}: {gave_up}; shutting down");
                    EXIT_ESCALATED
                }
            };
            reloads.abort();
            let forced = server.shutdown().await;
            if forced > 0 {
                tracing::warn!(forced, "connections were closed at the shutdown deadline");
            }
            if let Some(store) = &store {
                // Every acknowledged enqueue is committed already; this lets the last
                // completions commit and closes the file.
                store.stop().await;
            }
            code
        });
        drop(lock);
        drop(log_guard);
        ExitCode::from(code)
    }
}

/// Removes Unix socket files left by a dead instance: safe because this instance holds the
/// lock. A path that is not a socket, or a socket something still answers on, is left alone (the
/// bind then fails and says so).
fn remove_stale_sockets(config: &Config) {
    use std::os::unix::fs::FileTypeExt;
    for address in &config.listen {
        let Address::Unix(path) = address else {
            continue;
        };
        let Ok(meta) = std::fs::symlink_metadata(path) else {
            continue;
        };
        if !meta.file_type().is_socket() {
            tracing::debug!(path = %path.display(), "a listen path holds a file that is not a socket; leaving it");
            continue;
        }
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            tracing::debug!(path = %path.display(), "another process answers on this socket; leaving it");
            continue;
        }
        tracing::info!(path = %path.display(), "removing a socket file left by an earlier run");
        let _ = std::fs::remove_file(path);
    }
}

/// Waits for SIGINT or SIGTERM; returns which.
async fn shutdown_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return "SIGINT";
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    }
}
