//! Guards `hubwire sub`'s report of its connection: when the hub goes away it says so on
//! stderr, and when the hub is back it says it reconnected and resubscribed, while stdout
//! keeps only messages.

#[path = "../../tests/support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::hub::{free_port, hub_on};
use support::PATIENCE;

/// A running `hubwire sub`, killed on drop.
struct Subscriber(Child);

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn lines(pipe: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for a line containing `needle`, failing after [`PATIENCE`].
fn wait_for(lines: &mpsc::Receiver<String>, needle: &str) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(_) => {}
            Err(e) => panic!("no line with {needle:?}: {e}"),
        }
    }
}

/// Publishes to `channel` until the subscriber prints a message (it is subscribed).
fn publish_until_seen(address: &str, channel: &str, stdout: &mpsc::Receiver<String>) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let out = Command::new(env!("CARGO_BIN_EXE_hubwire"))
            .args(["pub", channel, "1", "-s", address])
            .output()
            .expect("hubwire pub runs");
        assert!(out.status.success(), "{out:?}");
        if stdout.recv_timeout(Duration::from_millis(200)).is_ok() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the subscriber never got a message"
        );
    }
}

#[test]
fn sub_says_on_stderr_when_the_hub_goes_and_comes_back() {
    let port = free_port();
    let address = format!("tcp://127.0.0.1:{port}");
    let hub = hub_on(port);
    let mut child = Command::new(env!("CARGO_BIN_EXE_hubwire"))
        .args(["sub", "x/**", "-s", &address])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hubwire sub runs");
    let stdout = lines(child.stdout.take().unwrap());
    let stderr = lines(child.stderr.take().unwrap());
    let _sub = Subscriber(child);
    publish_until_seen(&address, "x/before", &stdout);

    drop(hub);
    wait_for(&stderr, "disconnected");
    let _hub = hub_on(port);
    wait_for(&stderr, "reconnected");
    wait_for(&stderr, "resubscribed");
    publish_until_seen(&address, "x/after", &stdout);
}
