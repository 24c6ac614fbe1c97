//! `hubwire sub PATTERN...`: prints each message as a JSON line on stdout (with its headers
//! when it has any), and the connection's
//! ups and downs (disconnected, reconnect failures, reconnected, resubscribed) on stderr.

use hubwire_actors::spoke::{Spoke, SpokeEvent};
use hubwire_core::pubsub::Pattern;
use serde_json::json;
use tokio::sync::broadcast;

use super::{parse, printable, target, with_spoke, HubTarget};
use crate::{EXIT_OK, EXIT_REMOTE_ERROR, EXIT_USAGE};

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

/// The stderr line for a connection event, if it is one a person watching wants to see.
fn event_line(event: &SpokeEvent) -> Option<String> {
    match event {
        SpokeEvent::Disconnected { reason } => Some(format!(
            "hubwire sub: disconnected ({reason}); reconnecting"
        )),
        SpokeEvent::ConnectFailed { reason, retry_in } => Some(format!(
            "hubwire sub: cannot reconnect ({reason}); next try in {} ms",
            retry_in.as_millis()
        )),
        SpokeEvent::Connected { first: false } => Some("hubwire sub: reconnected".to_owned()),
        SpokeEvent::Connected { first: true } => None,
        SpokeEvent::Subscribed { .. } | SpokeEvent::PublishRefused { .. } => None,
    }
}

/// Prints the spoke's connection events on stderr until the spoke stops.
fn report_events(mut events: broadcast::Receiver<SpokeEvent>) {
    actix::spawn(async move {
        let mut reconnecting = false;
        loop {
            match events.recv().await {
                Ok(event) => {
                    if let Some(line) = event_line(&event) {
                        eprintln!("{line}");
                    }
                    match event {
                        SpokeEvent::Disconnected { .. } => reconnecting = true,
                        SpokeEvent::Subscribed { .. } if reconnecting => {
                            reconnecting = false;
                            eprintln!("hubwire sub: resubscribed");
                        }
                        _ => {}
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    eprintln!("hubwire sub: {n} connection events missed");
                }
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}

/// Subscribes to every pattern; each message goes to `tx` with the pattern it matched.
async fn subscribe_all(
    spoke: &Spoke,
    patterns: Vec<Pattern>,
) -> Result<tokio::sync::mpsc::UnboundedReceiver<(String, hubwire_actors::spoke::Delivery)>, i32> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
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
                return Err(EXIT_REMOTE_ERROR);
            }
        }
    }
    Ok(rx)
}

/// Runs `hubwire sub`: prints each message as a JSON line until `--count` or interrupted.
pub fn subscribe(args: SubArgs) -> i32 {
    let prepared = (|| {
        let (address, timeout, tls) = target(&args.hub).map_err(|e| {
            eprintln!("hubwire sub: {e}");
            EXIT_USAGE
        })?;
        let patterns = args
            .patterns
            .iter()
            .map(|p| parse::<Pattern>("sub", "pattern", p))
            .collect::<Result<Vec<_>, i32>>()?;
        Ok((address, timeout, tls, patterns))
    })();
    let (address, timeout, tls, patterns) = match prepared {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    with_spoke("sub", (address, timeout, tls), |spoke| async move {
        report_events(spoke.events());
        let mut rx = match subscribe_all(&spoke, patterns).await {
            Ok(rx) => rx,
            Err(code) => return code,
        };
        let mut seen = 0;
        while args.count.is_none_or(|n| seen < n) {
            let next = tokio::select! {
                next = rx.recv() => next,
                _ = tokio::signal::ctrl_c() => break,
            };
            let Some((pattern, message)) = next else {
                break;
            };
            let mut line = json!({
                "channel": message.channel.to_string(),
                "pattern": pattern,
                "retained": message.is_retained(),
                "body": printable(&message.body),
            });
            if !message.headers.is_empty() {
                line["headers"] = message.headers.iter().collect();
            }
            use std::io::Write;
            if writeln!(std::io::stdout(), "{line}").is_err() {
                break;
            }
            seen += 1;
        }
        EXIT_OK
    })
}
