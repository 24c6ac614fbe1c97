//! Opening streams to servers: host names resolved at each connect, every address of a name
//! tried in turn, TLS for `tls://`, and errors that name what failed. Every dialler uses
//! [`dial`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), hubwire_core::net::DialError> {
//! use hubwire_core::net::{dial, DialOptions};
//! let address = "tls://hub.example.com:7443".parse().unwrap();
//! let stream = dial(&address, &DialOptions::default()).await?;
//! # Ok(()) }
//! ```
//!
//! # Layout
//! - `dial.rs`: [`dial`] and [`DialOptions`].
//! - `resolve.rs`: [`resolve`], a host name to its socket addresses.
//! - `stream.rs`: [`NetStream`], what a dial opens.
//! - `sniff.rs`: [`TlsSniff`], TLS bytes on a plain stream reported as such.
//! - `write_through.rs`: [`WriteThrough`], a TLS stream whose writes always reach the socket.
//! - `error.rs`: [`DialError`].

mod dial;
#[cfg(test)]
mod dial_tests;
mod error;
mod resolve;
mod sniff;
mod stream;
mod write_through;

pub use dial::{dial, DialOptions};
pub use error::{explain_tls_alert, DialError};
pub use resolve::resolve;
pub use sniff::{starts_tls_record, TlsSniff};
pub use stream::{NetStream, TlsClientStream, WebSocketClientStream};
pub use write_through::WriteThrough;
