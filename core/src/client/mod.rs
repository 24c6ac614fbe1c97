//! The typed client: plain tokio, usable with or without an actix system.
//!
//! ```no_run
//! # async fn demo() -> Result<(), hubwire_core::client::CallError> {
//! use hubwire_core::{client::Client, route};
//! route!(pub Echo = "echo", String => String);
//! let client = Client::new("tcp://127.0.0.1:7400".parse().unwrap());
//! let reply: String = client.call::<Echo>(&"hello".to_owned()).await?;
//! # Ok(()) }
//! ```

mod connection;
mod error;
mod options;

pub use error::CallError;
pub use options::ClientOptions;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::protocol::{Cancel, Envelope, Headers, Request, Response, LENGTH_BYTES};
use crate::{decode_body, encode_body, Address, Route};
use connection::Live;

/// A client of one server address. Cheap to clone; clones share one connection, on which any
/// number of calls are in flight at once (pipelined, replies matched by id).
///
/// The connection is opened by the first call, and opened again by the next call after it drops.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    address: Address,
    options: ClientOptions,
    live: tokio::sync::Mutex<Option<Arc<Live>>>,
    next_id: AtomicU64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("address", &self.inner.address)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client of `address` with default options; nothing is opened until the first call.
    pub fn new(address: Address) -> Client {
        Client::with_options(address, ClientOptions::default())
    }

    /// A client of `address` with `options`.
    pub fn with_options(address: Address, options: ClientOptions) -> Client {
        Client {
            inner: Arc::new(Inner {
                address,
                options,
                live: tokio::sync::Mutex::new(None),
                next_id: AtomicU64::new(1),
            }),
        }
    }

    /// A client that has already connected (so a wrong address shows at once).
    pub async fn connect(address: Address, options: ClientOptions) -> Result<Client, CallError> {
        let client = Client::with_options(address, options);
        client.live().await?;
        Ok(client)
    }

    /// The server address.
    pub fn address(&self) -> &Address {
        &self.inner.address
    }

    /// Calls route `R` with the default timeout.
    pub async fn call<R: Route>(&self, request: &R::Request) -> Result<R::Reply, CallError> {
        self.call_with_timeout::<R>(request, self.inner.options.call_timeout)
            .await
    }

    /// Calls route `R`; `timeout` also travels as the request's deadline, so a server that gets
    /// the request too late answers timeout instead of running it.
    pub async fn call_with_timeout<R: Route>(
        &self,
        request: &R::Request,
        timeout: Duration,
    ) -> Result<R::Reply, CallError> {
        let body = encode_body(request)?;
        let reply = self
            .call_raw_with(R::KEY, body, Headers::new(), timeout, R::IDEMPOTENT)
            .await?;
        Ok(decode_body(&reply.body)?)
    }

    /// Calls a route by key with an already-encoded body, returning the whole response. The
    /// request is sent once.
    pub async fn call_raw(
        &self,
        route: &str,
        body: Bytes,
        headers: Headers,
        timeout: Duration,
    ) -> Result<Response, CallError> {
        self.call_raw_with(route, body, headers, timeout, false)
            .await
    }

    /// Like [`call_raw`](Self::call_raw); when `idempotent` and the transport is UDP, the request
    /// is resent every [`ClientOptions::udp_resend_every`] until a reply or the timeout.
    pub async fn call_raw_with(
        &self,
        route: &str,
        body: Bytes,
        mut headers: Headers,
        timeout: Duration,
        idempotent: bool,
    ) -> Result<Response, CallError> {
        let started = tokio::time::Instant::now();
        let live = tokio::time::timeout(timeout, self.live())
            .await
            .map_err(|_| CallError::Timeout {
                route: route.to_owned(),
                after: timeout,
            })??;
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        headers.set_deadline(timeout.saturating_sub(started.elapsed()));
        let request = Request {
            id,
            route: route.to_owned(),
            headers,
            body,
        };
        let frame = request.to_frame_bytes()?;
        let max = live.server.max_frame as usize;
        let length = frame.len() - LENGTH_BYTES;
        if length > max {
            return Err(CallError::TooLarge { size: length, max });
        }
        let mut reply = live.send(id, frame.clone())?;
        if idempotent && live.datagram {
            let every = self.inner.options.udp_resend_every;
            let mut next = started + every;
            while next < started + timeout {
                tokio::select! {
                    result = &mut reply => return result.unwrap_or_else(|_| Err(CallError::ConnectionLost {
                        reason: "the connection ended before the reply".into(),
                    })),
                    _ = tokio::time::sleep_until(next) => live.send_untracked(frame.clone()),
                }
                next += every;
            }
        }
        match tokio::time::timeout_at(started + timeout, reply).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(CallError::ConnectionLost {
                reason: "the connection ended before the reply".into(),
            }),
            Err(_) => {
                live.forget(id);
                if let Ok(cancel) = (Cancel { id }).to_frame_bytes() {
                    live.send_untracked(cancel);
                }
                Err(CallError::Timeout {
                    route: route.to_owned(),
                    after: timeout,
                })
            }
        }
    }

    /// The live connection, opened now if there is none or the last one ended.
    async fn live(&self) -> Result<Arc<Live>, CallError> {
        let mut slot = self.inner.live.lock().await;
        if let Some(live) = slot.as_ref() {
            if !live.is_closed() {
                return Ok(live.clone());
            }
        }
        let live = Arc::new(self.open().await?);
        *slot = Some(live.clone());
        Ok(live)
    }

    async fn open(&self) -> Result<Live, CallError> {
        let options = &self.inner.options;
        let address = &self.inner.address;
        let attempt = async {
            match address {
                Address::Tcp(addr) => {
                    let stream = tokio::net::TcpStream::connect(addr)
                        .await
                        .map_err(|source| CallError::Connect {
                            address: address.clone(),
                            source,
                        })?;
                    let _ = stream.set_nodelay(options.tcp_nodelay);
                    connection::open(stream, options).await
                }
                Address::Unix(path) => {
                    let stream = tokio::net::UnixStream::connect(path)
                        .await
                        .map_err(|source| CallError::Connect {
                            address: address.clone(),
                            source,
                        })?;
                    connection::open(stream, options).await
                }
                Address::Udp(addr) => connection::open_udp(*addr, options).await,
            }
        };
        tokio::time::timeout(options.connect_timeout, attempt)
            .await
            .map_err(|_| CallError::ConnectTimeout {
                address: address.clone(),
                after: options.connect_timeout,
            })?
    }
}
