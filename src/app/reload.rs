//! SIGHUP: the TLS certificate and key are read again, for the handshakes that follow; open
//! connections keep theirs and are not dropped.

use std::sync::Arc;

use hubwire_core::tls::ServerTls;

/// Reloads `tls` at each SIGHUP, until the task is aborted. Without TLS a SIGHUP is logged and
/// otherwise ignored (it no longer ends the process).
pub(super) fn reload_on_sighup(tls: Option<Arc<ServerTls>>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(hangups) => hangups,
            Err(e) => return tracing::warn!(error = %e, "cannot watch for SIGHUP: no reloads"),
        };
        while hangups.recv().await.is_some() {
            match &tls {
                None => tracing::info!("SIGHUP: no TLS settings to reload"),
                Some(tls) => match tls.reload() {
                    Ok(()) => {
                        tracing::info!("SIGHUP: TLS certificate reloaded for new connections")
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "SIGHUP: TLS reload failed; the certificate in use is kept")
                    }
                },
            }
        }
    })
}
