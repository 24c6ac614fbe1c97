//! Guards how `hubwire pub` knows its publishes were routed: a PING barrier, not a call to a
//! hidden channel. A subscriber on `**` sees only what was published, `hubwire pub` succeeds
//! (a hidden call would reach that subscriber, go unacknowledged, and fail), and the hub's
//! figures count no no-responders. (Spokes confirm their subscriptions by echoing a message to
//! their own `_inbox/...`; a `**` subscriber sees those, and they are skipped here.)

#[path = "../../tests/support/mod.rs"]
mod support;

use std::process::Command;
use std::time::Duration;

use hubwire::pubsub::Pattern;
use hubwire_cli::EXIT_OK;
use support::hub::{hub, ready_spoke};

#[actix::test]
async fn pub_succeeds_beside_a_catch_all_subscriber_and_leaves_no_trace() {
    let server = hub();
    let address = server.tcp().to_string();
    let spoke = ready_spoke(server.tcp(), "everything").await;
    let (_, mut everything) = spoke
        .subscribe(Pattern::parse("**").unwrap())
        .await
        .unwrap();

    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_hubwire"))
            .args(["pub", "rooms/kitchen/temp", r#"{"celsius": 21}"#])
            .args(["-s", &address, "--timeout", "3"])
            .output()
            .expect("hubwire runs")
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_OK), "{out:?}");

    // Everything the catch-all subscriber gets, but the spokes' own confirmations.
    let mut seen = Vec::new();
    while let Ok(Some(message)) =
        tokio::time::timeout(Duration::from_millis(300), everything.recv()).await
    {
        let channel = message.channel.to_string();
        if !channel.starts_with("_inbox/") {
            seen.push(channel);
        }
    }
    assert_eq!(seen, ["rooms/kitchen/temp"]);
    let no_responders = server.registry.counter("hub.no_responders", &[]).get();
    assert_eq!(no_responders, 0);
}
