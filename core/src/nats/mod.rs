//! The NATS client protocol, as plain code: what a hub needs to let NATS clients in next to
//! hubwire spokes. No sockets here: a driver feeds bytes to a [`NatsSession`] and carries out
//! its steps.
//!
//! - [`ClientParser`]: CONNECT, PUB, HPUB, SUB, UNSUB, PING, PONG, with the control line and
//!   payload limits enforced before anything is buffered.
//! - [`NatsSession`]: one client's connection: CONNECT and its options
//!   ([`ConnectOptions`]), credentials through a [`NatsGate`], subscriptions in the client's
//!   order, `+OK` and `-ERR` with nats-server's texts, PING/PONG and the keepalive.
//! - [`subject_to_channel`], [`subject_to_pattern`], [`channel_to_subject`],
//!   [`pattern_to_subject`]: one routing for both protocols (`a.b.c` is `a/b/c`, `>` is
//!   `*/**`), and what is invisible to the other side.
//! - [`publish_from_nats`] and [`nats_view`]: a NATS publish as the hub's, and a hub message
//!   as NATS subscribers see it (calls, replies, errors and no-responders included).
//! - [`SidBook`] and [`NatsForms`]: what the hub's router needs to deliver to a NATS
//!   connection: its sids (and `UNSUB` maximums), and each message encoded once per kind of
//!   reader, only the sid written per subscription.
//! - [`read_headers`] and [`write_headers`]: NATS header blocks and hubwire headers.
//! - [`write_info`], [`write_msg`] and the rest: what the server sends.

mod auth;
mod connect;
mod encoded;
mod headers;
mod mapping;
mod parse;
mod server_ops;
mod session;
mod sid_book;
mod subject;
mod subject_cache;
mod users;

#[cfg(test)]
mod mapping_tests;
#[cfg(test)]
mod parse_tests;
#[cfg(test)]
mod session_tests;
#[cfg(test)]
mod subject_tests;

pub use auth::{AllowEverything, Credentials, NatsGate, NatsPermissions, OpenGate};
pub use connect::{ConnectError, ConnectOptions};
pub use encoded::{is_plain, write_plain_msg, EncodedMsg, NatsForms, Reader};
pub use headers::{read_headers, write_headers, HeaderBlock, HeaderError};
pub use mapping::{
    nats_view, nats_view_on, publish_from_nats, publish_to_channel, NatsView, PublishError,
    NO_RESPONDERS_STATUS, SERVICE_ERROR, SERVICE_ERROR_CODE,
};
pub use parse::{ClientOp, ClientParser, ParseError, PlainRead};
pub use server_ops::{write_err, write_info, write_msg, write_ok, write_ping, write_pong, Info};
pub use session::{BookChange, NatsLimits, NatsSession, NatsStep, Tick};
pub use sid_book::{Delivered, SidBook};
pub use subject::{
    channel_to_subject, pattern_to_subject, subject_to_channel, subject_to_pattern, SubjectError,
};
pub use subject_cache::{SubjectCache, SUBJECT_CACHE_ENTRIES};
pub use users::{
    is_own_nats_inbox, is_reply_inbox, UserPermissions, UsersGate, MIN_INBOX_TOKEN, NATS_INBOX,
};
