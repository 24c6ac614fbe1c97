//! The client side of TLS: which servers a client trusts, and the certificate it shows when the
//! server asks for one (mutual TLS).

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use rustls_pki_types::CertificateDer;

use super::pem::{add_ca_file, load_certificates, load_private_key};
use super::{provider, TlsError};

/// The TLS settings of a dialler: the roots it trusts and its own certificate, ready to use.
/// Cheap to clone. Build it once with [`TlsClient::builder`] and pass it in the client's, the
/// spoke's or the sender's options; without one, `tls://` addresses trust the system roots.
///
/// ```no_run
/// # fn demo() -> Result<(), hubwire_core::tls::TlsError> {
/// use hubwire_core::tls::TlsClient;
/// let tls = TlsClient::builder()
///     .ca_file("/etc/hubwire/ca.pem")
///     .client_cert("/etc/hubwire/me.pem", "/etc/hubwire/me.key")
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct TlsClient {
    config: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsClient")
            .field(
                "client_cert",
                &self.config.client_auth_cert_resolver.has_certs(),
            )
            .finish_non_exhaustive()
    }
}

impl TlsClient {
    /// Settings to fill in: the system roots, no CA file, no client certificate.
    pub fn builder() -> TlsClientBuilder {
        TlsClientBuilder {
            ca_files: Vec::new(),
            system_roots: true,
            client_cert: None,
        }
    }

    /// The system roots and no client certificate (what a `tls://` dial uses when given no
    /// settings). Built once per process.
    pub fn system_default() -> Result<TlsClient, TlsError> {
        static DEFAULT: OnceLock<TlsClient> = OnceLock::new();
        if let Some(client) = DEFAULT.get() {
            return Ok(client.clone());
        }
        let client = TlsClient::builder().build()?;
        Ok(DEFAULT.get_or_init(|| client).clone())
    }

    /// The rustls configuration.
    pub fn config(&self) -> Arc<rustls::ClientConfig> {
        self.config.clone()
    }
}

/// Settings of a [`TlsClient`] before the files are read.
#[derive(Clone, Debug)]
pub struct TlsClientBuilder {
    ca_files: Vec<PathBuf>,
    system_roots: bool,
    client_cert: Option<(PathBuf, PathBuf)>,
}

impl TlsClientBuilder {
    /// Trusts the CA certificates in this PEM file too (a private CA that signs your servers).
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_files.push(path.into());
        self
    }

    /// Trusts only the CA files, not the system roots.
    pub fn without_system_roots(mut self) -> Self {
        self.system_roots = false;
        self
    }

    /// Shows this certificate (a PEM chain, the leaf first) and key to servers that ask for
    /// one; its subject's common name becomes this client's identity there.
    pub fn client_cert(
        mut self,
        cert_file: impl Into<PathBuf>,
        key_file: impl Into<PathBuf>,
    ) -> Self {
        self.client_cert = Some((cert_file.into(), key_file.into()));
        self
    }

    /// Reads the files.
    pub fn build(self) -> Result<TlsClient, TlsError> {
        let mut roots = rustls::RootCertStore::empty();
        if self.system_roots {
            roots.add_parsable_certificates(system_roots().iter().cloned());
        }
        for path in &self.ca_files {
            add_ca_file(&mut roots, path)?;
        }
        let builder = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|source| TlsError::Rustls {
                context: "protocol versions",
                source,
            })?
            .with_root_certificates(roots);
        let config = match &self.client_cert {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => builder
                .with_client_auth_cert(
                    load_certificates(cert, "certificate")?,
                    load_private_key(key)?,
                )
                .map_err(|source| TlsError::Rustls {
                    context: "the client certificate and key",
                    source,
                })?,
        };
        Ok(TlsClient {
            config: Arc::new(config),
        })
    }
}

/// The operating system's trusted roots, read once per process (reading them takes a few
/// milliseconds). Unreadable ones are skipped.
fn system_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        for error in &found.errors {
            tracing::debug!(%error, "a system root certificate could not be read");
        }
        found.certs
    })
}
