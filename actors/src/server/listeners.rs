//! The server's supervision tree of listeners, and fault injection into it.
//!
//! ```text
//! supervisor "server"                one_for_one, escalates to the application
//! ├── supervisor "listeners.tcp"     one_for_one
//! │   └── listener tcp://127.0.0.1:7400 …
//! └── supervisor "listeners.unix"    one_for_one
//!     └── listener unix:///run/app.sock …
//! ```
//!
//! A listener's first incarnation uses the socket bound at start; a restarted one binds the same
//! address again, so the port serves again.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::{Actor, Addr, Arbiter, ArbiterHandle, Context, Handler, Recipient};
use hubwire_core::stats::StatsRegistry;
use hubwire_core::Address;
use tokio::sync::watch;

use crate::supervisor::{
    actor_child, ChildHandle, ChildSpec, FailChild, GaveUp, Supervisor, SupervisorOptions,
};
use crate::transport::listener::{Bound, ConnectionClosed, OpenConnections};
use crate::transport::{
    bind_udp, ConnectionShared, Listener, SocketOptions, UdpEndpoint, UdpStats,
};

/// Binds `address` again for a restarted listener (SO_REUSEADDR, so connections of the old one
/// in TIME_WAIT do not block it; a Unix socket file of the old one is replaced).
fn rebind(address: &Address, options: SocketOptions, mode: u32) -> io::Result<Bound> {
    match address {
        Address::Tcp(hp)
        | Address::Tls(hp)
        | Address::Nats(hp)
        | Address::Ws { at: hp, .. }
        | Address::Wss { at: hp, .. } => {
            let addr = hp
                .socket_addr()
                .ok_or_else(|| crate::transport::listener::unresolved(address))?;
            let domain = socket2::Domain::for_address(addr);
            let socket = socket2::Socket::new(domain, socket2::Type::STREAM, None)?;
            socket.set_reuse_address(true)?;
            socket.set_nonblocking(true)?;
            socket.bind(&addr.into())?;
            socket.listen(1024)?;
            let listener = tokio::net::TcpListener::from_std(socket.into())?;
            Ok(Bound::Tcp(listener, options))
        }
        Address::Unix(path) => {
            let _ = std::fs::remove_file(path);
            let listener = std::os::unix::net::UnixListener::bind(path)?;
            listener.set_nonblocking(true)?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
            Ok(Bound::Unix(
                tokio::net::UnixListener::from_std(listener)?,
                path.clone(),
            ))
        }
        Address::Udp(_) => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "not a stream address",
        )),
    }
}

/// Whether this start should fail by fault injection (and counts it down).
fn take_injected_failure(failing_starts: &AtomicU32) -> bool {
    failing_starts
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

/// Makes supervised listeners fail, for tests and drills: a listener is killed as if it crashed,
/// and its next `failing_restarts` starts fail too (driving a crash loop when that is large).
#[derive(Clone, Debug)]
pub struct FaultInjector {
    root: Addr<Supervisor>,
    transports: Vec<(&'static str, ChildHandle<Supervisor>)>,
    faults: Arc<HashMap<String, Arc<AtomicU32>>>,
}

impl FaultInjector {
    /// Fails the root supervisor's child `id` (a service such as `queue.<route key>`) as if it
    /// crashed; returns whether such a child was running.
    pub async fn fail_child(&self, id: &str) -> bool {
        self.root
            .send(FailChild(id.to_owned()))
            .await
            .unwrap_or(false)
    }

    /// Fails the listener on `address`; returns whether such a listener was running.
    pub async fn fail_listener(&self, address: &Address, failing_restarts: u32) -> bool {
        let Some(fault) = self.faults.get(&address.to_string()) else {
            return false;
        };
        fault.store(failing_restarts, Ordering::SeqCst);
        let Some((_, handle)) = self.transports.iter().find(|(s, _)| *s == address.scheme()) else {
            return false;
        };
        match handle.addr() {
            Some(supervisor) => supervisor
                .send(FailChild(address.to_string()))
                .await
                .unwrap_or(false),
            None => false,
        }
    }
}

/// The running tree.
#[derive(Debug)]
pub(crate) struct ListenerTree {
    pub(crate) root: Addr<Supervisor>,
    pub(crate) faults: FaultInjector,
}

/// What one child of a transport's supervisor needs.
#[derive(Clone)]
enum Seed {
    Stream(ListenerSeed),
    Datagram(DatagramSeed),
}

/// What one listener child needs, kept across incarnations of its transport supervisor.
#[derive(Clone)]
struct ListenerSeed {
    address: Address,
    first: Arc<Mutex<Option<Bound>>>,
    fault: Arc<AtomicU32>,
    /// The open-connection counts, handed from one incarnation to the next.
    handover: Arc<Mutex<Option<OpenConnections>>>,
    /// Where this address's connections report closing.
    relay: Recipient<ConnectionClosed>,
    /// The handle of the listener's current spec (new when its transport supervisor restarts),
    /// for the relay.
    current: Arc<watch::Sender<Option<ChildHandle<Listener>>>>,
}

/// Passes connections' close reports to whichever listener incarnation is running, waiting
/// through a restart, so the counts stay right. Lives as long as the server.
struct CloseRelay {
    listener: watch::Receiver<Option<ChildHandle<Listener>>>,
}

impl Actor for CloseRelay {
    type Context = Context<Self>;
}

impl Handler<ConnectionClosed> for CloseRelay {
    type Result = ();

    fn handle(&mut self, closed: ConnectionClosed, _: &mut Context<Self>) {
        let listener = self.listener.borrow().clone();
        if let Some(listener) = listener {
            actix::spawn(async move {
                let _ = listener.deliver(closed, RELAY_WAIT).await;
            });
        }
    }
}

/// How long a close report waits for a listener incarnation.
const RELAY_WAIT: Duration = Duration::from_secs(30);

fn listener_spec(
    seed: ListenerSeed,
    io_threads: Vec<ArbiterHandle>,
    shared: Arc<ConnectionShared>,
    options: SocketOptions,
    mode: u32,
    registry: &StatsRegistry,
) -> ChildSpec {
    let lost = registry.counter("supervisor.lost_messages", &[("child", "listener")]);
    let id = seed.address.to_string();
    let current = seed.current.clone();
    let (spec, handle) = actor_child(
        id,
        Arbiter::current(),
        move |exit| {
            if take_injected_failure(&seed.fault) {
                return Err("failed to start by fault injection".to_owned());
            }
            let first = seed.first.lock().expect("first socket").take();
            let bound = match first {
                Some(bound) => bound,
                None => rebind(&seed.address, options, mode)
                    .map_err(|e| format!("cannot listen on {} again: {e}", seed.address))?,
            };
            let listener = Listener::new(
                seed.address.clone(),
                bound,
                io_threads.clone(),
                shared.clone(),
            )
            .handing_over(seed.handover.clone(), seed.relay.clone());
            Ok(listener.reporting_to(exit))
        },
        lost,
    );
    current.send_replace(Some(handle));
    spec
}

/// What one UDP endpoint child needs, kept across incarnations.
#[derive(Clone)]
struct DatagramSeed {
    address: Address,
    first: Arc<Mutex<Option<std::net::UdpSocket>>>,
    fault: Arc<AtomicU32>,
    stats: Arc<UdpStats>,
}

fn datagram_spec(
    seed: DatagramSeed,
    thread: ArbiterHandle,
    shared: Arc<ConnectionShared>,
    max_in_flight: usize,
    registry: &StatsRegistry,
) -> ChildSpec {
    let lost = registry.counter("supervisor.lost_messages", &[("child", "udp")]);
    let id = seed.address.to_string();
    let drain = shared.limits.shutdown_timeout;
    let (spec, _handle) = actor_child(
        id,
        thread,
        move |exit| {
            if take_injected_failure(&seed.fault) {
                return Err("failed to start by fault injection".to_owned());
            }
            let first = seed.first.lock().expect("first socket").take();
            let socket = match first {
                Some(socket) => socket,
                None => match seed.address.socket_addr().map(bind_udp) {
                    Some(Ok((socket, _))) => socket,
                    Some(Err(e)) => {
                        return Err(format!("cannot listen on {} again: {e}", seed.address))
                    }
                    None => return Err(format!("{} is not a UDP address", seed.address)),
                },
            };
            let endpoint = UdpEndpoint::new(
                seed.address.clone(),
                socket,
                shared.clone(),
                max_in_flight,
                seed.stats.clone(),
            )
            .map_err(|e| e.to_string())?;
            Ok(endpoint.reporting_to(exit))
        },
        lost,
    );
    // A UDP endpoint finishes its requests in flight when asked to stop.
    spec.shutdown_timeout(drain)
}

/// A socket bound at start.
pub(crate) enum Socket {
    /// A stream listener's.
    Stream(Bound),
    /// A UDP endpoint's, with its counters.
    Datagram(std::net::UdpSocket, Arc<UdpStats>),
}

/// Starts the tree over the sockets bound at start, grouped by transport. `on_escalation` runs
/// if the root gives up.
#[allow(clippy::too_many_arguments)]
pub(crate) fn start(
    bound: Vec<(Socket, Address)>,
    io_threads: Vec<ArbiterHandle>,
    shared: Arc<ConnectionShared>,
    options: SocketOptions,
    mode: u32,
    udp_in_flight: usize,
    supervision: SupervisorOptions,
    registry: &StatsRegistry,
    on_escalation: Box<dyn FnOnce(GaveUp) + Send>,
    services: Vec<ChildSpec>,
) -> ListenerTree {
    let mut by_scheme: Vec<(&'static str, Vec<Seed>)> = Vec::new();
    let mut faults = HashMap::new();
    for (socket, address) in bound {
        let fault = Arc::new(AtomicU32::new(0));
        faults.insert(address.to_string(), fault.clone());
        let seed = match socket {
            Socket::Stream(bound) => {
                let (current, listener) = watch::channel(None);
                let current = Arc::new(current);
                let relay = CloseRelay { listener }.start().recipient();
                Seed::Stream(ListenerSeed {
                    first: Arc::new(Mutex::new(Some(bound))),
                    address: address.clone(),
                    fault,
                    handover: Arc::default(),
                    relay,
                    current,
                })
            }
            Socket::Datagram(socket, stats) => Seed::Datagram(DatagramSeed {
                first: Arc::new(Mutex::new(Some(socket))),
                address: address.clone(),
                fault,
                stats,
            }),
        };
        match by_scheme.iter_mut().find(|(s, _)| *s == address.scheme()) {
            Some((_, seeds)) => seeds.push(seed),
            None => by_scheme.push((address.scheme(), vec![seed])),
        }
    }
    let mut transports = Vec::new();
    let mut transport_specs = Vec::new();
    let child_options = supervision.clone();
    for (scheme, seeds) in by_scheme {
        let name = format!("listeners.{scheme}");
        let (threads, shared, registry_c) = (io_threads.clone(), shared.clone(), registry.clone());
        let child_options = child_options.clone();
        let lost = registry.counter("supervisor.lost_messages", &[("child", name.as_str())]);
        let supervisor_name = name.clone();
        let (spec, handle) = actor_child(
            name,
            Arbiter::current(),
            move |exit| {
                let children = seeds
                    .iter()
                    .enumerate()
                    .map(|(n, seed)| match seed {
                        Seed::Stream(seed) => listener_spec(
                            seed.clone(),
                            threads.clone(),
                            shared.clone(),
                            options,
                            mode,
                            &registry_c,
                        ),
                        Seed::Datagram(seed) => datagram_spec(
                            seed.clone(),
                            threads[n % threads.len()].clone(),
                            shared.clone(),
                            udp_in_flight,
                            &registry_c,
                        ),
                    })
                    .collect();
                let supervisor = Supervisor::new(
                    supervisor_name.clone(),
                    child_options.clone(),
                    children,
                    &registry_c,
                    |_| {},
                );
                Ok(supervisor.reporting_to(exit))
            },
            lost,
        );
        transport_specs.push(spec);
        transports.push((scheme, handle));
    }
    // Services start before the listeners and stop after them (a supervisor stops its
    // children in reverse order), so they serve every request the listeners let in.
    let children = services.into_iter().chain(transport_specs).collect();
    let root = Supervisor::new("server", supervision, children, registry, on_escalation).start();
    ListenerTree {
        root: root.clone(),
        faults: FaultInjector {
            root,
            transports,
            faults: Arc::new(faults),
        },
    }
}
