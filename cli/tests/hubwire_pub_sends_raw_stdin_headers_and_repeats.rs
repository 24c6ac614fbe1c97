//! Guards `hubwire pub`'s bodies and repeats: `--raw` text as it is, a body from stdin (`-`)
//! as JSON or raw bytes, `-H name=value` headers, and `--count N --interval DURATION`.

#[path = "../../tests/support/mod.rs"]
mod support;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use hubwire::pubsub::Pattern;
use hubwire::spoke::Delivery;
use hubwire_cli::EXIT_OK;
use support::hub::{hub, ready_spoke};
use support::recv_or_fail;
use tokio::sync::mpsc::Receiver;

/// Runs `hubwire pub ARGS -s HUB` with `stdin` piped in, off the actix thread.
async fn publish(hub: &str, args: &[&str], stdin: &[u8]) -> Output {
    let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    args.extend(["-s".to_owned(), hub.to_owned()]);
    let stdin = stdin.to_vec();
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hubwire"))
            .arg("pub")
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("hubwire runs");
        child.stdin.take().unwrap().write_all(&stdin).unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

async fn next(messages: &mut Receiver<Delivery>) -> Delivery {
    recv_or_fail("a message", messages.recv())
        .await
        .expect("the subscription is open")
}

fn as_json(body: &[u8]) -> serde_json::Value {
    rmp_serde::from_slice(body).expect("a MessagePack body")
}

#[actix::test]
async fn raw_text_and_stdin_bodies_arrive_as_sent() {
    let server = hub();
    let address = server.tcp().to_string();
    let spoke = ready_spoke(server.tcp(), "watcher").await;
    let (_, mut messages) = spoke
        .subscribe(Pattern::parse("t/**").unwrap())
        .await
        .unwrap();

    let out = publish(&address, &["t/raw", "--raw", "hello, not JSON"], b"").await;
    assert_eq!(out.status.code(), Some(EXIT_OK), "{out:?}");
    assert_eq!(&next(&mut messages).await.body[..], b"hello, not JSON");

    let out = publish(&address, &["t/stdin", "-"], br#"{"celsius": 21}"#).await;
    assert_eq!(out.status.code(), Some(EXIT_OK), "{out:?}");
    let body = next(&mut messages).await.body;
    assert_eq!(as_json(&body), serde_json::json!({"celsius": 21}));

    let bytes = [0u8, 159, 146, 150, b'\n'];
    let out = publish(&address, &["t/bytes", "--raw", "-"], &bytes).await;
    assert_eq!(out.status.code(), Some(EXIT_OK), "{out:?}");
    assert_eq!(&next(&mut messages).await.body[..], &bytes[..]);

    // Not JSON and not --raw: refused, and the error says what to do.
    let out = publish(&address, &["t/bad", "-"], b"plain words").await;
    assert_eq!(out.status.code(), Some(hubwire_cli::EXIT_USAGE), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--raw"));
}

#[actix::test]
async fn headers_travel_with_the_message() {
    let server = hub();
    let address = server.tcp().to_string();
    let spoke = ready_spoke(server.tcp(), "watcher").await;
    let (_, mut messages) = spoke.subscribe(Pattern::parse("h").unwrap()).await.unwrap();
    let args = ["h", "1", "-H", "trace=abc", "--header", "formula=a=b"];
    let out = publish(&address, &args, b"").await;
    assert_eq!(out.status.code(), Some(EXIT_OK), "{out:?}");
    let message = next(&mut messages).await;
    assert_eq!(message.headers.get("trace"), Some("abc"));
    assert_eq!(message.headers.get("formula"), Some("a=b"));
    assert_eq!(as_json(&message.body), serde_json::json!(1));
}

#[actix::test]
async fn count_and_interval_repeat_the_publish() {
    let server = hub();
    let address = server.tcp().to_string();
    let spoke = ready_spoke(server.tcp(), "watcher").await;
    let (_, mut messages) = spoke.subscribe(Pattern::parse("r").unwrap()).await.unwrap();
    let started = Instant::now();
    let out = publish(
        &address,
        &["r", "7", "--count", "3", "--interval", "300ms"],
        b"",
    )
    .await;
    assert_eq!(out.status.code(), Some(EXIT_OK), "{out:?}");
    // Two intervals between three publishes.
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
    for _ in 0..3 {
        assert_eq!(
            as_json(&next(&mut messages).await.body),
            serde_json::json!(7)
        );
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(200), messages.recv())
            .await
            .is_err(),
        "a fourth message"
    );
    let out = publish(&address, &["r", "7", "--count", "0"], b"").await;
    assert_eq!(out.status.code(), Some(hubwire_cli::EXIT_USAGE), "{out:?}");
}
