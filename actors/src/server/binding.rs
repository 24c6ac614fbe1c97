//! What a server's listen addresses stand for when it starts: host names resolved to the
//! addresses they name, and the TLS settings that `tls://` and `wss://` ones need.

use std::sync::Arc;

use hubwire_core::net::resolve;
use hubwire_core::tls::ServerTls;
use hubwire_core::{Address, Config};

use super::StartError;

/// The addresses to bind: IP literals and paths as they are, each host name replaced by every
/// address it resolves to (`tcp://localhost:7400` may bind `127.0.0.1:7400` and `[::1]:7400`).
pub(super) async fn resolve_all(listen: &[Address]) -> Result<Vec<Address>, StartError> {
    let mut resolved = Vec::new();
    for address in listen {
        match address.host_port() {
            Some(hp) if hp.socket_addr().is_none() => {
                let addrs = resolve(hp).await.map_err(|source| StartError::Bind {
                    address: address.clone(),
                    source: source.into_io(),
                })?;
                tracing::info!(%address, ?addrs, "listen address resolved");
                resolved.extend(addrs.into_iter().map(|a| address.with_socket_addr(a)));
            }
            _ => resolved.push(address.clone()),
        }
    }
    Ok(resolved)
}

/// The TLS settings, read from their files when the config has them; a `tls://` or `wss://`
/// address without them is an error.
pub(super) fn load_tls(
    config: &Config,
    listen: &[Address],
) -> Result<Option<Arc<ServerTls>>, StartError> {
    let Some(files) = &config.tls else {
        let nats_tls = |a: &Address| config.nats_tls && a.scheme() == "nats";
        return match listen.iter().find(|a| a.uses_tls() || nats_tls(a)) {
            Some(address) => Err(StartError::TlsWithoutSettings(address.clone())),
            None => Ok(None),
        };
    };
    Ok(Some(Arc::new(ServerTls::load(files)?)))
}
