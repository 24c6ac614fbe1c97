//! Shared test harness: a server on its own thread and actix system (so tests speak to it as an
//! outside client would), test routes, and a raw protocol client.
#![allow(dead_code)]

pub mod bridge;
pub mod certs;
pub mod forwarder;
pub mod hub;
pub mod journal;
pub mod process;
pub mod work;

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use hubwire::prelude::*;
use hubwire::protocol::{decode_frame, kind, Envelope, ErrorFrame, Frame, Hello, PROTOCOL_VERSION};
use hubwire::routing::{RouteStatsSnapshot, RouteTable};
use hubwire::ServerBuilder;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a test waits for anything before failing.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Awaits `future`, failing the test if it takes longer than [`PATIENCE`].
pub async fn recv_or_fail<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

// ---- test routes ----

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub message: String,
}

route!(pub Echo = "test.echo", Message => Message);
route!(pub Fail = "test.fail", String => ());
route!(pub Panic = "test.panic", String => ());
route!(
    /// Blocks the handler's thread for the given milliseconds, then answers with them.
    pub Block = "test.block", u64 => u64
);
route!(
    /// Answers at once, then takes no other message for the given milliseconds (without
    /// blocking the thread), so requests queue in its mailbox.
    pub Hold = "test.hold", u64 => u64
);
route!(
    /// Answers after the given milliseconds without blocking (a `Reply::later`).
    pub Delay = "test.delay", u64 => u64
);

/// Serves every test route.
pub struct TestHandler;

impl Actor for TestHandler {
    type Context = Context<Self>;
}

impl Serve<Echo> for TestHandler {
    fn serve(&mut self, request: Message, _: &mut Context<Self>) -> Reply<Message> {
        Reply::ok(request)
    }
}

impl Serve<Fail> for TestHandler {
    fn serve(&mut self, message: String, _: &mut Context<Self>) -> Reply<()> {
        Reply::err(message)
    }
}

impl Serve<Panic> for TestHandler {
    fn serve(&mut self, message: String, _: &mut Context<Self>) -> Reply<()> {
        panic!("{message}")
    }
}

impl Serve<Block> for TestHandler {
    fn serve(&mut self, ms: u64, _: &mut Context<Self>) -> Reply<u64> {
        std::thread::sleep(Duration::from_millis(ms));
        Reply::ok(ms)
    }
}

impl Serve<Hold> for TestHandler {
    fn serve(&mut self, ms: u64, ctx: &mut Context<Self>) -> Reply<u64> {
        use hubwire::actix::AsyncContext;
        ctx.wait(hubwire::actix::fut::wrap_future(tokio::time::sleep(
            Duration::from_millis(ms),
        )));
        Reply::ok(ms)
    }
}

impl Serve<Delay> for TestHandler {
    fn serve(&mut self, ms: u64, _: &mut Context<Self>) -> Reply<u64> {
        Reply::later(async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(ms)
        })
    }
}

serve!(TestHandler: Echo, Fail, Panic, Block, Hold, Delay);

/// A builder with every test route.
pub fn all_test_routes(builder: ServerBuilder) -> ServerBuilder {
    builder
        .route(Echo, || TestHandler)
        .route(Fail, || TestHandler)
        .route(Panic, || TestHandler)
        .route(Block, || TestHandler)
        .route(Hold, || TestHandler)
        .route(Delay, || TestHandler)
}

/// A config that listens on an ephemeral loopback TCP port.
pub fn loopback_config() -> Config {
    Config {
        listen: vec!["tcp://127.0.0.1:0".parse().unwrap()],
        io_threads: 2,
        ..Config::default()
    }
}

/// A fresh Unix socket path in the temporary directory.
pub fn temp_socket_path() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("hubwire-test-{}-{n}.sock", std::process::id()))
}

/// A config that listens on an ephemeral TCP port and a fresh Unix socket.
pub fn loopback_and_unix_config() -> Config {
    let mut config = loopback_config();
    let unix = format!("unix://{}", temp_socket_path().display());
    config.listen.push(unix.parse().unwrap());
    config
}

/// A server that accepts connections on `address` (TCP or Unix) and never answers: for connect
/// timeouts. Returns the address it listens on; the task stops when aborted.
pub async fn silent_server(address: &Address) -> (Address, tokio::task::JoinHandle<()>) {
    match address {
        Address::Tcp(_) | Address::Tls(_) | Address::Ws { .. } | Address::Wss { .. } => {
            let addr = address.socket_addr().expect("an IP literal");
            let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
            let bound = address.with_socket_addr(listener.local_addr().unwrap());
            let task = tokio::spawn(async move {
                let mut held = Vec::new();
                while let Ok((socket, _)) = listener.accept().await {
                    held.push(socket);
                }
            });
            (bound, task)
        }
        Address::Unix(path) => {
            let listener = tokio::net::UnixListener::bind(path).unwrap();
            let task = tokio::spawn(async move {
                let mut held = Vec::new();
                while let Ok((socket, _)) = listener.accept().await {
                    held.push(socket);
                }
            });
            (address.clone(), task)
        }
        Address::Udp(_) | Address::Nats(_) => panic!("a silent server is a hubwire stream server"),
    }
}

/// Connecting to `address` with a 200 ms connect timeout fails with connect-timeout.
pub async fn assert_connect_times_out(address: Address) {
    let options = ClientOptions {
        connect_timeout: Duration::from_millis(200),
        ..ClientOptions::default()
    };
    let err = Client::connect(address, options).await.unwrap_err();
    assert!(matches!(err, CallError::ConnectTimeout { .. }), "{err}");
}

// ---- the server under test ----

/// A server running on its own thread; dropping it stops the server and joins the thread.
pub struct TestServer {
    pub addresses: Vec<Address>,
    pub udp_stats: Option<Arc<hubwire::transport::UdpStats>>,
    pub registry: hubwire::stats::StatsRegistry,
    pub faults: hubwire::server::FaultInjector,
    /// The TLS settings of its `tls://` listeners, to reload.
    pub tls: Option<Arc<hubwire::tls::ServerTls>>,
    routes: Arc<RouteTable>,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server with `config` and the routes `build` adds.
    pub fn start(
        config: Config,
        build: impl FnOnce(ServerBuilder) -> ServerBuilder + Send + 'static,
    ) -> Result<TestServer, String> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let system = actix::System::new();
            system.block_on(async move {
                match build(Server::builder(config)).start().await {
                    Ok(server) => {
                        let _ = ready_tx.send(Ok((
                            server.addresses().to_vec(),
                            server.route_table(),
                            server.udp_stats(),
                            server.stats_registry().clone(),
                            server.fault_injector(),
                            server.tls().cloned(),
                        )));
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
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                    }
                }
            });
        });
        let (addresses, routes, udp_stats, registry, faults, tls) = ready_rx
            .recv_timeout(PATIENCE)
            .map_err(|e| format!("server did not start: {e}"))??;
        Ok(TestServer {
            addresses,
            udp_stats,
            registry,
            faults,
            tls,
            routes,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// A server on an ephemeral loopback port with every test route.
    pub fn with_test_routes(config: Config) -> TestServer {
        TestServer::start(config, all_test_routes).expect("test server starts")
    }

    /// The server's UDP address.
    pub fn udp(&self) -> Address {
        self.addresses
            .iter()
            .find(|a| a.scheme() == "udp")
            .cloned()
            .expect("a udp endpoint")
    }

    /// The server's Unix socket address.
    pub fn unix(&self) -> Address {
        self.addresses
            .iter()
            .find(|a| a.scheme() == "unix")
            .cloned()
            .expect("a unix listener")
    }

    /// The server's TCP address.
    pub fn tcp(&self) -> Address {
        self.addresses
            .iter()
            .find(|a| a.scheme() == "tcp")
            .cloned()
            .expect("a tcp listener")
    }

    /// The server's TLS address.
    pub fn tls_address(&self) -> Address {
        self.addresses
            .iter()
            .find(|a| a.scheme() == "tls")
            .cloned()
            .expect("a tls listener")
    }

    /// The counters of route `key`.
    pub fn stats(&self, key: &str) -> RouteStatsSnapshot {
        self.routes
            .get(key)
            .expect("route exists")
            .stats()
            .snapshot()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

// ---- a raw protocol client ----

/// A byte stream of any transport.
pub trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

/// A client that speaks raw frames, for bad-input tests.
pub struct Raw {
    pub stream: Box<dyn Io>,
    buf: BytesMut,
}

impl Raw {
    /// Connects (TCP or Unix socket) without a handshake.
    pub async fn connect(address: &Address) -> Raw {
        let stream: Box<dyn Io> = match address {
            Address::Tcp(_) | Address::Tls(_) => {
                let addr = address.socket_addr().expect("an IP literal");
                let stream = recv_or_fail("connect", TcpStream::connect(addr))
                    .await
                    .expect("connects");
                // Small frames one after another: no waiting on Nagle and delayed ACKs.
                stream.set_nodelay(true).expect("TCP_NODELAY");
                Box::new(stream)
            }
            Address::Unix(path) => Box::new(
                recv_or_fail("connect", tokio::net::UnixStream::connect(path))
                    .await
                    .expect("connects"),
            ),
            // Through hubwire's own dialer: the upgrade, then frames as bytes.
            Address::Ws { .. } => Box::new(
                recv_or_fail("connect", hubwire::net::dial(address, &Default::default()))
                    .await
                    .expect("connects and upgrades"),
            ),
            Address::Udp(_) | Address::Wss { .. } | Address::Nats(_) => {
                panic!("Raw speaks tcp, unix and ws")
            }
        };
        Raw {
            stream,
            buf: BytesMut::new(),
        }
    }

    /// Connects over TCP with a receive buffer of `bytes` (set before connecting, so the
    /// kernel holds little for a peer that stops reading).
    pub async fn connect_with_recv_buffer(address: &Address, bytes: u32) -> Raw {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(bytes).unwrap();
        Raw::connect_socket(socket, address).await
    }

    /// Connects over TCP from source address `source` (a second loopback address, such as
    /// 127.0.0.2, stands for another machine).
    pub async fn connect_from(address: &Address, source: &str) -> Raw {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
        Raw::connect_socket(socket, address).await
    }

    async fn connect_socket(socket: tokio::net::TcpSocket, address: &Address) -> Raw {
        let addr = address.socket_addr().expect("an IP address");
        let stream = recv_or_fail("connect", socket.connect(addr))
            .await
            .expect("connects");
        Raw {
            stream: Box::new(stream),
            buf: BytesMut::new(),
        }
    }

    /// Completes the CONN handshake on a connected stream.
    pub async fn hello(&mut self) -> Option<Frame> {
        self.send_envelope(&Hello {
            version: PROTOCOL_VERSION,
            agent: "raw-test".into(),
            max_frame: 1 << 20,
            max_in_flight: 0,
        })
        .await;
        self.recv().await
    }

    /// Connects and completes the CONN handshake.
    pub async fn handshake(address: &Address) -> Raw {
        let mut raw = Raw::connect(address).await;
        raw.send_envelope(&Hello {
            version: PROTOCOL_VERSION,
            agent: "raw-test".into(),
            max_frame: 1 << 20,
            max_in_flight: 0,
        })
        .await;
        let frame = raw.recv().await.expect("server answers CONN");
        assert_eq!(frame.kind, kind::CONN, "server answers CONN");
        raw
    }

    /// Writes raw bytes.
    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write");
    }

    /// Writes an envelope as a frame.
    pub async fn send_envelope(&mut self, envelope: &impl Envelope) {
        let bytes = envelope.to_frame_bytes().unwrap();
        self.send(&bytes).await;
    }

    /// The next frame, or `None` when the server closed the connection.
    pub async fn recv(&mut self) -> Option<Frame> {
        recv_or_fail("a frame", async {
            loop {
                if let Some(frame) = decode_frame(&mut self.buf, usize::MAX).unwrap() {
                    return Some(frame);
                }
                match self.stream.read_buf(&mut self.buf).await {
                    Ok(0) | Err(_) => return None,
                    Ok(_) => {}
                }
            }
        })
        .await
    }

    /// The next frame, which must be an ERROR.
    pub async fn expect_error(&mut self) -> ErrorFrame {
        let frame = self.recv().await.expect("an ERROR frame, not a close");
        ErrorFrame::from_frame(&frame).expect("an ERROR frame")
    }

    /// Waits for the server to close the connection, failing on any frame but those allowed.
    pub async fn expect_closed(&mut self) {
        while let Some(frame) = self.recv().await {
            assert!(
                frame.kind == kind::DISCONN || frame.kind == kind::ERROR,
                "unexpected frame {} before close",
                frame.kind
            );
        }
    }
}

/// `n` sockets connected to `at` that never send a byte.
pub async fn silent_sockets(at: std::net::SocketAddr, n: usize) -> Vec<tokio::net::TcpStream> {
    let mut sockets = Vec::with_capacity(n);
    for _ in 0..n {
        sockets.push(tokio::net::TcpStream::connect(at).await.unwrap());
    }
    sockets
}

/// Whether the server closes a new socket to `at` without a word within `within`.
pub async fn closed_at_once(at: std::net::SocketAddr, within: Duration) -> bool {
    let mut socket = tokio::net::TcpStream::connect(at).await.unwrap();
    let mut byte = [0_u8; 1];
    matches!(
        tokio::time::timeout(within, socket.read(&mut byte)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}
