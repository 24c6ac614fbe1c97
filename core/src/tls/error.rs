//! Why TLS settings could not be loaded.

use std::path::PathBuf;

/// Why a certificate, a key or a CA file could not be used. Each names the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read or holds no PEM block of the kind wanted.
    #[error("TLS: cannot read {what} from {path}: {reason}")]
    File {
        /// `certificate`, `private key` or `CA certificates`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// rustls refused the settings (a key that does not match its certificate, say).
    #[error("TLS: {context}: {source}")]
    Rustls {
        /// What was being set up.
        context: &'static str,
        /// rustls's reason.
        source: rustls::Error,
    },
    /// The client-certificate verifier could not be built (an empty CA file, say).
    #[error("TLS: cannot verify client certificates: {0}")]
    ClientVerifier(String),
    /// Client certificates are asked for, but no CA file says whose to trust.
    #[error("TLS: tls.client_auth is {0:?} but tls.ca_file is not set: name the CA that signs client certificates")]
    ClientAuthWithoutCa(String),
}
