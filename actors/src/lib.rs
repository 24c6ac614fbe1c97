//! hubwire-actors: every hubwire actor, each owning a plain value from `hubwire-core`.
//!
//! # Layout
//! - [`handler`]: handlers are actors — the [`Serve`](handler::Serve) trait, replies, errors,
//!   and the dispatch message that catches panics and checks deadlines.
//! - [`routing`]: the route table and endpoints (decode, bound, hand to a handler) with counters.
//! - [`transport`]: listener and connection actors and the pool of I/O threads.
//! - [`supervisor`]: supervisors that restart failed children, with limits and back-off.
//! - [`server`]: starts routes, listeners and threads together.
//! - [`auth`]: the gate that checks credentials and slows down failing addresses.
//! - [`cache`]: a least-recently-used cache that handlers share (an actor owning an `LruStore`).
//! - [`queue`]: queued routes: the store actor (group commit), the endpoint that stores and
//!   acknowledges, the workers with retries and an error queue, and the operator's operations.
//! - [`work`]: the network work queue's dispatcher: remote workers with credit and leases.
#![warn(missing_docs)]
#![warn(missing_debug_implementations)]
#![deny(unused_must_use)]

pub mod auth;
pub mod bridge;
pub mod cache;
pub mod handler;
pub mod hub;
pub mod queue;
pub mod routing;
pub mod sender;
pub mod server;
pub mod spoke;
pub mod supervisor;
pub mod transport;
pub mod work;

pub use actix;
pub use server::{Server, ServerBuilder, StartError};
