//! A queued sender in an application: `forward.send` takes any body, stores it durably, answers
//! `{"id": N}`, and a sender delivers it to a remote route (by default the dice server's queued
//! `dice.roll_times`), retrying while the remote is down. Stop the dice server, send, start it
//! again: every message arrives.
//!
//! Run: `cargo run --example dice_server`, then `cargo run --example forwarder`, then
//! `cargo run --bin hubwire -- call tcp://127.0.0.1:7450 forward.send '{"sides": 6, "how_many": 3}'`
//! and `cargo run --bin hubwire -- sender data tcp://127.0.0.1:7450 to-remote`.
//! Settings (in `extra`): `target` (the remote's address) and `route` (the route to call), e.g.
//! `--set 'extra={"target": "tcp://127.0.0.1:7440", "route": "journal.write"}'`.

use std::process::ExitCode;
use std::time::Duration;

use hubwire::backoff::BackoffPolicy;
use hubwire::prelude::*;
use hubwire::sender::{Destination, SendError, Sender, SenderSpec};

/// The id the message was stored under in the sender.
#[derive(Debug, Serialize, Deserialize)]
pub struct Forwarded {
    pub id: u64,
}

route!(pub Forward = "forward.send", serde_json::Value => Forwarded);

/// Hands each request's body to the sender.
struct Forwarder {
    sender: Sender,
}

impl Actor for Forwarder {
    type Context = Context<Self>;
}

impl Serve<Forward> for Forwarder {
    fn serve(&mut self, body: serde_json::Value, _: &mut Context<Self>) -> Reply<Forwarded> {
        let sender = self.sender.clone();
        Reply::later(async move {
            match sender.send(&body).await {
                Ok(id) => Ok(Forwarded { id: id.0 }),
                Err(e @ (SendError::Full { .. } | SendError::Paused { .. })) => {
                    Err(HandlerError::busy(e.to_string()))
                }
                Err(e) => Err(HandlerError::new(e.to_string())),
            }
        })
    }
}

serve!(Forwarder: Forward);

fn setting<'a>(config: &'a Config, key: &str, default: &'a str) -> &'a str {
    config
        .extra
        .get(key)
        .and_then(|v| v.as_str())
        .unwrap_or(default)
}

fn main() -> ExitCode {
    App::new("forwarder")
        .defaults(|config| {
            config.listen = vec!["tcp://127.0.0.1:7450".parse().expect("an address")];
        })
        .with_store(|builder, config, store| {
            let target = setting(config, "target", "tcp://127.0.0.1:7400");
            let route = setting(config, "route", "dice.roll_times");
            let address = target
                .parse()
                .map_err(|e| format!("extra.target {target:?}: {e}"))?;
            let (sender, keeper) = SenderSpec::new("to-remote", Destination::new(address, route))
                .workers(4)
                .max_attempts(100)
                .backoff(BackoffPolicy::exponential(
                    Duration::from_millis(100),
                    Duration::from_secs(2),
                ))
                .build(store, builder.registry())?;
            Ok(builder.supervise(keeper).route(Forward, move || Forwarder {
                sender: sender.clone(),
            }))
        })
        .run()
}
