//! Providers: subscriptions that answer calls (`Spoke::provide`).
//!
//! A provider's handler is an async function of a [`Request`] returning the reply body or an
//! error code and message. The spoke acknowledges each call as soon as it has it; a handler
//! that finishes on its first poll (no waiting) is answered with one ACK|REPLY frame instead
//! of two. A panicking handler answers the call with `handler-failure` and harms nothing else.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::LocalBoxFuture;
use futures::FutureExt;
use hubwire_core::protocol::{ErrorCode, Headers};
use hubwire_core::pubsub::Channel;

/// A call as its provider sees it.
#[derive(Clone, Debug)]
pub struct Request {
    /// The channel called (a provider may serve a pattern).
    pub channel: Channel,
    /// The caller's headers (`deadline-ms`: the time the caller had left when it sent it).
    pub headers: Headers,
    /// The request body, as the caller sent it.
    pub body: Bytes,
}

/// What a provider answers: the reply body, or an error code and a message for the caller.
pub type ProviderResult = Result<Bytes, (ErrorCode, String)>;

type HandlerFn = dyn Fn(Request) -> LocalBoxFuture<'static, ProviderResult> + Send + Sync;

/// A provider's handler, shared by every call it serves.
#[derive(Clone)]
pub(crate) struct Provider(Arc<HandlerFn>);

impl Provider {
    pub(crate) fn new<F, Fut>(handler: F) -> Provider
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ProviderResult> + 'static,
    {
        Provider(Arc::new(move |request| handler(request).boxed_local()))
    }

    /// The handler's answer to `request`, panics included (as `handler-failure`).
    pub(crate) fn serve(&self, request: Request) -> LocalBoxFuture<'static, ProviderResult> {
        let handler = self.0.clone();
        match std::panic::catch_unwind(AssertUnwindSafe(|| handler(request))) {
            Ok(future) => AssertUnwindSafe(future)
                .catch_unwind()
                .map(|outcome| outcome.unwrap_or_else(|panic| Err(panicked(&*panic))))
                .boxed_local(),
            Err(panic) => futures::future::ready(Err(panicked(&*panic))).boxed_local(),
        }
    }
}

fn panicked(panic: &(dyn std::any::Any + Send)) -> (ErrorCode, String) {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic".into());
    (
        ErrorCode::HandlerFailure,
        format!("the provider panicked: {text}"),
    )
}
