//! The JetStream side of `hubwire bench work` (feature `nats-bench`): a nats-server started
//! with `-js` on a free port and a fresh store directory, and per row a work-queue stream
//! (file storage for the durable rows, memory for the others), one durable pull consumer that
//! every worker pulls from, and one producer publishing through the JetStream context (each
//! publish waits for its stored-acknowledgement, as hubwire's ENQUEUE waits for ENQUEUED).

use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::{pull, AckPolicy, PullConsumer};
use async_nats::jetstream::stream::{self, RetentionPolicy, StorageType};
use bytes::Bytes;
use futures::StreamExt;

use super::work::{Counts, Kind, Load, BACKLOG_PAUSE};
use super::{Failure, TempDir, EXIT_CANNOT_CONNECT};

const SUBJECT: &str = "bench.work";
const CONSUMER: &str = "workers";
/// How long nats-server has to accept connections after it starts.
const START_PATIENCE: Duration = Duration::from_secs(10);

/// A nats-server with JetStream, killed (and its store removed) when dropped.
pub(super) struct NatsServer {
    pub url: String,
    child: Child,
    _dir: TempDir,
}

impl NatsServer {
    /// Starts `program -a 127.0.0.1 -p PORT -js -sd DIR` on a free port.
    pub fn start(program: &str) -> Result<NatsServer, Failure> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| Failure::new(1, format!("no free port for nats-server: {e}")))?
            .port();
        let dir = TempDir::new()?;
        let child = Command::new(program)
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(&dir.0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                Failure::new(
                    1,
                    format!("cannot start {program} (apt-get install nats-server, or --nats-server PATH, or --no-nats): {e}"),
                )
            })?;
        let server = NatsServer {
            url: format!("nats://127.0.0.1:{port}"),
            child,
            _dir: dir,
        };
        let deadline = Instant::now() + START_PATIENCE;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err(Failure::new(
                    1,
                    format!("{program} did not listen on {port}"),
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        println!("JetStream: {program} -js at {}", server.url);
        Ok(server)
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn failed(what: &'static str) -> impl Fn(String) -> Failure {
    move |e| Failure::new(1, format!("JetStream {what}: {e}"))
}

/// One JetStream row: a fresh stream and consumer, `load.workers` pulling clients, one
/// producer; items acknowledged per second in the window.
pub(super) async fn row(url: &str, load: Load, item: Bytes) -> Result<f64, Failure> {
    let connect = || async {
        async_nats::connect(url)
            .await
            .map_err(|e| Failure::new(EXIT_CANNOT_CONNECT, format!("NATS at {url}: {e}")))
    };
    let admin = async_nats::jetstream::new(connect().await?);
    let name = "BENCHWORK";
    let _ = admin.delete_stream(name).await;
    let stream = admin
        .create_stream(stream::Config {
            name: name.into(),
            subjects: vec![SUBJECT.into()],
            retention: RetentionPolicy::WorkQueue,
            storage: match load.kind {
                Kind::Durable => StorageType::File,
                Kind::Memory => StorageType::Memory,
            },
            ..Default::default()
        })
        .await
        .map_err(|e| failed("create stream")(e.to_string()))?;
    stream
        .create_consumer(pull::Config {
            durable_name: Some(CONSUMER.into()),
            ack_policy: AckPolicy::Explicit,
            max_ack_pending: (load.workers as i64) * i64::from(load.credit),
            ..Default::default()
        })
        .await
        .map_err(|e| failed("create consumer")(e.to_string()))?;
    let counts = Arc::new(Counts::default());
    let mut tasks = Vec::new();
    let mut clients = Vec::new();
    for _ in 0..load.workers {
        let client = connect().await?;
        let js = async_nats::jetstream::new(client.clone());
        clients.push(client);
        let consumer: PullConsumer = js
            .get_stream(name)
            .await
            .map_err(|e| failed("get stream")(e.to_string()))?
            .get_consumer(CONSUMER)
            .await
            .map_err(|e| failed("get consumer")(e.to_string()))?;
        let mut messages = consumer
            .stream()
            .max_messages_per_batch(load.credit as usize)
            .messages()
            .await
            .map_err(|e| failed("pull")(e.to_string()))?;
        let counts = counts.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(Ok(message)) = messages.next().await {
                if message.ack().await.is_err() {
                    return;
                }
                counts.acked.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let producer = connect().await?;
    clients.push(producer.clone());
    let producer = async_nats::jetstream::new(producer);
    let window = load.timing.window();
    for _ in 0..load.in_flight {
        let (producer, counts, item) = (producer.clone(), counts.clone(), item.clone());
        tasks.push(tokio::spawn(async move {
            while window.open(Instant::now()) {
                if counts.over(load.backlog) {
                    tokio::time::sleep(BACKLOG_PAUSE).await;
                    continue;
                }
                let Ok(ack) = producer.publish(SUBJECT, item.clone()).await else {
                    return;
                };
                if ack.await.is_err() {
                    return;
                }
                counts.enqueued.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let rate = counts.rate_in(window).await;
    for task in &tasks {
        task.abort();
    }
    for task in tasks {
        let _ = task.await;
    }
    drop(clients);
    let _ = admin.delete_stream(name).await;
    Ok(rate)
}
