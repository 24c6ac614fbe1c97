//! TLS (rustls, with the `ring` provider): the settings of diallers ([`TlsClient`]) and of
//! listeners ([`ServerTls`]), PEM files, and a peer's identity from its client certificate.
//!
//! The sockets are elsewhere: `crate::net` dials `tls://` addresses with a [`TlsClient`];
//! the listener actor in `hubwire-actors` runs each handshake with [`ServerTls::current`].
//!
//! # Layout
//! - `client.rs`: [`TlsClient`]: system roots, CA files, a client certificate.
//! - `server.rs`: [`ServerTls`]: certificate, key, client-certificate checks; reload.
//! - `pem.rs`: certificates and keys from PEM files, errors naming the file.
//! - `identity.rs`: [`subject_common_name`], a peer's identity.
//! - `error.rs`: [`TlsError`].

mod client;
mod error;
mod identity;
mod pem;
mod server;

pub use crate::config::{ClientAuth, TlsConfig};
pub use client::{TlsClient, TlsClientBuilder};
pub use error::TlsError;
pub use identity::subject_common_name;
pub use server::ServerTls;

use std::sync::Arc;

/// The cryptography behind every TLS session: ring (it builds without cmake or nasm).
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}
