//! Guards `hubwire reply CHANNEL`, the shell responder: by default it echoes each request,
//! `--body JSON` answers a fixed body, `--command CMD` answers what the command prints with
//! the request on its stdin (a failing command answers an error), and `--count N` exits
//! after N calls.

#[path = "../../tests/support/mod.rs"]
mod support;

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use hubwire_cli::{EXIT_OK, EXIT_REMOTE_ERROR};
use support::hub::hub;

/// A running `hubwire reply`, killed on drop.
struct Responder(Child);

impl Drop for Responder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn responder(hub: &str, args: &[&str]) -> Responder {
    let child = Command::new(env!("CARGO_BIN_EXE_hubwire"))
        .arg("reply")
        .args(args)
        .args(["-s", hub])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("hubwire reply runs");
    Responder(child)
}

/// `hubwire rpc CHANNEL JSON`, retried while nobody responds yet (the responder starting).
fn rpc(hub: &str, channel: &str, json: &str) -> Output {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = Command::new(env!("CARGO_BIN_EXE_hubwire"))
            .args(["rpc", channel, json, "-s", hub])
            .output()
            .expect("hubwire rpc runs");
        let nobody = String::from_utf8_lossy(&out.stderr).contains("no responders");
        if !nobody || Instant::now() > deadline {
            return out;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn reply_json(out: &Output) -> serde_json::Value {
    assert_eq!(out.status.code(), Some(EXIT_OK), "{out:?}");
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn by_default_each_request_is_echoed() {
    let server = hub();
    let address = server.tcp().to_string();
    let _echo = responder(&address, &["svc/echo"]);
    let out = rpc(&address, "svc/echo", r#"{"hello": "world"}"#);
    assert_eq!(reply_json(&out), serde_json::json!({"hello": "world"}));
}

#[test]
fn a_fixed_body_answers_every_call() {
    let server = hub();
    let address = server.tcp().to_string();
    let _fixed = responder(&address, &["svc/fixed", "--body", r#"{"status": "ok"}"#]);
    for request in ["1", "null"] {
        let out = rpc(&address, "svc/fixed", request);
        assert_eq!(reply_json(&out), serde_json::json!({"status": "ok"}));
    }
}

#[test]
fn a_command_answers_with_its_output_and_its_failure() {
    let server = hub();
    let address = server.tcp().to_string();
    // The request arrives as JSON on stdin; JSON printed is the reply.
    let _wc = responder(&address, &["svc/wc", "--command", "tr -d ' \\n' | wc -c"]);
    let out = rpc(&address, "svc/wc", r#"{"a": 1}"#);
    assert_eq!(reply_json(&out), serde_json::json!(7));
    let _text = responder(&address, &["svc/text", "--command", "echo plain words"]);
    assert_eq!(
        reply_json(&rpc(&address, "svc/text", "null")),
        "plain words"
    );
    let _fail = responder(
        &address,
        &["svc/fail", "--command", "echo broken >&2; exit 3"],
    );
    let out = rpc(&address, "svc/fail", "null");
    assert_eq!(out.status.code(), Some(EXIT_REMOTE_ERROR), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("broken"),
        "{out:?}"
    );
}

#[test]
fn count_exits_after_that_many_calls_and_prints_each_request() {
    let server = hub();
    let address = server.tcp().to_string();
    let mut once = responder(&address, &["svc/once", "--count", "1"]);
    reply_json(&rpc(&address, "svc/once", r#""ping""#));
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = once.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "hubwire reply --count 1 did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success());
    let mut printed = String::new();
    use std::io::Read;
    once.0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut printed)
        .unwrap();
    let line: serde_json::Value = serde_json::from_str(printed.trim()).unwrap();
    assert_eq!(
        (line["channel"].as_str(), line["body"].as_str()),
        (Some("svc/once"), Some("ping"))
    );
}
