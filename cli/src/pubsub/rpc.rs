//! `hubwire rpc CHANNEL [JSON]`: one call over pub/sub, the reply printed as JSON.

use hubwire_core::pubsub::Channel;
use hubwire_core::spoke::RpcError;

use super::{body, parse, printable, target, with_spoke, HubTarget};
use crate::{
    EXIT_CANNOT_CONNECT, EXIT_CONNECTION_LOST, EXIT_OK, EXIT_REMOTE_ERROR, EXIT_TIMEOUT, EXIT_USAGE,
};

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

/// Runs `hubwire rpc`; prints the reply as JSON.
pub fn rpc(args: RpcArgs) -> i32 {
    let prepared = (|| {
        let (address, timeout, tls) = target(&args.hub).map_err(|e| {
            eprintln!("hubwire rpc: {e}");
            EXIT_USAGE
        })?;
        let channel: Channel = parse("rpc", "channel", &args.channel)?;
        let body = body("rpc", args.json.as_deref())?;
        Ok((address, timeout, tls, channel, body))
    })();
    let (address, timeout, tls, channel, body) = match prepared {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    with_spoke("rpc", (address, timeout, tls), |spoke| async move {
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
