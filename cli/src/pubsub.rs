//! `hubwire pub`, `hubwire sub` and `hubwire rpc`: a spoke from the shell. Bodies are JSON on
//! the command line and MessagePack on the wire; received bodies print as JSON when they are
//! MessagePack, else as text.

use std::time::Duration;

use bytes::Bytes;
use hubwire_actors::spoke::{PublishOptions, Spoke, SpokeSpec};
use hubwire_core::pubsub::{Channel, Pattern};
use hubwire_core::spoke::RpcError;
use hubwire_core::stats::StatsRegistry;
use hubwire_core::Address;
use serde_json::json;

use super::call::{body_to_json, json_to_body};
use super::server::ServerArg;
use super::{
    EXIT_CANNOT_CONNECT, EXIT_CONNECTION_LOST, EXIT_OK, EXIT_REMOTE_ERROR, EXIT_TIMEOUT, EXIT_USAGE,
};

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

/// Arguments of `hubwire pub`.
#[derive(Debug, clap::Args)]
pub struct PubArgs {
    /// The channel, such as rooms/kitchen/temp.
    pub channel: String,
    /// The body as JSON (default: null).
    pub json: Option<String>,
    /// Keep it as the channel's retained message (an empty body clears it).
    #[arg(long)]
    pub retain: bool,
    /// The hub and the time allowed.
    #[command(flatten)]
    pub hub: HubTarget,
}

/// Arguments of `hubwire sub`.
#[derive(Debug, clap::Args)]
pub struct SubArgs {
    /// Patterns to subscribe to (`*` one token, `**` any number).
    #[arg(required = true)]
    pub patterns: Vec<String>,
    /// Exit after this many messages (default: run until interrupted).
    #[arg(long)]
    pub count: Option<u64>,
    /// The hub and the time allowed.
    #[command(flatten)]
    pub hub: HubTarget,
}

/// Arguments of `hubwire rpc`.
#[derive(Debug, clap::Args)]
pub struct RpcArgs {
    /// The channel a service provides, such as svc/dice/roll.
    pub channel: String,
    /// The request body as JSON (default: null).
    pub json: Option<String>,
    /// The hub and the time allowed.
    #[command(flatten)]
    pub hub: HubTarget,
}

/// What a command needs before it talks to the hub: a valid address and timeout.
fn target(hub: &HubTarget) -> Result<(Address, Duration), String> {
    let address = hub.server.resolve(None, Some(DEFAULT_ADDRESS))?;
    let address = address.parse().map_err(|e| format!("{e}"))?;
    if !(hub.timeout.is_finite() && hub.timeout > 0.0) {
        return Err("--timeout must be a positive number of seconds".into());
    }
    Ok((address, Duration::from_secs_f64(hub.timeout)))
}

/// Runs `work` with a spoke connected to `address` in an actix system of its own.
fn with_spoke<F, Fut>(command: &str, address: Address, timeout: Duration, work: F) -> i32
where
    F: FnOnce(Spoke) -> Fut,
    Fut: std::future::Future<Output = i32>,
{
    let system = actix::System::new();
    system.block_on(async move {
        let (spoke, supervisor) = SpokeSpec::new(address.clone())
            .name(command)
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

fn parse<T: std::str::FromStr>(command: &str, what: &str, text: &str) -> Result<T, i32>
where
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|e| {
        eprintln!("hubwire {command}: {what} {text:?}: {e}");
        EXIT_USAGE
    })
}

fn body(command: &str, json: Option<&str>) -> Result<Bytes, i32> {
    json_to_body(json.unwrap_or("null")).map_err(|e| {
        eprintln!("hubwire {command}: {e}");
        EXIT_USAGE
    })
}

/// A received body for printing: its JSON form when it is MessagePack, else its text.
fn printable(body: &[u8]) -> serde_json::Value {
    match body_to_json(body) {
        Ok(text) => serde_json::from_str(&text).unwrap_or(json!(text)),
        Err(_) => json!(String::from_utf8_lossy(body)),
    }
}

/// Runs `hubwire pub`; returns the exit code.
pub fn publish(args: PubArgs) -> i32 {
    let prepared = (|| {
        let (address, timeout) = target(&args.hub).map_err(|e| {
            eprintln!("hubwire pub: {e}");
            EXIT_USAGE
        })?;
        let channel: Channel = parse("pub", "channel", &args.channel)?;
        let body = body("pub", args.json.as_deref())?;
        Ok((address, timeout, channel, body))
    })();
    let (address, timeout, channel, body) = match prepared {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    with_spoke("pub", address, timeout, |spoke| async move {
        let options = PublishOptions {
            retain: args.retain,
            ..PublishOptions::default()
        };
        if let Err(e) = spoke.publish_with(channel, body, options).await {
            eprintln!("hubwire pub: {e}");
            return EXIT_CONNECTION_LOST;
        }
        // A call nobody serves comes back at once: once it has, the hub has routed the
        // publish sent before it.
        let flush = Channel::parse(&format!("_flush/{:x}", fastrand::u64(..))).expect("valid");
        match spoke.call(flush, Bytes::new(), timeout).await {
            Ok(_) | Err(RpcError::NoResponders { .. }) => EXIT_OK,
            Err(e) => {
                eprintln!("hubwire pub: {e}");
                EXIT_CONNECTION_LOST
            }
        }
    })
}

/// Runs `hubwire sub`: prints each message as a JSON line until `--count` or interrupted.
pub fn subscribe(args: SubArgs) -> i32 {
    let prepared = (|| {
        let (address, timeout) = target(&args.hub).map_err(|e| {
            eprintln!("hubwire sub: {e}");
            EXIT_USAGE
        })?;
        let patterns = args
            .patterns
            .iter()
            .map(|p| parse::<Pattern>("sub", "pattern", p))
            .collect::<Result<Vec<_>, i32>>()?;
        Ok((address, timeout, patterns))
    })();
    let (address, timeout, patterns) = match prepared {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    with_spoke("sub", address, timeout, |spoke| async move {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for pattern in patterns {
            match spoke.subscribe(pattern.clone()).await {
                Ok((_, mut messages)) => {
                    let tx = tx.clone();
                    actix::spawn(async move {
                        while let Some(message) = messages.recv().await {
                            if tx.send((pattern.to_string(), message)).is_err() {
                                break;
                            }
                        }
                    });
                }
                Err(e) => {
                    eprintln!("hubwire sub: {pattern}: {e}");
                    return EXIT_REMOTE_ERROR;
                }
            }
        }
        drop(tx);
        let mut seen = 0;
        while args.count.is_none_or(|n| seen < n) {
            let next = tokio::select! {
                next = rx.recv() => next,
                _ = tokio::signal::ctrl_c() => break,
            };
            let Some((pattern, message)) = next else {
                break;
            };
            let line = json!({
                "channel": message.channel.to_string(),
                "pattern": pattern,
                "retained": message.is_retained(),
                "body": printable(&message.body),
            });
            use std::io::Write;
            if writeln!(std::io::stdout(), "{line}").is_err() {
                break;
            }
            seen += 1;
        }
        EXIT_OK
    })
}

/// Runs `hubwire rpc`; prints the reply as JSON.
pub fn rpc(args: RpcArgs) -> i32 {
    let prepared = (|| {
        let (address, timeout) = target(&args.hub).map_err(|e| {
            eprintln!("hubwire rpc: {e}");
            EXIT_USAGE
        })?;
        let channel: Channel = parse("rpc", "channel", &args.channel)?;
        let body = body("rpc", args.json.as_deref())?;
        Ok((address, timeout, channel, body))
    })();
    let (address, timeout, channel, body) = match prepared {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    with_spoke("rpc", address, timeout, |spoke| async move {
        match spoke.call(channel, body, timeout).await {
            Ok(reply) => {
                println!("{}", printable(&reply));
                EXIT_OK
            }
            Err(e) => {
                eprintln!("hubwire rpc: {e}");
                match e {
                    RpcError::NoResponders { .. } | RpcError::Remote { .. } => EXIT_REMOTE_ERROR,
                    RpcError::NotAcknowledged { .. } | RpcError::TooSlow { .. } => EXIT_TIMEOUT,
                    RpcError::NotConnected { .. } => EXIT_CANNOT_CONNECT,
                    _ => EXIT_CONNECTION_LOST,
                }
            }
        }
    })
}
