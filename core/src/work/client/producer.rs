//! [`Producer`]: enqueues items and gets their ids once the dispatcher has stored them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::oneshot;

use super::link::{self, FrameSender, LinkOptions};
use super::WorkClientError;
use crate::protocol::{kind, Enqueue, Enqueued, Envelope, ErrorFrame, Ping, Pong, SEND_ALL};
use crate::Address;

/// How long an enqueue waits for its answer by default.
pub const DEFAULT_ENQUEUE_TIMEOUT: Duration = Duration::from_secs(30);

type Waiting = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<Vec<u64>, WorkClientError>>>>>;

/// A producer's connection to a dispatcher. Cheap to share (`&self` calls, many at once).
#[derive(Debug)]
pub struct Producer {
    out: FrameSender,
    waiting: Waiting,
    next_reference: AtomicU64,
    timeout: Duration,
}

impl Producer {
    /// Connects to the dispatcher's work listener.
    pub async fn connect(address: &Address) -> Result<Producer, WorkClientError> {
        Producer::connect_with(address, &LinkOptions::default()).await
    }

    /// Connects with TLS settings and credentials (a `tls://` listener, a dispatcher with
    /// users).
    pub async fn connect_with(
        address: &Address,
        options: &LinkOptions,
    ) -> Result<Producer, WorkClientError> {
        let (mut reader, out) = link::open(address, "hubwire-producer/0.1", options).await?;
        let waiting: Waiting = Arc::default();
        let (answers, pongs) = (waiting.clone(), out.clone());
        tokio::spawn(async move {
            // An ERROR about the connection (id nil: `denied` on a dispatcher with users, say)
            // comes before the close: the calls still waiting fail with it, not as `Closed`.
            let mut last_word: Option<ErrorFrame> = None;
            while let Some(frame) = link::next_frame(&mut reader).await {
                match frame.kind {
                    kind::WORK_ENQUEUED => {
                        if let Ok(done) = Enqueued::from_frame(&frame) {
                            let waiter = answers.lock().unwrap().remove(&done.reference);
                            if let Some(waiter) = waiter {
                                let _ = waiter.send(Ok(done.ids));
                            }
                        }
                    }
                    kind::ERROR => {
                        let Ok(e) = ErrorFrame::from_frame(&frame) else {
                            continue;
                        };
                        let Some(reference) = e.id else {
                            tracing::warn!(code = %e.code, message = %e.message, "dispatcher error");
                            last_word = Some(e);
                            continue;
                        };
                        let waiter = answers.lock().unwrap().remove(&reference);
                        if let Some(waiter) = waiter {
                            let refused = WorkClientError::Refused {
                                code: e.code,
                                message: e.message,
                            };
                            let _ = waiter.send(Err(refused));
                        }
                    }
                    kind::PING => {
                        if let Ok(Ping { nonce }) = Ping::from_frame(&frame) {
                            pongs.send(&Pong { nonce });
                        }
                    }
                    _ => {}
                }
            }
            // Closed: every call still waiting fails (dropping its sender says so), with the
            // dispatcher's last word if it said why.
            let waiting: Vec<_> = answers.lock().unwrap().drain().collect();
            if let Some(e) = last_word {
                for (_, waiter) in waiting {
                    let _ = waiter.send(Err(WorkClientError::Refused {
                        code: e.code,
                        message: e.message.clone(),
                    }));
                }
            }
        });
        Ok(Producer {
            out,
            waiting,
            next_reference: AtomicU64::new(1),
            timeout: DEFAULT_ENQUEUE_TIMEOUT,
        })
    }

    /// How long each call waits for its answer (default 30 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Enqueues one item; its id once stored.
    pub async fn enqueue(
        &self,
        queue: &str,
        body: impl Into<Bytes>,
    ) -> Result<u64, WorkClientError> {
        let ids = self.send(queue, 0, vec![body.into()]).await?;
        ids.first().copied().ok_or(WorkClientError::Closed)
    }

    /// Enqueues many items in one frame; their ids, in order, once all are stored.
    pub async fn enqueue_many(
        &self,
        queue: &str,
        bodies: Vec<Bytes>,
    ) -> Result<Vec<u64>, WorkClientError> {
        self.send(queue, 0, bodies).await
    }

    /// `send_all`: a copy of the item for every worker that takes `queue` now (not stored).
    pub async fn send_all(
        &self,
        queue: &str,
        body: impl Into<Bytes>,
    ) -> Result<u64, WorkClientError> {
        let ids = self.send(queue, SEND_ALL, vec![body.into()]).await?;
        ids.first().copied().ok_or(WorkClientError::Closed)
    }

    async fn send(
        &self,
        queue: &str,
        flags: u8,
        items: Vec<Bytes>,
    ) -> Result<Vec<u64>, WorkClientError> {
        let reference = self.next_reference.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.waiting.lock().unwrap().insert(reference, tx);
        let frame = Enqueue {
            reference,
            queue: queue.to_owned(),
            flags,
            items,
        };
        if !self.out.send(&frame) {
            self.waiting.lock().unwrap().remove(&reference);
            return Err(WorkClientError::Closed);
        }
        match tokio::time::timeout(self.timeout, rx).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => Err(WorkClientError::Closed),
            Err(_) => {
                self.waiting.lock().unwrap().remove(&reference);
                Err(WorkClientError::Timeout(self.timeout))
            }
        }
    }
}
