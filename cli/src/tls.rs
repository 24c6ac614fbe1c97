//! The TLS flags of every subcommand that dials a server: the CA that signs the server's
//! certificate, and a client certificate for servers that ask for one.

use std::path::PathBuf;

use hubwire_core::tls::TlsClient;

/// `--ca-file`, `--cert-file`, `--key-file`: used when the server's address is `tls://`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TlsArgs {
    /// For tls:// servers: trust the CA certificates in this PEM file, besides the system's.
    #[arg(long, value_name = "PEM", global = true)]
    pub ca_file: Option<PathBuf>,
    /// For tls:// servers that ask for a client certificate: this PEM chain (with --key-file).
    #[arg(long, value_name = "PEM", global = true, requires = "key_file")]
    pub cert_file: Option<PathBuf>,
    /// The private key of --cert-file, PEM.
    #[arg(long, value_name = "PEM", global = true, requires = "cert_file")]
    pub key_file: Option<PathBuf>,
}

impl TlsArgs {
    /// The TLS settings the flags give; `None` (the system roots) when none is set.
    pub fn client(&self) -> Result<Option<TlsClient>, String> {
        if self.ca_file.is_none() && self.cert_file.is_none() {
            return Ok(None);
        }
        let mut builder = TlsClient::builder();
        if let Some(ca_file) = &self.ca_file {
            builder = builder.ca_file(ca_file);
        }
        if let (Some(cert), Some(key)) = (&self.cert_file, &self.key_file) {
            builder = builder.client_cert(cert, key);
        }
        builder.build().map(Some).map_err(|e| e.to_string())
    }
}
