//! `hubwire pub`, `sub`, `rpc` and `reply`: a spoke from the shell. Bodies are JSON on the
//! command line and MessagePack on the wire (or raw bytes with `--raw`); received bodies print
//! as JSON when they are MessagePack, else as text.
//!
//! What the four share lives here: the hub and timeout (`--server`, `HUBWIRE_URL`, the hub's
//! default address), a spoke in an actix system of its own, and bodies to and from JSON.

mod duration;
mod publish;
mod reply;
mod rpc;
mod subscribe;

pub use publish::{publish, PubArgs};
pub use reply::{reply, ReplyArgs};
pub use rpc::{rpc, RpcArgs};
pub use subscribe::{subscribe, SubArgs};

use std::time::Duration;

use bytes::Bytes;
use hubwire_actors::spoke::{Spoke, SpokeSpec};
use hubwire_core::spoke::SpokeOptions;
use hubwire_core::stats::StatsRegistry;
use hubwire_core::tls::TlsClient;
use hubwire_core::Address;
use serde_json::json;

use super::call::{body_to_json, json_to_body};
use super::server::ServerArg;
use super::{EXIT_CANNOT_CONNECT, EXIT_USAGE};

/// Where the pub/sub commands connect unless told otherwise: `hubwire hub`'s default.
const DEFAULT_ADDRESS: &str = super::DEFAULT_HUB_ADDRESS;

/// The hub and the time allowed.
#[derive(Debug, Clone, clap::Args)]
pub struct HubTarget {
    /// The hub (default: $HUBWIRE_URL, else tcp://127.0.0.1:7500).
    #[command(flatten)]
    pub server: ServerArg,
    /// Seconds to wait for the hub (and, for rpc, for the answer).
    #[arg(long, default_value_t = 5.0)]
    pub timeout: f64,
}

/// What a command needs before it talks to the hub: a valid address and timeout.
pub(crate) fn target(hub: &HubTarget) -> Result<(Address, Duration, Access), String> {
    let address = hub.server.resolve(None, Some(DEFAULT_ADDRESS))?;
    let (address, credentials) =
        crate::address_and_credentials(&address, hub.server.auth.credentials());
    let address = address.parse().map_err(|e| format!("{e}"))?;
    if !(hub.timeout.is_finite() && hub.timeout > 0.0) {
        return Err("--timeout must be a positive number of seconds".into());
    }
    let tls = hub.server.tls.client()?;
    let access = Access { tls, credentials };
    Ok((address, Duration::from_secs_f64(hub.timeout), access))
}

/// How a spoke gets in: TLS settings and credentials.
#[derive(Debug)]
pub(crate) struct Access {
    tls: Option<TlsClient>,
    credentials: Option<hubwire_core::auth::Credentials>,
}

/// Runs `work` with a spoke connected to `address` in an actix system of its own.
pub(crate) fn with_spoke<F, Fut>(
    command: &str,
    (address, timeout, access): (Address, Duration, Access),
    work: F,
) -> i32
where
    F: FnOnce(Spoke) -> Fut,
    Fut: std::future::Future<Output = i32>,
{
    let system = actix::System::new();
    system.block_on(async move {
        let options = SpokeOptions {
            tls: access.tls,
            credentials: access.credentials,
            ..SpokeOptions::default()
        };
        let (spoke, supervisor) = SpokeSpec::new(address.clone())
            .name(command)
            .options(options)
            .start(&StatsRegistry::new());
        if let Err(e) = spoke.ready(timeout).await {
            eprintln!("hubwire {command}: cannot reach the hub at {address}: {e}");
            return EXIT_CANNOT_CONNECT;
        }
        let code = work(spoke).await;
        let _ = supervisor.send(hubwire_actors::supervisor::StopChild).await;
        code
    })
}

pub(crate) fn parse<T: std::str::FromStr>(command: &str, what: &str, text: &str) -> Result<T, i32>
where
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|e| {
        eprintln!("hubwire {command}: {what} {text:?}: {e}");
        EXIT_USAGE
    })
}

pub(crate) fn body(command: &str, json: Option<&str>) -> Result<Bytes, i32> {
    json_to_body(json.unwrap_or("null")).map_err(|e| {
        eprintln!("hubwire {command}: {e}");
        EXIT_USAGE
    })
}

/// A received body for printing: its JSON form when it is MessagePack, else its text.
pub(crate) fn printable(body: &[u8]) -> serde_json::Value {
    match body_to_json(body) {
        Ok(text) => serde_json::from_str(&text).unwrap_or(json!(text)),
        Err(_) => json!(String::from_utf8_lossy(body)),
    }
}
