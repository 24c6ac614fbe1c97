//! [`start_for_hub`]: a server's hub, with its bridges when the configuration has a secret.

use std::sync::Arc;

use actix::Arbiter;
use hubwire_core::stats::StatsRegistry;
use hubwire_core::tls::TlsClient;
use hubwire_core::Config;

use super::{BridgeDialer, Bridges};
use crate::hub::{Hub, HubLimits};
use crate::supervisor::{actor_child, ChildSpec};

/// Starts a hub with `limits`. With a `bridge_secret` it takes bridges from other hubs, and
/// for each of `bridges` in `config` a dialer joins `services` (supervised as
/// `bridge.<url>`). `name` is how this hub names itself to the hubs it dials.
pub fn start_for_hub(
    limits: HubLimits,
    config: &Config,
    name: Option<String>,
    registry: &StatsRegistry,
    services: &mut Vec<ChildSpec>,
) -> Hub {
    let bridges = config.bridge_secret.as_ref().map(|secret| {
        let name = name.unwrap_or_else(|| "hub".into());
        let limits = hubwire_core::bridge::BridgeLimits {
            prune_grace: config.bridge_prune_grace,
            max_outbound_bytes: config.bridge_max_outbound_bytes,
            ..Default::default()
        };
        Bridges::start(name, secret.clone(), config.max_frame, &limits, registry)
    });
    let hub = Hub::start_bridged(limits, registry, bridges);
    if hub.bridges().is_none() {
        return hub;
    }
    let tls = bridge_tls(config);
    for target in &config.bridges {
        let id = format!("bridge.{}", target.url);
        let lost = registry.counter("supervisor.lost_messages", &[("child", id.as_str())]);
        let (target, for_dialer) = (Arc::new(target.clone()), hub.clone());
        let backoff = config.bridge_backoff.clone();
        let tls = tls.clone();
        let compression = config.compression.clone();
        let (spec, _handle) = actor_child(
            id,
            Arbiter::current(),
            move |exit| {
                let dialer = BridgeDialer::new(target.clone(), for_dialer.clone(), exit);
                Ok(dialer
                    .with_backoff(backoff.clone())
                    .with_tls(tls.clone())
                    .with_compression(compression.clone()))
            },
            lost,
        );
        services.push(spec);
    }
    hub
}

/// What bridges dialled over `tls://` trust (the system roots, and `tls.ca_file` when set),
/// and the client certificate they show (`tls.bridge_cert_file`, when set).
fn bridge_tls(config: &Config) -> Option<TlsClient> {
    let tls = config.tls.as_ref()?;
    let client_cert = tls
        .bridge_cert_file
        .as_ref()
        .zip(tls.bridge_key_file.as_ref());
    if tls.ca_file.is_none() && client_cert.is_none() {
        return None;
    }
    let mut builder = TlsClient::builder();
    if let Some(ca_file) = &tls.ca_file {
        builder = builder.ca_file(ca_file);
    }
    if let Some((cert, key)) = client_cert {
        builder = builder.client_cert(cert, key);
    }
    match builder.build() {
        Ok(tls) => Some(tls),
        Err(e) => {
            tracing::error!(error = %e, "bridges over tls:// trust the system roots only, and show no certificate");
            None
        }
    }
}
