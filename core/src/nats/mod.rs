//! The NATS client protocol, as plain code: what a hub needs to let NATS clients in next to
//! hubwire spokes. No sockets here: a driver feeds bytes to [`ClientParser`], maps subjects
//! with the functions of `subject.rs`, and writes the server's operations.
//!
//! - [`ClientParser`]: CONNECT, PUB, HPUB, SUB, UNSUB, PING, PONG, with the control line and
//!   payload limits enforced before anything is buffered.
//! - [`subject_to_channel`], [`subject_to_pattern`], [`channel_to_subject`],
//!   [`pattern_to_subject`]: one routing for both protocols (`a.b.c` is `a/b/c`, `>` is
//!   `*/**`), and what is invisible to the other side.
//! - [`read_headers`] and [`write_headers`]: NATS header blocks and hubwire headers.
//! - [`write_info`], [`write_msg`] and the rest: what the server sends.

mod headers;
mod parse;
mod server_ops;
mod subject;

#[cfg(test)]
mod parse_tests;
#[cfg(test)]
mod subject_tests;

pub use headers::{read_headers, write_headers, HeaderBlock, HeaderError};
pub use parse::{ClientOp, ClientParser, ParseError};
pub use server_ops::{write_err, write_info, write_msg, write_ok, write_ping, write_pong, Info};
pub use subject::{
    channel_to_subject, pattern_to_subject, subject_to_channel, subject_to_pattern, SubjectError,
};
