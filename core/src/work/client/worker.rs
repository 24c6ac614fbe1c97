//! [`Worker`]: takes items from a dispatcher and runs an async function on each, keeping the
//! lease extended while it runs; drains on request.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::FutureExt;
use tokio::sync::{mpsc, watch};

use super::link::{self, FrameReader, FrameSender, LinkOptions};
use super::WorkClientError;
use crate::protocol::{
    kind, Ack, Deliver, Disconnect, Envelope, ErrorFrame, Frame, Nack, Ping, Pong, Progress,
    Reject, Take, Taken, WorkStatus, BROADCAST,
};
use crate::Address;

/// The shortest interval between two PROGRESS frames for one lease.
const MIN_PROGRESS_EVERY: Duration = Duration::from_millis(10);

/// What a worker takes and how.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    queues: Vec<String>,
    credit: u32,
    agent: String,
    status: Option<Bytes>,
    link: LinkOptions,
}

impl WorkerOptions {
    /// Takes items from `queues`, one at a time until [`credit`](Self::credit) says more.
    pub fn new<S: Into<String>>(queues: impl IntoIterator<Item = S>) -> Self {
        WorkerOptions {
            queues: queues.into_iter().map(Into::into).collect(),
            credit: 1,
            agent: "hubwire-worker/0.1".into(),
            status: None,
            link: LinkOptions::default(),
        }
    }

    /// TLS settings for a `tls://` dispatcher (default: the system roots).
    pub fn tls(mut self, tls: crate::tls::TlsClient) -> Self {
        self.link.tls = Some(tls);
        self
    }

    /// Credentials for a dispatcher with users (user and password, or a token).
    pub fn credentials(mut self, credentials: crate::auth::Credentials) -> Self {
        self.link.credentials = Some(credentials);
        self
    }

    /// How many items it holds (and runs) at once, like RabbitMQ's prefetch.
    pub fn credit(mut self, credit: u32) -> Self {
        self.credit = credit;
        self
    }

    /// The name the dispatcher shows for this worker (its CONN agent).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.agent = name.into();
        self
    }

    /// A first STATUS (MessagePack, by convention a map such as `{"weight": 2}`), sent before
    /// any item is taken.
    pub fn status(mut self, status: impl Into<Bytes>) -> Self {
        self.status = Some(status.into());
        self
    }
}

/// One item as the handler gets it.
#[derive(Debug, Clone)]
pub struct Job {
    /// The item's queue.
    pub queue: String,
    /// The item's id (the id its producer was given).
    pub id: u64,
    /// This delivery's number for the item, 1 the first time.
    pub delivery: u32,
    /// The lease it is held under.
    pub lease: u64,
    /// A `send_all` copy rather than a shared item.
    pub broadcast: bool,
    /// The body.
    pub body: Bytes,
}

/// What became of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// Done: ACK.
    Done,
    /// Failed; deliver it again after `delay` (NACK). Counts against the item's deliveries.
    Retry {
        /// Wait this long first.
        delay: Duration,
        /// Why, kept with the item.
        reason: String,
    },
    /// Will never succeed: to the error queue (REJECT).
    Reject {
        /// Why, kept with the item.
        reason: String,
    },
}

/// Asks a running [`Worker`] to drain, and changes its STATUS.
#[derive(Debug, Clone)]
pub struct DrainHandle {
    drain: watch::Sender<bool>,
    out: FrameSender,
}

impl DrainHandle {
    /// Take nothing new (TAKE with credit 0), finish the items held, then disconnect:
    /// [`Worker::run`] returns once the last one is answered.
    pub fn drain(&self) {
        let _ = self.drain.send(true);
    }

    /// Sends a STATUS (MessagePack) to the dispatcher.
    pub fn set_status(&self, status: impl Into<Bytes>) -> bool {
        self.out.send(&WorkStatus {
            body: status.into(),
        })
    }
}

/// A worker connected to a dispatcher, its TAKE applied.
#[derive(Debug)]
pub struct Worker {
    reader: FrameReader,
    out: FrameSender,
    queues: Vec<String>,
    credit: u32,
    dispatcher_status: Bytes,
    drain: watch::Sender<bool>,
}

impl Worker {
    /// Connects, sends the first STATUS if any, and TAKEs the queues with the credit; fails
    /// if the dispatcher refuses (a queue it does not serve).
    pub async fn connect(
        address: &Address,
        options: WorkerOptions,
    ) -> Result<Worker, WorkClientError> {
        let (mut reader, out) = link::open(address, &options.agent, &options.link).await?;
        if let Some(status) = options.status {
            out.send(&WorkStatus { body: status });
        }
        out.send(&Take {
            queues: options.queues.clone(),
            credit: options.credit,
        });
        let mut dispatcher_status = Bytes::new();
        let credit = loop {
            let frame = link::next_frame(&mut reader)
                .await
                .ok_or(WorkClientError::Closed)?;
            match frame.kind {
                kind::WORK_TAKEN => break Taken::from_frame(&frame)?.credit,
                kind::ERROR => {
                    let e = ErrorFrame::from_frame(&frame)?;
                    return Err(WorkClientError::Refused {
                        code: e.code,
                        message: e.message,
                    });
                }
                kind::STATUS => dispatcher_status = WorkStatus::from_frame(&frame)?.body,
                kind::PING => {
                    out.send(&Pong {
                        nonce: Ping::from_frame(&frame)?.nonce,
                    });
                }
                _ => {}
            }
        };
        Ok(Worker {
            reader,
            out,
            queues: options.queues,
            credit,
            dispatcher_status,
            drain: watch::channel(false).0,
        })
    }

    /// The credit the dispatcher granted.
    pub fn credit(&self) -> u32 {
        self.credit
    }

    /// The dispatcher's last STATUS (MessagePack).
    pub fn dispatcher_status(&self) -> &Bytes {
        &self.dispatcher_status
    }

    /// A handle to drain this worker or change its STATUS from elsewhere.
    pub fn drain_handle(&self) -> DrainHandle {
        DrainHandle {
            drain: self.drain.clone(),
            out: self.out.clone(),
        }
    }

    /// Runs `handler` on every item delivered, each on its own task (up to the credit at once),
    /// sending PROGRESS for its lease every third of the visibility time while it runs, then
    /// ACK, NACK or REJECT as it returns. A handler that panics is NACKed at once. Returns
    /// `Ok` after a drain, and an error if the dispatcher goes away.
    pub async fn run<F, Fut>(mut self, handler: F) -> Result<(), WorkClientError>
    where
        F: Fn(Job) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = JobOutcome> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<()>();
        let mut drain = self.drain.subscribe();
        let mut in_flight = 0usize;
        let mut draining = false;
        loop {
            if draining && in_flight == 0 {
                self.out.send(&Disconnect {
                    reason: "worker drained".into(),
                });
                self.out.shutdown();
                return Ok(());
            }
            tokio::select! {
                frame = link::next_frame(&mut self.reader) => {
                    let Some(frame) = frame else {
                        return Err(WorkClientError::Closed);
                    };
                    if self.on_frame(frame, &handler, &done_tx)? {
                        in_flight += 1;
                    }
                }
                Some(()) = done_rx.recv() => in_flight -= 1,
                changed = drain.changed(), if !draining => {
                    if changed.is_ok() && *drain.borrow() {
                        draining = true;
                        self.out.send(&Take { queues: self.queues.clone(), credit: 0 });
                    }
                }
            }
        }
    }

    /// One frame from the dispatcher; true when it started a job.
    fn on_frame<F, Fut>(
        &mut self,
        frame: Frame,
        handler: &Arc<F>,
        done: &mpsc::UnboundedSender<()>,
    ) -> Result<bool, WorkClientError>
    where
        F: Fn(Job) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = JobOutcome> + Send + 'static,
    {
        match frame.kind {
            kind::WORK_DELIVER => {
                let deliver = Deliver::from_frame(&frame)?;
                let every =
                    (Duration::from_millis(deliver.visibility_ms) / 3).max(MIN_PROGRESS_EVERY);
                let job = Job {
                    queue: deliver.queue,
                    id: deliver.id,
                    delivery: deliver.delivery,
                    lease: deliver.lease,
                    broadcast: deliver.flags & BROADCAST != 0,
                    body: deliver.body,
                };
                let (out, done, handler) = (self.out.clone(), done.clone(), handler.clone());
                tokio::spawn(run_job(job, handler, every, out, done));
                Ok(true)
            }
            kind::PING => {
                self.out.send(&Pong {
                    nonce: Ping::from_frame(&frame)?.nonce,
                });
                Ok(false)
            }
            kind::STATUS => {
                self.dispatcher_status = WorkStatus::from_frame(&frame)?.body;
                Ok(false)
            }
            kind::ERROR => {
                if let Ok(e) = ErrorFrame::from_frame(&frame) {
                    tracing::warn!(code = %e.code, message = %e.message, "the dispatcher says");
                }
                Ok(false)
            }
            kind::DISCONN => Err(WorkClientError::Closed),
            _ => Ok(false),
        }
    }
}

/// What a panic says, for the NACK's reason.
fn panic_text(panic: Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// Answers for a job: ACK, NACK or REJECT as it ended; a panic is NACKed at once.
fn answer(out: &FrameSender, lease: u64, outcome: Result<JobOutcome, String>) {
    match outcome {
        Ok(JobOutcome::Done) => out.send(&Ack { lease }),
        Ok(JobOutcome::Retry { delay, reason }) => out.send(&Nack {
            lease,
            delay_ms: delay.as_millis() as u64,
            reason,
        }),
        Ok(JobOutcome::Reject { reason }) => out.send(&Reject { lease, reason }),
        Err(panic) => out.send(&Nack {
            lease,
            delay_ms: 0,
            reason: format!("the handler panicked: {panic}"),
        }),
    };
}

/// Runs one job on its own task (so jobs run side by side), extending its lease while it
/// runs, and answers for it. The progress timer is only set for a job not done at its first
/// poll: a quick job costs one task and no timer.
async fn run_job<F, Fut>(
    job: Job,
    handler: Arc<F>,
    every: Duration,
    out: FrameSender,
    done: mpsc::UnboundedSender<()>,
) where
    F: Fn(Job) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = JobOutcome> + Send + 'static,
{
    let lease = job.lease;
    let started = std::panic::catch_unwind(AssertUnwindSafe(|| handler(job)));
    let outcome = match started {
        Err(panic) => Err(panic),
        Ok(future) => {
            let mut job = std::pin::pin!(AssertUnwindSafe(future).catch_unwind());
            match (&mut job).now_or_never() {
                Some(outcome) => outcome,
                None => {
                    let start = tokio::time::Instant::now() + every;
                    let mut progress = tokio::time::interval_at(start, every);
                    loop {
                        tokio::select! {
                            result = &mut job => break result,
                            _ = progress.tick() => {
                                out.send(&Progress { lease, extend_ms: 0 });
                            }
                        }
                    }
                }
            }
        }
    };
    answer(&out, lease, outcome.map_err(panic_text));
    let _ = done.send(());
}
