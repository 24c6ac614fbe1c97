//! Host names to socket addresses, looked up each time they are used.

use std::net::SocketAddr;

use super::DialError;
use crate::address::{Host, HostPort};

/// Every socket address `target` stands for, in the resolver's order (IPv6 ones included), with
/// duplicates removed. An IP literal stands for itself.
pub async fn resolve(target: &HostPort) -> Result<Vec<SocketAddr>, DialError> {
    let name = match &target.host {
        Host::Ip(ip) => return Ok(vec![SocketAddr::new(*ip, target.port)]),
        Host::Name(name) => name,
    };
    let found = tokio::net::lookup_host((name.as_str(), target.port))
        .await
        .map_err(|source| DialError::Resolve {
            host: name.clone(),
            source,
        })?;
    let mut addrs: Vec<SocketAddr> = Vec::new();
    for addr in found {
        if !addrs.contains(&addr) {
            addrs.push(addr);
        }
    }
    if addrs.is_empty() {
        return Err(DialError::NoAddresses { host: name.clone() });
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host_port(raw: &str) -> HostPort {
        raw.parse::<crate::Address>()
            .unwrap()
            .host_port()
            .unwrap()
            .clone()
    }

    #[tokio::test]
    async fn localhost_resolves_to_loopback_addresses() {
        let addrs = resolve(&host_port("tcp://localhost:7")).await.unwrap();
        assert!(!addrs.is_empty());
        assert!(
            addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 7),
            "{addrs:?}"
        );
    }

    #[tokio::test]
    async fn a_name_that_does_not_resolve_is_named_in_the_error() {
        let err = resolve(&host_port("tcp://nosuchhost.invalid:7"))
            .await
            .unwrap_err();
        assert!(matches!(err, DialError::Resolve { .. }), "{err:?}");
        assert!(err.to_string().contains("nosuchhost.invalid"), "{err}");
    }
}
