//! Handlers are actors: an actix actor serves a declared route by implementing [`Serve`].
//!
//! ```
//! use hubwire_actors::actix::{Actor, Context};
//! use hubwire_actors::handler::{Reply, Serve};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize)]
//! pub struct Say { pub message: String }
//! hubwire_core::route!(pub Echo = "echo", Say => Say);
//!
//! struct Echoer;
//! impl Actor for Echoer { type Context = Context<Self>; }
//! impl Serve<Echo> for Echoer {
//!     fn serve(&mut self, request: Say, _ctx: &mut Context<Self>) -> Reply<Say> {
//!         Reply::ok(request)
//!     }
//! }
//! hubwire_actors::serve!(Echoer: Echo);
//! ```
//!
//! `serve!` connects the actor to the framework's dispatch message; the framework calls `serve`
//! inside `catch_unwind`, so a panic becomes a handler-failure reply and the actor keeps serving.

mod dispatch;
mod error;
mod reply;

pub(crate) use dispatch::panicked;
pub use dispatch::{
    request_id, run_blocking_dispatch, run_dispatch, Dispatch, InFlightPermit, Outcome, ReplyTo,
};
pub use error::HandlerError;
pub use reply::{IntoReply, Reply};

use actix::{Actor, Context, SyncContext};
use hubwire_core::Route;

/// An actor that serves route `R`, answering with `Answer`.
///
/// `Answer` is [`Reply<R::Reply>`](Reply) unless the implementation names another
/// [`IntoReply`] type. Name `Result<R::Reply, HandlerError>` (or a `Result` with any error type
/// that converts into [`HandlerError`]) to use `?` inside `serve`:
///
/// ```
/// # use hubwire_actors::actix::{Actor, Context};
/// # use hubwire_actors::handler::{HandlerError, Serve};
/// # use serde::{Deserialize, Serialize};
/// # #[derive(Serialize, Deserialize)] pub struct Text { pub digits: String }
/// # #[derive(Serialize, Deserialize)] pub struct Number { pub value: u64 }
/// # hubwire_core::route!(pub Parse = "parse", Text => Number);
/// struct Parser;
/// impl Actor for Parser { type Context = Context<Self>; }
/// impl Serve<Parse, Result<Number, HandlerError>> for Parser {
///     fn serve(&mut self, text: Text, _: &mut Context<Self>) -> Result<Number, HandlerError> {
///         Ok(Number { value: text.digits.parse()? })
///     }
/// }
/// hubwire_actors::serve!(Parser: Parse);
/// ```
///
/// An actor has one `Serve` implementation per route.
pub trait Serve<R: Route, Answer: IntoReply<R::Reply> = Reply<<R as Route>::Reply>>:
    Actor<Context = Context<Self>>
{
    /// Answers one request. Return [`Reply::ok`], [`Reply::err`], or [`Reply::later`] for work
    /// that must wait on something else (or, with a `Result` answer, `Ok`, `Err` and `?`).
    fn serve(&mut self, request: R::Request, ctx: &mut Context<Self>) -> Answer;
}

/// An actor that serves route `R` with blocking work (files, CPU) on a thread of its own.
///
/// Such actors run on a `SyncArbiter` pool (see `ServerBuilder::route_blocking`), never on an
/// I/O thread, so a slow handler cannot stall the network.
pub trait ServeBlocking<R: Route>: Actor<Context = SyncContext<Self>> {
    /// Answers one request; may block.
    fn serve(
        &mut self,
        request: R::Request,
        ctx: &mut SyncContext<Self>,
    ) -> Result<R::Reply, HandlerError>;
}

/// Connects an actor's [`ServeBlocking`] implementations to the framework, as [`serve!`](crate::serve!) does
/// for [`Serve`].
#[macro_export]
macro_rules! serve_blocking {
    ($actor:ty : $($route:ty),+ $(,)?) => {
        $(
            impl $crate::actix::Handler<$crate::handler::Dispatch<$route>> for $actor {
                type Result = ();
                fn handle(
                    &mut self,
                    msg: $crate::handler::Dispatch<$route>,
                    ctx: &mut $crate::actix::SyncContext<Self>,
                ) {
                    $crate::handler::run_blocking_dispatch::<$route, Self>(self, msg, ctx)
                }
            }
        )+
    };
}

/// Connects an actor's [`Serve`] implementations to the framework.
///
/// `hubwire_actors::serve!(Dice: DiceRoll, DiceGuess);` implements actix's `Handler` for the
/// framework's [`Dispatch`] message of each route (a blanket implementation is not allowed by
/// Rust's orphan rules, so the macro writes one per route in your crate).
#[macro_export]
macro_rules! serve {
    ($actor:ty : $($route:ty),+ $(,)?) => {
        $(
            impl $crate::actix::Handler<$crate::handler::Dispatch<$route>> for $actor {
                type Result = ();
                fn handle(
                    &mut self,
                    msg: $crate::handler::Dispatch<$route>,
                    ctx: &mut $crate::actix::Context<Self>,
                ) {
                    $crate::handler::run_dispatch::<$route, Self, _>(self, msg, ctx)
                }
            }
        )+
    };
}
