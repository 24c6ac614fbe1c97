//! Hubs with a `nats://` listener for tests, and NATS clients of them.
#![allow(dead_code)]

use std::time::Duration;

use hubwire::hub::HubLimits;
use hubwire::Config;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{loopback_config, recv_or_fail, TestServer, PATIENCE};

/// A hub configuration listening on `tcp://127.0.0.1:<tcp>` and `nats://127.0.0.1:<nats>`
/// (0: any free port).
pub fn nats_hub_config(tcp: u16, nats: u16) -> Config {
    let mut config = loopback_config();
    config.listen = vec![
        format!("tcp://127.0.0.1:{tcp}").parse().unwrap(),
        format!("nats://127.0.0.1:{nats}").parse().unwrap(),
    ];
    config
}

/// A hub with a NATS listener, both on free ports.
pub fn nats_hub() -> TestServer {
    start_nats_hub(nats_hub_config(0, 0))
}

/// A hub with `config` (which has a `nats://` listener).
pub fn start_nats_hub(config: Config) -> TestServer {
    TestServer::start(config, |b| b.hub(HubLimits::default())).expect("the hub starts")
}

impl TestServer {
    /// The `nats://` address of this server, as NATS clients take it.
    pub fn nats_url(&self) -> String {
        self.addresses
            .iter()
            .find(|a| a.scheme() == "nats")
            .expect("a nats:// listener")
            .to_string()
    }

    /// The port of the `nats://` listener.
    pub fn nats_port(&self) -> u16 {
        self.addresses
            .iter()
            .find(|a| a.scheme() == "nats")
            .and_then(|a| a.socket_addr())
            .expect("a nats:// listener")
            .port()
    }
}

/// An `async-nats` client of `url` with default options, connected.
pub async fn nats_client(url: &str) -> async_nats::Client {
    nats_client_with(url, async_nats::ConnectOptions::new()).await
}

/// An `async-nats` client of `url` with `options`, connected.
pub async fn nats_client_with(
    url: &str,
    options: async_nats::ConnectOptions,
) -> async_nats::Client {
    let options = options
        .connection_timeout(PATIENCE)
        .request_timeout(Some(Duration::from_secs(5)));
    tokio::time::timeout(PATIENCE, options.connect(url))
        .await
        .unwrap_or_else(|_| panic!("no connection to {url} in {PATIENCE:?}"))
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"))
}

/// Waits until every subscription `client` sent so far is in force at the hub. `async-nats`'s
/// `flush` only writes out what the client queued (it sends no PING), so it is no barrier
/// for other connections' publishes; a request is: the hub takes a client's operations in
/// order, so its no-responders answer comes after the subscriptions before it are applied.
pub async fn subscribed(client: &async_nats::Client) {
    let subject = format!("barrier.{}", fastrand::u64(..));
    let answer = tokio::time::timeout(PATIENCE, client.request(subject, bytes::Bytes::new()))
        .await
        .expect("an answer to the barrier request");
    let err = answer.expect_err("nobody answers a barrier request");
    assert_eq!(
        err.kind(),
        async_nats::RequestErrorKind::NoResponders,
        "{err}"
    );
}

/// A raw NATS connection: sends bytes, reads lines.
pub struct RawNats {
    stream: TcpStream,
    read: Vec<u8>,
}

impl RawNats {
    /// Connects and reads the INFO line.
    pub async fn connect(hub: &TestServer) -> RawNats {
        let stream = TcpStream::connect(("127.0.0.1", hub.nats_port()))
            .await
            .unwrap();
        let mut raw = RawNats {
            stream,
            read: Vec::new(),
        };
        let info = raw.line().await.expect("INFO");
        assert!(info.starts_with("INFO {"), "{info}");
        raw
    }

    /// A connection over `stream`, its INFO not read.
    pub fn over(stream: TcpStream) -> RawNats {
        RawNats {
            stream,
            read: Vec::new(),
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// The next line, or `None` once the hub has closed.
    pub async fn line(&mut self) -> Option<String> {
        recv_or_fail("a line from the hub", async {
            loop {
                if let Some(end) = self.read.windows(2).position(|w| w == b"\r\n") {
                    let line = self.read.drain(..end + 2).collect::<Vec<u8>>();
                    return Some(String::from_utf8_lossy(&line[..end]).into_owned());
                }
                let mut buf = [0u8; 4096];
                match self.stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => self.read.extend_from_slice(&buf[..n]),
                }
            }
        })
        .await
    }

    /// The next `n` bytes (a payload and its line end).
    pub async fn bytes(&mut self, n: usize) -> Vec<u8> {
        recv_or_fail("bytes from the hub", async {
            while self.read.len() < n {
                let mut buf = [0u8; 4096];
                match self.stream.read(&mut buf).await {
                    Ok(0) | Err(_) => panic!("the hub closed before {n} bytes"),
                    Ok(n) => self.read.extend_from_slice(&buf[..n]),
                }
            }
            self.read.drain(..n).collect()
        })
        .await
    }

    /// Asserts the next line is `want`, then that the hub closes.
    pub async fn refused_and_closed(&mut self, want: &str) {
        assert_eq!(self.line().await.as_deref(), Some(want));
        assert_eq!(self.line().await, None, "closed after {want}");
    }
}
