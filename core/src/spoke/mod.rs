//! The plain layers of a spoke (a client of a pub/sub hub), without actix: the connection
//! ([`link`]), the subscription list that is the source of truth ([`SubscriptionBook`]), the
//! calls in flight matched to their answers ([`CallBook`]), options, events and errors.
//!
//! The actor that owns these values, reconnects and dispatches is `hubwire_actors::spoke`;
//! see its docs for the user-facing `Spoke` handle and an example.
//!
//! # Layout
//! - `link.rs`: connect with a timeout, the CONN handshake, the outbound buffer and its writer.
//! - `book.rs`: [`SubscriptionBook`], sids counting up, the SUBSCRIPTIONS list.
//! - `calls.rs`: [`CallBook`], [`PendingCall`] and how an answer is read ([`Answer`]).
//! - `options.rs`: [`SpokeOptions`]: timeouts, back-off, keepalive.
//! - `event.rs`: [`SpokeEvent`] and [`Readiness`].
//! - `error.rs`: [`SpokeError`] and [`RpcError`].

mod book;
mod calls;
mod error;
mod event;
pub mod link;
mod options;

pub use book::{Entry, SubscriptionBook};
pub use calls::{Answer, CallBook, PendingCall};
pub use error::{RpcError, SpokeError};
pub use event::{Readiness, SpokeEvent};
pub use options::{SpokeOptions, DEFAULT_SUBSCRIBER_CAPACITY};
