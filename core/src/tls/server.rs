//! The server side of TLS: the certificate a listener presents, re-read on demand (SIGHUP)
//! without touching the connections already open.

use std::sync::{Arc, PoisonError, RwLock};

use rustls::server::WebPkiClientVerifier;

use super::pem::{add_ca_file, load_certificates, load_private_key};
use super::{provider, TlsError};
use crate::config::{ClientAuth, TlsConfig};

/// The TLS settings of the listeners, shared by all of them. Each accept reads the current
/// settings (a pointer copy under a read lock); [`reload`](Self::reload) swaps in new ones,
/// which the next handshakes use, while open connections keep the ones they started with.
#[derive(Debug)]
pub struct ServerTls {
    files: TlsConfig,
    current: RwLock<Arc<rustls::ServerConfig>>,
}

impl ServerTls {
    /// Reads the certificate, the key and the CA file.
    pub fn load(files: &TlsConfig) -> Result<ServerTls, TlsError> {
        Ok(ServerTls {
            current: RwLock::new(build(files)?),
            files: files.clone(),
        })
    }

    /// The settings new handshakes use.
    pub fn current(&self) -> Arc<rustls::ServerConfig> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Reads the files again and, if they are good, uses them from the next handshake on; if
    /// not, keeps the settings in use and says why.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = build(&self.files)?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = fresh;
        Ok(())
    }
}

fn build(files: &TlsConfig) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let provider = provider();
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|source| TlsError::Rustls {
            context: "protocol versions",
            source,
        })?;
    let builder = match (files.client_auth, &files.ca_file) {
        (ClientAuth::None, _) => builder.with_no_client_auth(),
        (auth, None) => {
            return Err(TlsError::ClientAuthWithoutCa(
                format!("{auth:?}").to_lowercase(),
            ))
        }
        (auth, Some(ca_file)) => {
            let mut roots = rustls::RootCertStore::empty();
            add_ca_file(&mut roots, ca_file)?;
            let verifier = WebPkiClientVerifier::builder_with_provider(roots.into(), provider);
            let verifier = match auth {
                ClientAuth::Optional => verifier.allow_unauthenticated(),
                _ => verifier,
            };
            let verifier = verifier
                .build()
                .map_err(|e| TlsError::ClientVerifier(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let config = builder
        .with_single_cert(
            load_certificates(&files.cert_file, "certificate")?,
            load_private_key(&files.key_file)?,
        )
        .map_err(|source| TlsError::Rustls {
            context: "the certificate and key",
            source,
        })?;
    Ok(Arc::new(config))
}
