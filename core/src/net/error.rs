//! Why a dial failed: each case names what failed (resolution, refusal, timeout, TLS).

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use crate::tls::TlsError;
use crate::Address;

/// Why [`dial`](super::dial) could not open a stream.
#[derive(Debug, thiserror::Error)]
pub enum DialError {
    /// The host name could not be looked up.
    #[error("cannot resolve host {host}: {source}")]
    Resolve {
        /// The name.
        host: String,
        /// What the resolver said.
        source: io::Error,
    },
    /// The host name was looked up and stands for no address.
    #[error("host {host} resolved to no address")]
    NoAddresses {
        /// The name.
        host: String,
    },
    /// Nothing listens there.
    #[error("{addr} refused the connection (is the server running, on this port?)")]
    Refused {
        /// The address tried.
        addr: SocketAddr,
    },
    /// No answer in time.
    #[error("no answer from {target} within {after:?} while {stage}")]
    Timeout {
        /// `resolving`, `connecting` or `in the TLS handshake`.
        stage: &'static str,
        /// The name or address waited on.
        target: String,
        /// How long it was given.
        after: Duration,
    },
    /// Another socket error.
    #[error("{target}: {source}")]
    Io {
        /// The address or path tried.
        target: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// Every address of a name failed; each one's reason, in the order tried.
    #[error("every address of {host} failed: {}", list(.failures))]
    AllFailed {
        /// The name.
        host: String,
        /// The failures.
        failures: Vec<DialError>,
    },
    /// The server's certificate was not accepted.
    #[error("the certificate of the server at {address} was refused: {reason}")]
    Certificate {
        /// The address dialled.
        address: Address,
        /// rustls's reason (unknown issuer, expired, not valid for this name, ...).
        reason: String,
    },
    /// The server answered, but not with TLS.
    #[error("the server at {address} did not answer TLS (is it a plain tcp:// listener? then dial tcp://): {reason}")]
    NotTls {
        /// The address dialled.
        address: Address,
        /// What the handshake met.
        reason: String,
    },
    /// The TLS handshake failed otherwise (the server refused a missing client certificate,
    /// say).
    #[error("TLS handshake with {address} failed: {source}")]
    Handshake {
        /// The address dialled.
        address: Address,
        /// The reason.
        source: io::Error,
    },
    /// The TLS settings could not be loaded.
    #[error("{0}")]
    Settings(#[from] TlsError),
    /// A UDP address, or a hub's NATS listener (for NATS clients), where a hubwire stream was
    /// wanted.
    #[error("{0} is not a hubwire stream address (use tcp://, tls://, unix://, ws:// or wss://; nats:// is for NATS clients)")]
    NotAStream(Address),
    /// The server did not switch to WebSocket (an HTTP error such as 403 or 404, or not a
    /// WebSocket server at all).
    #[error("{address}: {source}")]
    WebSocket {
        /// The address dialled.
        address: Address,
        /// What the upgrade met.
        source: crate::websocket::ConnectError,
    },
}

fn list(failures: &[DialError]) -> String {
    let reasons: Vec<String> = failures.iter().map(ToString::to_string).collect();
    reasons.join("; ")
}

impl DialError {
    /// The closest `std::io::ErrorKind`, so that code that sorts I/O errors keeps working.
    pub fn kind(&self) -> io::ErrorKind {
        match self {
            DialError::Resolve { .. } | DialError::NoAddresses { .. } => io::ErrorKind::NotFound,
            DialError::Refused { .. } => io::ErrorKind::ConnectionRefused,
            DialError::Timeout { .. } => io::ErrorKind::TimedOut,
            DialError::Io { source, .. } | DialError::Handshake { source, .. } => source.kind(),
            DialError::AllFailed { failures, .. } => failures
                .last()
                .map_or(io::ErrorKind::Other, DialError::kind),
            DialError::Certificate { .. } | DialError::NotTls { .. } => io::ErrorKind::InvalidData,
            DialError::Settings(_) => io::ErrorKind::InvalidInput,
            DialError::NotAStream(_) => io::ErrorKind::Unsupported,
            DialError::WebSocket { source, .. } => match source {
                crate::websocket::ConnectError::Refused { .. } => io::ErrorKind::PermissionDenied,
                crate::websocket::ConnectError::Handshake(_) => io::ErrorKind::InvalidData,
            },
        }
    }

    /// As an `std::io::Error` of the same kind, carrying this error (find it again with
    /// `get_ref().and_then(|e| e.downcast_ref::<DialError>())`).
    pub fn into_io(self) -> io::Error {
        io::Error::new(self.kind(), self)
    }
}

/// A connection error after a TLS handshake the client thought complete: with TLS 1.3 a server
/// refuses a client certificate (or its absence) only then, with an alert. Such an alert gets a
/// sentence saying what to do; any other error is returned as it is.
pub fn explain_tls_alert(source: io::Error) -> io::Error {
    use rustls::AlertDescription as Alert;
    let alert = match source
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::AlertReceived(alert)) => *alert,
        _ => return source,
    };
    let hint = match alert {
        Alert::CertificateRequired => {
            "the server requires a client certificate: give one (TlsClient::builder().client_cert, or --cert-file and --key-file)"
        }
        Alert::UnknownCA | Alert::BadCertificate | Alert::CertificateUnknown => {
            "the server does not accept this client certificate: is it signed by the CA in the server's tls.ca_file?"
        }
        Alert::CertificateExpired => "this client certificate has expired",
        _ => return source,
    };
    io::Error::new(source.kind(), format!("{hint} (TLS alert {alert:?})"))
}
