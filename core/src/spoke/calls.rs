//! The calls a spoke has in flight, matched to their answers by call number.
//!
//! Every call of one connection shares one reply inbox (`_inbox/<token>/*`, one subscription):
//! call `n` gets `reply_to` `_inbox/<token>/<n>`, and an answer is matched back by the last
//! token of its channel. The book is plain data owned by the spoke's actor; a caller holds a
//! [`PendingCall`] and waits on it with its own timeout.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::oneshot;

use super::RpcError;
use crate::protocol::{ErrorCode, MessageFlags, ReplyError};
use crate::stream::IdMap;

type Outcome = Result<Bytes, RpcError>;

struct Waiting {
    channel: String,
    /// Shared with the caller, so that a call that times out says whether anyone took it
    /// without asking the actor.
    acked: Arc<AtomicBool>,
    reply: oneshot::Sender<Outcome>,
}

/// The calls waiting for answers.
#[derive(Default)]
pub struct CallBook {
    next: u64,
    waiting: IdMap<Waiting>,
}

impl std::fmt::Debug for CallBook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallBook")
            .field("next", &self.next)
            .field("waiting", &self.waiting.len())
            .finish()
    }
}

/// One call on its way, as its caller holds it.
#[derive(Debug)]
pub struct PendingCall {
    /// The call number (the last token of its `reply_to`).
    pub n: u64,
    acked: Arc<AtomicBool>,
    reply: oneshot::Receiver<Outcome>,
}

/// What one answer means for its call.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// The callee has the call; the final answer is to come.
    Ack,
    /// The final answer.
    Final(Outcome),
}

impl Answer {
    /// Reads an answer with `flags` and `body` to a call on `channel`, which had been
    /// acknowledged before if `acked`. An ERROR 400 that acknowledges nothing (no ACK bit, no
    /// earlier ACK) is the hub's no-responders; a callee's errors come with ACK or after one.
    pub fn read(flags: MessageFlags, body: Bytes, channel: &str, acked: bool) -> Answer {
        let acked = acked || flags.contains(MessageFlags::ACK);
        if flags.contains(MessageFlags::REPLY) {
            return Answer::Final(Ok(body));
        }
        if flags.contains(MessageFlags::ERROR) {
            let error = match ReplyError::from_body(&body) {
                Ok(e) if e.code == ErrorCode::UnknownRoute && !acked => RpcError::NoResponders {
                    channel: channel.to_owned(),
                },
                Ok(e) => RpcError::Remote {
                    channel: channel.to_owned(),
                    code: e.code,
                    message: e.message,
                },
                Err(e) => RpcError::Remote {
                    channel: channel.to_owned(),
                    code: ErrorCode::Protocol,
                    message: format!("unreadable error answer: {e}"),
                },
            };
            return Answer::Final(Err(error));
        }
        Answer::Ack
    }
}

impl CallBook {
    /// Registers a call to `channel`, under the next call number.
    pub fn register(&mut self, channel: &str) -> PendingCall {
        self.next += 1;
        let n = self.next;
        let (reply, rx) = oneshot::channel();
        let acked = Arc::new(AtomicBool::new(false));
        self.waiting.insert(
            n,
            Waiting {
                channel: channel.to_owned(),
                acked: acked.clone(),
                reply,
            },
        );
        PendingCall {
            n,
            acked,
            reply: rx,
        }
    }

    /// Applies an answer to call `n`; an answer to a call no longer waiting (late, or a second
    /// final answer) is ignored.
    pub fn answer(&mut self, n: u64, flags: MessageFlags, body: Bytes) {
        let Some(call) = self.waiting.get(&n) else {
            return;
        };
        let acked = call.acked.load(Ordering::Acquire);
        match Answer::read(flags, body, &call.channel, acked) {
            Answer::Ack => call.acked.store(true, Ordering::Release),
            Answer::Final(outcome) => {
                if let Some(call) = self.waiting.remove(&n) {
                    let _ = call.reply.send(outcome);
                }
            }
        }
    }

    /// Stops waiting for call `n` (its caller gave up).
    pub fn forget(&mut self, n: u64) {
        self.waiting.remove(&n);
    }

    /// Fails every waiting call with connection-lost.
    pub fn fail_all(&mut self, reason: &str) {
        for (_, call) in self.waiting.drain() {
            let _ = call.reply.send(Err(RpcError::ConnectionLost {
                channel: call.channel,
                reason: reason.to_owned(),
            }));
        }
    }

    /// Calls waiting.
    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    /// Whether no call waits.
    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }
}

impl PendingCall {
    /// Waits for the call's outcome for up to `timeout`; on timeout, `forget` is told the call
    /// number (so the book drops it) and the error says whether anyone acknowledged the call.
    pub async fn outcome(
        self,
        channel: &str,
        timeout: Duration,
        forget: impl FnOnce(u64),
    ) -> Outcome {
        match tokio::time::timeout(timeout, self.reply).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => Err(RpcError::Stopped {
                channel: channel.to_owned(),
            }),
            Err(_) => {
                forget(self.n);
                let channel = channel.to_owned();
                Err(match self.acked.load(Ordering::Acquire) {
                    true => RpcError::TooSlow {
                        channel,
                        after: timeout,
                    },
                    false => RpcError::NotAcknowledged {
                        channel,
                        after: timeout,
                    },
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_body(code: ErrorCode, message: &str) -> Bytes {
        ReplyError {
            code,
            message: message.into(),
        }
        .to_body()
        .unwrap()
    }

    #[test]
    fn a_hub_error_400_without_ack_is_no_responders_and_a_callees_is_remote() {
        let body = error_body(ErrorCode::UnknownRoute, "no responders");
        let hub = Answer::read(MessageFlags::ERROR, body.clone(), "svc", false);
        assert!(matches!(
            hub,
            Answer::Final(Err(RpcError::NoResponders { .. }))
        ));
        let callee = Answer::read(
            MessageFlags::ACK | MessageFlags::ERROR,
            body.clone(),
            "svc",
            false,
        );
        assert!(matches!(
            callee,
            Answer::Final(Err(RpcError::Remote { .. }))
        ));
        let after_ack = Answer::read(MessageFlags::ERROR, body, "svc", true);
        assert!(matches!(
            after_ack,
            Answer::Final(Err(RpcError::Remote { .. }))
        ));
    }

    #[tokio::test]
    async fn answers_are_matched_by_number_and_late_ones_ignored() {
        let mut book = CallBook::default();
        let one = book.register("svc");
        let two = book.register("svc");
        assert_eq!((one.n, two.n), (1, 2));
        book.answer(2, MessageFlags::ACK, Bytes::new());
        book.answer(2, MessageFlags::REPLY, Bytes::from_static(b"two"));
        book.answer(2, MessageFlags::REPLY, Bytes::from_static(b"late"));
        book.answer(
            1,
            MessageFlags::ACK | MessageFlags::REPLY,
            Bytes::from_static(b"one"),
        );
        let forget = |_| {};
        let t = Duration::from_secs(5);
        assert_eq!(two.outcome("svc", t, forget).await.unwrap(), "two");
        assert_eq!(one.outcome("svc", t, forget).await.unwrap(), "one");
        assert!(book.is_empty());
    }

    #[tokio::test]
    async fn a_timeout_says_whether_the_call_was_acknowledged() {
        let mut book = CallBook::default();
        let silent = book.register("svc");
        let slow = book.register("svc");
        book.answer(slow.n, MessageFlags::ACK, Bytes::new());
        let t = Duration::from_millis(10);
        let mut forgotten = Vec::new();
        let err = silent
            .outcome("svc", t, |n| forgotten.push(n))
            .await
            .unwrap_err();
        assert!(matches!(err, RpcError::NotAcknowledged { .. }), "{err}");
        let err = slow
            .outcome("svc", t, |n| forgotten.push(n))
            .await
            .unwrap_err();
        assert!(matches!(err, RpcError::TooSlow { .. }), "{err}");
        assert_eq!(forgotten, [1, 2]);
    }

    #[tokio::test]
    async fn a_lost_connection_fails_every_call() {
        let mut book = CallBook::default();
        let call = book.register("svc");
        book.fail_all("hub went away");
        let err = call
            .outcome("svc", Duration::from_secs(5), |_| {})
            .await
            .unwrap_err();
        assert!(matches!(err, RpcError::ConnectionLost { .. }), "{err}");
    }
}
