//! What a handler returns: a result now, or a future of one.

use std::future::Future;
use std::pin::Pin;

use super::HandlerError;

/// A handler's answer.
pub enum Reply<T> {
    /// The result is ready.
    Done(Result<T, HandlerError>),
    /// The result comes later (the future runs on the handler's thread; the actor keeps taking
    /// requests meanwhile).
    Later(Pin<Box<dyn Future<Output = Result<T, HandlerError>>>>),
}

impl<T> Reply<T> {
    /// A successful reply.
    pub fn ok(value: T) -> Self {
        Reply::Done(Ok(value))
    }

    /// A handler-failure reply with `message`.
    pub fn err(message: impl Into<String>) -> Self {
        Reply::Done(Err(HandlerError::new(message)))
    }

    /// A reply that a future will produce. Inside the `async` block `?` converts any error into
    /// a [`HandlerError`], as in a handler that returns a `Result`.
    pub fn later(future: impl Future<Output = Result<T, HandlerError>> + 'static) -> Self {
        Reply::Later(Box::pin(future))
    }
}

impl<T> From<Result<T, HandlerError>> for Reply<T> {
    fn from(result: Result<T, HandlerError>) -> Self {
        Reply::Done(result)
    }
}

impl<T> std::fmt::Debug for Reply<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reply::Done(Ok(_)) => f.write_str("Reply::Done(Ok(..))"),
            Reply::Done(Err(e)) => write!(f, "Reply::Done(Err({e}))"),
            Reply::Later(_) => f.write_str("Reply::Later(..)"),
        }
    }
}

/// What a handler may return for a reply of type `T`: a [`Reply`], or a `Result` whose error
/// converts into a [`HandlerError`] (so `?` works in the handler).
pub trait IntoReply<T> {
    /// The answer as a [`Reply`].
    fn into_reply(self) -> Reply<T>;
}

impl<T> IntoReply<T> for Reply<T> {
    fn into_reply(self) -> Reply<T> {
        self
    }
}

impl<T, E: Into<HandlerError>> IntoReply<T> for Result<T, E> {
    fn into_reply(self) -> Reply<T> {
        Reply::Done(self.map_err(Into::into))
    }
}
