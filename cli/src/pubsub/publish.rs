//! `hubwire pub CHANNEL [BODY]`: publishes a JSON body (or raw text with `--raw`, or stdin
//! with `-`), with headers, once or `--count` times `--interval` apart.

use std::io::Read;
use std::time::Duration;

use bytes::Bytes;
use hubwire_actors::spoke::PublishOptions;
use hubwire_core::protocol::Headers;
use hubwire_core::pubsub::Channel;
use hubwire_core::spoke::SpokeEvent;
use tokio::sync::broadcast::error::TryRecvError;

use super::duration::parse_duration;
use super::{parse, target, with_spoke, HubTarget};
use crate::call::{json_to_body, parse_headers};
use crate::{EXIT_CONNECTION_LOST, EXIT_OK, EXIT_REMOTE_ERROR, EXIT_USAGE};

/// Arguments of `hubwire pub`.
#[derive(Debug, clap::Args)]
pub struct PubArgs {
    /// The channel, such as rooms/kitchen/temp.
    pub channel: String,
    /// The body: JSON (default: null), or `-` to read it from stdin.
    pub body: Option<String>,
    /// Send the body as it is (text or stdin bytes), not as JSON turned into MessagePack.
    #[arg(long)]
    pub raw: bool,
    /// A header (repeatable), such as -H trace=abc.
    #[arg(short = 'H', long = "header", value_name = "NAME=VALUE")]
    pub headers: Vec<String>,
    /// Publish the body this many times.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub count: u64,
    /// Time between repeated publishes, such as 500ms, 2s or 1m (default: none).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub interval: Option<Duration>,
    /// Keep it as the channel's retained message (an empty body clears it).
    #[arg(long)]
    pub retain: bool,
    /// The hub and the time allowed.
    #[command(flatten)]
    pub hub: HubTarget,
}

/// The body to publish: the argument or stdin, as JSON made MessagePack or as it is.
fn body(args: &PubArgs) -> Result<Bytes, String> {
    let text = match args.body.as_deref() {
        Some("-") => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|e| format!("cannot read the body from stdin: {e}"))?;
            bytes
        }
        Some(text) => text.as_bytes().to_vec(),
        None if args.raw => Vec::new(),
        None => b"null".to_vec(),
    };
    if args.raw {
        return Ok(Bytes::from(text));
    }
    let text = String::from_utf8(text).map_err(|_| "the body is not UTF-8 text: use --raw")?;
    json_to_body(&text).map_err(|e| format!("{e} (use --raw to send text as it is)"))
}

/// Runs `hubwire pub`; returns the exit code.
pub fn publish(args: PubArgs) -> i32 {
    let prepared = (|| {
        let usage = |e: String| {
            eprintln!("hubwire pub: {e}");
            EXIT_USAGE
        };
        let (address, timeout, tls) = target(&args.hub).map_err(usage)?;
        let channel: Channel = parse("pub", "channel", &args.channel)?;
        let body = body(&args).map_err(usage)?;
        let headers = parse_headers(&args.headers).map_err(usage)?;
        Ok((address, timeout, tls, channel, body, headers))
    })();
    let (address, timeout, tls, channel, body, headers) = match prepared {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    with_spoke("pub", (address, timeout, tls), |spoke| async move {
        // Refusals come as events, each before the PONG of the barrier below.
        let mut events = spoke.events();
        let options = |headers: &Headers| PublishOptions {
            retain: args.retain,
            headers: headers.clone(),
            ..PublishOptions::default()
        };
        for n in 0..args.count {
            if n > 0 {
                if let Some(interval) = args.interval {
                    tokio::time::sleep(interval).await;
                }
            }
            let sent = spoke
                .publish_with(channel.clone(), body.clone(), options(&headers))
                .await;
            if let Err(e) = sent {
                eprintln!("hubwire pub: {e}");
                return EXIT_CONNECTION_LOST;
            }
        }
        // The PING barrier: once its PONG is back, the hub has routed the publishes sent
        // before it.
        if let Err(e) = spoke.flush(timeout).await {
            eprintln!("hubwire pub: {e}");
            return EXIT_CONNECTION_LOST;
        }
        let mut refused = 0;
        loop {
            match events.try_recv() {
                Ok(SpokeEvent::PublishRefused { code, message }) => {
                    if refused == 0 {
                        eprintln!("hubwire pub: the hub refused the publish: {code}: {message}");
                    }
                    refused += 1;
                }
                Ok(_) | Err(TryRecvError::Lagged(_)) => {}
                Err(_) => break,
            }
        }
        match refused {
            0 => EXIT_OK,
            1 => EXIT_REMOTE_ERROR,
            _ => {
                eprintln!("hubwire pub: {refused} publishes refused");
                EXIT_REMOTE_ERROR
            }
        }
    })
}
