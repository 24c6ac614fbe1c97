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
mod pending;

#[cfg(test)]
mod connect_tests;

pub use error::CallError;
pub use options::ClientOptions;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;

use crate::protocol::{Headers, Response};
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
    /// The connection calls go out on. Every call reads it, so it is a plain lock held for a
    /// pointer copy, never across an await.
    live: Mutex<Option<Arc<Live>>>,
    /// Held while a connection is opened, so that concurrent calls open one, not one each.
    opening: tokio::sync::Mutex<()>,
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
                live: Mutex::new(None),
                opening: tokio::sync::Mutex::new(()),
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
        self.call_with_headers::<R>(request, Headers::new(), timeout)
            .await
    }

    /// Calls route `R` with request headers (`idempotency-key`, `traceparent`, your own);
    /// `timeout` as for [`call_with_timeout`](Self::call_with_timeout).
    pub async fn call_with_headers<R: Route>(
        &self,
        request: &R::Request,
        headers: Headers,
        timeout: Duration,
    ) -> Result<R::Reply, CallError> {
        let body = encode_body(request)?;
        let reply = self
            .call_raw_with(R::KEY, body, headers, timeout, R::IDEMPOTENT)
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
        let live = match self.open_live() {
            Some(live) => {
                headers.set_deadline(timeout);
                live
            }
            None => {
                let live = tokio::time::timeout(timeout, self.live())
                    .await
                    .map_err(|_| CallError::Timeout {
                        route: route.to_owned(),
                        after: timeout,
                    })??;
                // The time spent connecting is not the server's to use.
                headers.set_deadline(timeout.saturating_sub(started.elapsed()));
                live
            }
        };
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let resend = idempotent && live.datagram;
        let deadline = started + timeout;
        let sent = live.send(id, route, &headers, &body, (deadline, timeout), resend)?;
        let mut reply = sent.reply;
        if let Some(frame) = sent.resend {
            let every = self.inner.options.udp_resend_every;
            let mut next = started + every;
            while next < deadline {
                tokio::select! {
                    result = &mut reply => return self.settle(&live, id, route, timeout, result),
                    _ = tokio::time::sleep_until(next) => live.resend(frame.clone()),
                }
                next += every;
            }
        }
        // The connection's sweeper ends the wait at the deadline.
        let result = reply.await;
        self.settle(&live, id, route, timeout, result)
    }

    /// What a call ends in, once its reply (or its timeout, or the connection's end) is in.
    fn settle(
        &self,
        live: &Live,
        id: u64,
        route: &str,
        timeout: Duration,
        result: Result<Result<Response, CallError>, tokio::sync::oneshot::error::RecvError>,
    ) -> Result<Response, CallError> {
        match result {
            Ok(Err(CallError::Timeout { .. })) => {
                live.cancel(id);
                Err(CallError::Timeout {
                    route: route.to_owned(),
                    after: timeout,
                })
            }
            Ok(result) => result,
            Err(_) => Err(CallError::ConnectionLost {
                reason: "the connection ended before the reply".into(),
            }),
        }
    }

    /// The live connection, if there is one that has not ended.
    fn open_live(&self) -> Option<Arc<Live>> {
        let slot = self
            .inner
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        slot.as_ref().filter(|live| !live.is_closed()).cloned()
    }

    /// The live connection, opened now if there is none or the last one ended.
    async fn live(&self) -> Result<Arc<Live>, CallError> {
        if let Some(live) = self.open_live() {
            return Ok(live);
        }
        let _opening = self.inner.opening.lock().await;
        // Another call may have opened one while this one waited.
        if let Some(live) = self.open_live() {
            return Ok(live);
        }
        let live = Arc::new(self.open().await?);
        *self
            .inner
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(live.clone());
        Ok(live)
    }

    async fn open(&self) -> Result<Live, CallError> {
        let options = &self.inner.options;
        let address = &self.inner.address;
        let refused = |e: crate::net::DialError| match e.kind() {
            std::io::ErrorKind::TimedOut => CallError::ConnectTimeout {
                address: address.clone(),
                after: options.connect_timeout,
            },
            _ => CallError::Connect {
                address: address.clone(),
                source: e.into_io(),
            },
        };
        let attempt = async {
            match address {
                Address::Udp(hp) => {
                    let addrs = crate::net::resolve(hp).await.map_err(refused)?;
                    connection::open_udp(addrs[0], options).await
                }
                _ => {
                    let stream = crate::net::dial(address, &options.dial_options())
                        .await
                        .map_err(refused)?;
                    // A refused client certificate shows only in the CONN exchange.
                    connection::open(stream, address, options)
                        .await
                        .map_err(|e| match e {
                            CallError::Connect { address, source } => CallError::Connect {
                                address,
                                source: crate::net::explain_tls_alert(source),
                            },
                            e => e,
                        })
                }
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
