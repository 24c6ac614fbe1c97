//! hubwire under load: an in-process server (an actix system on its own thread, as the tests
//! run theirs; the echo route, or whatever routes a bench adds) and typed clients keeping calls
//! in flight.

use std::time::{Duration, Instant};

use bytes::Bytes;
use hubwire_actors::actix::{self, Actor, Context};
use hubwire_actors::handler::{Reply, Serve};
use hubwire_actors::queue::Queued;
use hubwire_actors::{Server, ServerBuilder};
use hubwire_core::client::{CallError, Client, ClientOptions};
use hubwire_core::protocol::Headers;
use hubwire_core::{decode_body, Address, Config};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::stats::{Sample, Window};

/// The echo route's request and reply, as in `examples/routes/echo.rs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct EchoMessage {
    /// Echoed back unchanged.
    pub message: String,
}

hubwire_core::route!(pub(crate) BenchEcho = "echo", EchoMessage => EchoMessage, idempotent = true);

/// Answers every echo with the message it was sent.
pub(crate) struct Echoer;

impl Actor for Echoer {
    type Context = Context<Self>;
}

impl Serve<BenchEcho> for Echoer {
    fn serve(&mut self, message: EchoMessage, _: &mut Context<Self>) -> Reply<EchoMessage> {
        Reply::ok(message)
    }
}

hubwire::serve!(Echoer: BenchEcho);

/// How long the in-process server has to start.
const START_PATIENCE: Duration = Duration::from_secs(10);

/// `io_spin_us` for every in-process server of this run (`hubwire bench --io-spin-us`), when
/// not the configuration's default.
static IO_SPIN: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();

/// Sets `io_spin_us` of the in-process servers this run starts from now on (once per run).
pub fn set_io_spin(spin: Duration) {
    let _ = IO_SPIN.set(spin);
}

/// A server on its own thread and actix system; dropping it stops the server and joins the
/// thread.
pub(crate) struct InProcessServer {
    /// Where it listens (port resolved).
    pub address: Address,
    /// Its I/O threads.
    pub io_threads: usize,
    /// How long its I/O threads poll after a read (`io_spin_us`).
    pub io_spin: Duration,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for InProcessServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcessServer")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// Adds a bench's routes to the builder of its server; runs inside the server's actix system.
pub(crate) type Routes = Box<dyn FnOnce(ServerBuilder) -> Result<ServerBuilder, String> + Send>;

impl InProcessServer {
    /// Its threads, for the header of a run: "2 I/O threads, io_spin_us 200".
    pub fn threads(&self) -> String {
        format!(
            "{} I/O threads, io_spin_us {}",
            self.io_threads,
            self.io_spin.as_micros()
        )
    }

    /// Starts a server with the `echo` route on `listen` and the default configuration
    /// otherwise (one I/O thread per core).
    pub fn echo(listen: Address) -> Result<InProcessServer, String> {
        InProcessServer::start(listen, echo_routes())
    }

    /// Starts a server with the routes `routes` adds on `listen` and the default configuration
    /// otherwise (one I/O thread per core).
    pub fn start(listen: Address, routes: Routes) -> Result<InProcessServer, String> {
        let config = Config {
            listen: vec![listen],
            ..Config::default()
        };
        InProcessServer::with_config(config, routes)
    }

    /// Starts a server of `config` with the routes `routes` adds (`address`: its first listen
    /// address).
    pub fn with_config(mut config: Config, routes: Routes) -> Result<InProcessServer, String> {
        if let Some(spin) = IO_SPIN.get() {
            config.io_spin = *spin;
        }
        let (io_threads, io_spin) = (config.io_thread_count(), config.io_spin);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("hubwire-bench-server".into())
            .spawn(move || {
                let system = actix::System::new();
                system.block_on(async move {
                    let started = match routes(Server::builder(config)) {
                        Ok(builder) => builder.start().await.map_err(|e| e.to_string()),
                        Err(e) => Err(e),
                    };
                    let server = match started {
                        Ok(server) => server,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(server.addresses()[0].clone()));
                    // Wait for the stop signal without blocking the system's thread.
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    std::thread::spawn(move || {
                        let _ = stop_rx.recv();
                        let _ = tx.send(());
                    });
                    let _ = rx.await;
                    server.stop();
                    // Let the arbiters see their stop before the system goes.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                });
            })
            .map_err(|e| format!("cannot start the server thread: {e}"))?;
        let mut server = InProcessServer {
            address: Address::default_listen(),
            io_threads,
            io_spin,
            stop: Some(stop_tx),
            thread: Some(thread),
        };
        server.address = ready_rx
            .recv_timeout(START_PATIENCE)
            .map_err(|e| format!("the in-process server did not start: {e}"))??;
        Ok(server)
    }
}

impl Drop for InProcessServer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The `echo` route.
pub(crate) fn echo_routes() -> Routes {
    Box::new(|builder| Ok(builder.route(BenchEcho, || Echoer)))
}

/// `clients` clients of `address`, each connected (one connection each) before the clock starts.
pub(crate) async fn connect(
    address: &Address,
    clients: usize,
    timeout: Duration,
    tls: Option<hubwire_core::tls::TlsClient>,
    compression: Vec<hubwire_core::compression::Algorithm>,
) -> Result<Vec<Client>, CallError> {
    let options = ClientOptions {
        connect_timeout: timeout,
        call_timeout: timeout,
        tls,
        compression,
        ..ClientOptions::default()
    };
    let mut connected = Vec::with_capacity(clients);
    for _ in 0..clients {
        connected.push(Client::connect(address.clone(), options.clone()).await?);
    }
    Ok(connected)
}

/// What a successful reply must be to count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expect {
    /// Any reply.
    Any,
    /// The body sent (an echo).
    Echo,
    /// A queued route's acknowledgement, [`Queued`] `{id}`.
    Queued,
}

impl Expect {
    /// Whether `reply` is what was expected of a call that sent `body`.
    fn accepts(self, body: &Bytes, reply: &Bytes) -> bool {
        match self {
            Expect::Any => true,
            Expect::Echo => reply == body,
            Expect::Queued => decode_body::<Queued>(reply).is_ok(),
        }
    }
}

/// What a load run sends.
#[derive(Clone, Debug)]
pub(crate) struct Calls {
    /// The route key.
    pub route: String,
    /// The encoded body.
    pub body: Bytes,
    /// Bodies sent in turn instead of `body` when there are any (different bodies, so a
    /// compressed stream cannot just point back at the last one).
    pub bodies: std::sync::Arc<[Bytes]>,
    /// What a reply must be to count as a success.
    pub expect: Expect,
    /// Each call's timeout.
    pub timeout: Duration,
    /// While this says `false`, no call is sent: how a bench holds its clients back (a queue's
    /// backlog, say) without counting refusals. `None`: always open.
    pub gate: Option<watch::Receiver<bool>>,
}

/// Keeps `depth` calls in flight on each client until the window closes; returns what was
/// measured once every call has finished.
pub(crate) async fn drive(
    clients: &[Client],
    depth: usize,
    calls: &Calls,
    window: Window,
) -> Sample {
    let mut loops = Vec::with_capacity(clients.len() * depth);
    for client in clients {
        for _ in 0..depth {
            loops.push(tokio::spawn(call_loop(
                client.clone(),
                calls.clone(),
                window,
            )));
        }
    }
    let mut sample = Sample::default();
    for one in loops {
        match one.await {
            Ok(part) => sample.merge(part),
            Err(e) => sample.error(format!("load task failed: {e}"), 1),
        }
    }
    sample
}

/// One synchronous caller: the next call as soon as the last is answered.
async fn call_loop(client: Client, mut calls: Calls, window: Window) -> Sample {
    // One turn for every caller: a body comes again only after all the others were sent.
    static TURN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let mut sample = Sample::default();
    loop {
        if let Some(gate) = calls.gate.as_mut() {
            if gate.wait_for(|open| *open).await.is_err() {
                calls.gate = None; // the gate's keeper is gone: open for good
            }
        }
        let sent = Instant::now();
        if !window.open(sent) {
            return sample;
        }
        let body = match calls.bodies.len() {
            0 => calls.body.clone(),
            n => calls.bodies[TURN.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % n].clone(),
        };
        let result = client
            .call_raw(&calls.route, body.clone(), Headers::new(), calls.timeout)
            .await;
        let done = Instant::now();
        match result {
            Ok(reply) if !calls.expect.accepts(&body, &reply.body) => {
                sample.error("wrong reply", 1)
            }
            Ok(_) => sample.success(&window, done, done - sent),
            Err(e) => {
                sample.error(error_kind(&e), 1);
                if e.never_sent() {
                    // No server to reach: do not spin.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }
}

/// The kind of a failed call, as counted in the report.
pub(crate) fn error_kind(error: &CallError) -> String {
    match error {
        CallError::Connect { .. } => "cannot connect".into(),
        CallError::ConnectTimeout { .. } => "connect timeout".into(),
        CallError::Timeout { .. } => "timeout".into(),
        CallError::ConnectionLost { .. } => "connection lost".into(),
        CallError::Remote { code, .. } => format!("remote {code}"),
        CallError::Body(_) => "body".into(),
        CallError::Protocol(_) => "protocol".into(),
        CallError::TooLarge { .. } => "too large".into(),
    }
}
