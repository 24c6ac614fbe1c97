//! Guards WebSocket addresses at the command line: `hubwire hub --listen ws://...` serves the
//! same pub/sub over WebSocket, `--set ws_allowed_origins=...` configures its origins, and
//! `hubwire pub -s ws://...` dials it.

#[path = "../../tests/support/mod.rs"]
mod support;

use std::process::Command;

use hubwire::protocol::{kind, Envelope, Message, Ping, Subscribe};
use hubwire::pubsub::Pattern;
use hubwire_cli::EXIT_OK;
use support::process::{AppProcess, TempDir};
use support::*;

#[tokio::test(flavor = "current_thread")]
async fn a_hub_listening_on_ws_routes_a_publish_from_hubwire_pub() {
    let dir = TempDir::new("hub-ws-cli");
    let lock = dir.0.display().to_string();
    let args = [
        "hub",
        "--listen",
        "ws://127.0.0.1:0/hub",
        "--set",
        "ws_allowed_origins=http://localhost:8080",
        "--lock-dir",
        &lock,
    ];
    let path = std::path::Path::new(env!("CARGO_BIN_EXE_hubwire"));
    let mut hub = AppProcess::start_program(path, &args, &[], 1);
    let address = hub.address("ws");
    assert!(address.to_string().ends_with("/hub"), "{address}");

    // A subscriber over WebSocket (hubwire's dialer), its subscription in force.
    let mut subscriber = Raw::handshake(&address).await;
    subscriber
        .send_envelope(&Subscribe::new(1, Pattern::parse("rooms/**").unwrap()))
        .await;
    subscriber.send_envelope(&Ping { nonce: 1 }).await;
    assert_eq!(subscriber.recv().await.unwrap().kind, kind::PONG);

    let server = address.to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_hubwire"))
            .args(["pub", "rooms/kitchen", r#"{"celsius": 21}"#])
            .args(["-s", &server, "--timeout", "3"])
            .output()
            .expect("hubwire runs")
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(EXIT_OK), "{out:?}");
    let message = loop {
        let frame = subscriber.recv().await.expect("a MESSAGE");
        if frame.kind == kind::MESSAGE {
            break Message::from_frame(&frame).unwrap();
        }
    };
    assert_eq!(message.channel.as_str(), "rooms/kitchen");

    hub.signal(libc::SIGTERM);
    assert!(hub.wait().success());
}
