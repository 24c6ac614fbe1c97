//! The `tls` block of the configuration: the server's certificate, and whose client
//! certificates it trusts.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Whether a TLS listener asks clients for a certificate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientAuth {
    /// No client certificates are asked for.
    #[default]
    None,
    /// A client may show a certificate signed by `ca_file` (its subject CN becomes its
    /// identity); one without a certificate is served too.
    Optional,
    /// Every client must show a certificate signed by `ca_file`; others fail the handshake.
    Required,
}

/// TLS settings: what `tls://` listeners present, what they ask of clients, and what bridges
/// dialled over `tls://` trust. `docs/security.md` shows a setup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The server's certificate chain, PEM, the leaf first. Re-read on SIGHUP.
    pub cert_file: PathBuf,
    /// The server's private key, PEM (PKCS#8, PKCS#1 or SEC1). Re-read on SIGHUP.
    pub key_file: PathBuf,
    /// CA certificates, PEM: whose client certificates are accepted, and which bridge peers
    /// are trusted besides the system roots. Default: none.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// `none`, `optional` or `required`. Default: `none`.
    #[serde(default)]
    pub client_auth: ClientAuth,
    /// The client certificate chain, PEM, this hub shows when it dials a `tls://` bridge to a
    /// hub that asks for one (with `bridge_key_file`). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridge_cert_file: Option<PathBuf>,
    /// The private key of `bridge_cert_file`, PEM. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridge_key_file: Option<PathBuf>,
}
