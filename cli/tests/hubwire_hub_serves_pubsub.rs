//! Guards `hubwire hub`: it runs a hub as an application (loopback, `--listen`), serves
//! publishes to subscribers over the wire, and stops cleanly on SIGTERM; a `udp://` listener is
//! refused with the reason.

#[path = "../../tests/support/mod.rs"]
mod support;

use bytes::Bytes;
use hubwire::protocol::{kind, Envelope, Headers, Message, MessageFlags, Ping, Publish, Subscribe};
use hubwire::pubsub::{Channel, Pattern};
use support::process::{AppProcess, TempDir};
use support::*;

#[tokio::test(flavor = "current_thread")]
async fn hubwire_hub_routes_a_publish_and_stops_on_sigterm() {
    let dir = TempDir::new("hub-cli");
    let lock = dir.0.display().to_string();
    let args = ["hub", "--listen", "tcp://127.0.0.1:0", "--lock-dir", &lock];
    let path = std::path::Path::new(env!("CARGO_BIN_EXE_hubwire"));
    let mut hub = AppProcess::start_program(path, &args, &[], 1);
    let address = hub.address("tcp");

    let mut subscriber = Raw::handshake(&address).await;
    subscriber
        .send_envelope(&Subscribe::new(1, Pattern::parse("greetings/*").unwrap()))
        .await;
    subscriber.send_envelope(&Ping { nonce: 1 }).await;
    assert_eq!(subscriber.recv().await.unwrap().kind, kind::PONG);

    let mut publisher = Raw::handshake(&address).await;
    publisher
        .send_envelope(&Publish {
            channel: Channel::parse("greetings/world").unwrap(),
            flags: MessageFlags::NONE,
            reply_to: None,
            headers: Headers::new(),
            body: Bytes::from_static(b"hello"),
        })
        .await;
    let frame = subscriber.recv().await.expect("a MESSAGE");
    let message = Message::from_frame(&frame).unwrap();
    assert_eq!(
        (message.sids.as_slice(), &message.body[..]),
        (&[1][..], &b"hello"[..])
    );

    hub.signal(libc::SIGTERM);
    assert!(hub.wait().success());
}

#[test]
fn hubwire_hub_refuses_a_udp_listener_and_says_why() {
    let dir = TempDir::new("hub-cli-udp");
    let lock = dir.0.display().to_string();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_hubwire"))
        .args(["hub", "--listen", "udp://127.0.0.1:0", "--lock-dir", &lock])
        .output()
        .expect("hubwire runs");
    assert_eq!(output.status.code(), Some(2), "a configuration error");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot listen on udp://127.0.0.1:0: pub/sub needs a stream"),
        "{stderr}"
    );
}
