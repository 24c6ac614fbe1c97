//! The work-queue examples as real processes: `work_dispatcher` (an app with a dispatcher) and
//! `work_worker` (a worker writing down what it starts and finishes in a journal), a producer,
//! and the dispatcher's figures from `hubwire.stats`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hubwire::prelude::*;
use hubwire::standard::Stats;
use hubwire::work::{Producer, WorkFigures};

use super::process::{example_path, AppProcess, TempDir};
use super::PATIENCE;

/// A dispatcher app; `extra` adds settings to its `extra` (JSON members, comma-separated).
pub struct Dispatcher {
    pub process: AppProcess,
    /// Its work listener.
    pub work: Address,
    /// Its app listener (for `hubwire.stats`).
    pub app: Address,
}

/// Starts the `work_dispatcher` example with its lock and data in `dir`.
pub fn dispatcher(dir: &TempDir, extra: &str) -> Dispatcher {
    let lock = dir.path("lock").display().to_string();
    let data = dir.path("data").display().to_string();
    let comma = if extra.is_empty() { "" } else { ", " };
    let extra = format!(r#"extra={{"work_listen": "tcp://127.0.0.1:0"{comma}{extra}}}"#);
    let args = [
        "--lock-dir",
        &lock,
        "--data-dir",
        &data,
        "--listen",
        "tcp://127.0.0.1:0",
        "--set",
        &extra,
    ];
    let path = example_path("work_dispatcher");
    let env = [("HUBWIRE_DATA_DIR", data.as_str())];
    let process = AppProcess::start_program(&path, &args, &env, 2);
    // The work listener is printed first, while the app is set up.
    let work = process.addresses[0].clone();
    let app = process.addresses[1].clone();
    Dispatcher { process, work, app }
}

impl Dispatcher {
    /// The dispatcher's figures, from `hubwire.stats`.
    pub async fn figures(&self) -> WorkFigures {
        let client = Client::new(self.app.clone());
        let stats = client
            .call::<Stats>(&())
            .await
            .expect("hubwire.stats answers");
        stats
            .work
            .get("work_dispatcher")
            .cloned()
            .expect("the dispatcher's figures")
    }
}

/// A `work_worker` process; killed on drop.
pub struct WorkerProcess {
    pub child: Child,
    pub name: String,
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a worker named `name` on `work`, journal in `dir/<name>.log`; `flags` are more of
/// its flags. Returns once it has taken its queue.
pub fn worker(dir: &TempDir, work: &Address, name: &str, flags: &[&str]) -> WorkerProcess {
    let journal = dir.path(&format!("{name}.log")).display().to_string();
    let address = work.to_string();
    let mut args = vec!["--address", &address, "--name", name, "--journal", &journal];
    args.extend_from_slice(flags);
    let mut child = Command::new(example_path("work_worker"))
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the worker runs");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let line = rx.recv_timeout(PATIENCE).unwrap_or_else(|_| {
        let _ = child.kill();
        panic!("worker {name} did not start")
    });
    assert!(line.contains("ready"), "worker {name} said {line:?}");
    WorkerProcess {
        child,
        name: name.to_owned(),
    }
}

/// One line of a worker's journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Start { id: u64, delivery: u32 },
    Done { id: u64 },
}

/// The journal of worker `name`, in the order written.
pub fn journal(dir: &TempDir, name: &str) -> Vec<Event> {
    let text = std::fs::read_to_string(dir.path(&format!("{name}.log"))).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let parts: Vec<&str> = line.split(' ').collect();
            match parts[..] {
                ["start", id, delivery, _, ..] => Some(Event::Start {
                    id: id.parse().ok()?,
                    delivery: delivery.parse().ok()?,
                }),
                ["done", id, _, ..] => Some(Event::Done {
                    id: id.parse().ok()?,
                }),
                _ => None,
            }
        })
        .collect()
}

/// Ids started, with their delivery numbers, in order.
pub fn starts(dir: &TempDir, name: &str) -> Vec<(u64, u32)> {
    journal(dir, name)
        .into_iter()
        .filter_map(|e| match e {
            Event::Start { id, delivery } => Some((id, delivery)),
            _ => None,
        })
        .collect()
}

/// Ids finished, in order.
pub fn dones(dir: &TempDir, name: &str) -> Vec<u64> {
    journal(dir, name)
        .into_iter()
        .filter_map(|e| match e {
            Event::Done { id } => Some(id),
            _ => None,
        })
        .collect()
}

/// How many times each id appears in `ids`.
pub fn counts(ids: impl IntoIterator<Item = u64>) -> BTreeMap<u64, usize> {
    let mut by_id = BTreeMap::new();
    for id in ids {
        *by_id.entry(id).or_default() += 1;
    }
    by_id
}

/// Waits until `done` holds, polling every 20 ms, failing after `patience`.
pub async fn wait_until(what: &str, patience: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + patience;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A producer connected to `work`.
pub async fn producer(work: &Address) -> Producer {
    tokio::time::timeout(PATIENCE, Producer::connect(work))
        .await
        .expect("the producer connects in time")
        .expect("the producer connects")
}

/// A worker spoken by hand over a raw socket, for behaviour the `Worker` never shows: leases
/// never extended, answers never sent, a socket never read.
pub struct RawWorker {
    pub stream: tokio::net::TcpStream,
    buf: bytes::BytesMut,
}

impl RawWorker {
    /// Connects, says CONN and TAKE `queue` with `credit`; reads up to TAKEN.
    pub async fn connect(work: &Address, queue: &str, credit: u32) -> RawWorker {
        use hubwire::protocol::{kind, Envelope, Hello, Take, PROTOCOL_VERSION};
        use tokio::io::AsyncWriteExt;
        let hp = work.to_string().trim_start_matches("tcp://").to_owned();
        let mut stream = tokio::net::TcpStream::connect(hp).await.unwrap();
        let hello = Hello {
            version: PROTOCOL_VERSION,
            agent: "raw-worker".into(),
            max_frame: 1 << 20,
            max_in_flight: 0,
        };
        let take = Take {
            queues: vec![queue.into()],
            credit,
        };
        let mut out = bytes::BytesMut::new();
        hello.write_frame(&mut out).unwrap();
        take.write_frame(&mut out).unwrap();
        stream.write_all(&out).await.unwrap();
        let mut raw = RawWorker {
            stream,
            buf: bytes::BytesMut::new(),
        };
        loop {
            let frame = raw.next_frame().await;
            if frame.kind == kind::WORK_TAKEN {
                return raw;
            }
        }
    }

    /// The next frame the dispatcher sends.
    pub async fn next_frame(&mut self) -> hubwire::protocol::Frame {
        use tokio::io::AsyncReadExt;
        loop {
            if let Some(frame) = hubwire::protocol::decode_frame(&mut self.buf, 1 << 20).unwrap() {
                return frame;
            }
            let read = tokio::time::timeout(PATIENCE, self.stream.read_buf(&mut self.buf))
                .await
                .expect("a frame in time")
                .unwrap();
            assert!(read > 0, "the dispatcher closed the connection");
        }
    }

    /// Reads frames, answering PINGs, until a DELIVER; returns it.
    pub async fn next_delivery(&mut self) -> hubwire::protocol::Deliver {
        use hubwire::protocol::{kind, Deliver, Envelope};
        loop {
            let frame = self.next_frame().await;
            match frame.kind {
                kind::WORK_DELIVER => return Deliver::from_frame(&frame).unwrap(),
                kind::PING => self.pong(&frame).await,
                _ => {}
            }
        }
    }

    /// Answers a PING frame.
    pub async fn pong(&mut self, ping: &hubwire::protocol::Frame) {
        use hubwire::protocol::{Envelope, Ping, Pong};
        let nonce = Ping::from_frame(ping).unwrap().nonce;
        self.send(&Pong { nonce }).await;
    }

    /// Sends one envelope.
    pub async fn send(&mut self, envelope: &impl hubwire::protocol::Envelope) {
        use tokio::io::AsyncWriteExt;
        let bytes = envelope.to_frame_bytes().unwrap();
        self.stream.write_all(&bytes).await.unwrap();
    }
}

/// The bodies a worker finished, in order (as its journal writes them).
pub fn done_bodies(dir: &TempDir, name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(dir.path(&format!("{name}.log"))).unwrap_or_default();
    text.lines()
        .filter_map(|line| match line.split(' ').collect::<Vec<_>>()[..] {
            ["done", _, _, body] => Some(body.to_owned()),
            _ => None,
        })
        .collect()
}

/// Starts the `work_relay` example under the dispatcher at `parent`, its lock in
/// `dir/<name>`; returns it and its work address.
pub fn relay(dir: &TempDir, parent: &Address, name: &str, credit: u32) -> (AppProcess, Address) {
    let lock = dir.path(&format!("{name}-lock")).display().to_string();
    let data = dir.path(&format!("{name}-data")).display().to_string();
    let extra = format!(
        r#"extra={{"parent": "{parent}", "work_listen": "tcp://127.0.0.1:0", "credit": {credit}, "heartbeat_ms": 3000}}"#
    );
    let args = [
        "--lock-dir",
        &lock,
        "--data-dir",
        &data,
        "--listen",
        "tcp://127.0.0.1:0",
        "--set",
        &extra,
    ];
    let env = [("HUBWIRE_DATA_DIR", data.as_str())];
    let process = AppProcess::start_program(&example_path("work_relay"), &args, &env, 2);
    let work = process.addresses[0].clone();
    (process, work)
}
