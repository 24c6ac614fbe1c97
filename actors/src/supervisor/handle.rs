//! A handle that always reaches a child's current incarnation.

use std::time::Duration;

use actix::dev::{SendError, ToEnvelope};
use actix::{Actor, Addr, Handler, Message};
use hubwire_core::stats::Counter;
use tokio::sync::watch;

/// Why a message could not be delivered; the message comes back so the caller can decide.
#[derive(Debug)]
pub enum Undelivered<M> {
    /// No incarnation took it within the wait (a restart taking longer, or a back-off delay).
    Timeout(M),
    /// The child is gone for good (its supervisor gave up, or it is temporary and stopped).
    Gone(M),
}

/// Reaches whichever incarnation of a supervised child is running. Cheap to clone.
pub struct ChildHandle<A: Actor> {
    current: watch::Receiver<Option<Addr<A>>>,
    lost: Counter,
}

impl<A: Actor> Clone for ChildHandle<A> {
    fn clone(&self) -> Self {
        ChildHandle {
            current: self.current.clone(),
            lost: self.lost.clone(),
        }
    }
}

impl<A: Actor> std::fmt::Debug for ChildHandle<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildHandle")
            .field("running", &self.current.borrow().is_some())
            .finish()
    }
}

impl<A: Actor> ChildHandle<A> {
    pub(crate) fn new(current: watch::Receiver<Option<Addr<A>>>, lost: Counter) -> Self {
        ChildHandle { current, lost }
    }

    /// The current incarnation's address, if one is running.
    pub fn addr(&self) -> Option<Addr<A>> {
        self.current.borrow().clone()
    }

    /// Delivers `msg` to the current incarnation, waiting up to `wait` for one to be running
    /// (during a restart). Use it for messages that carry their own reply channel: such a
    /// message is delivered, or handed back, never silently dropped.
    pub async fn deliver<M>(&self, mut msg: M, wait: Duration) -> Result<(), Undelivered<M>>
    where
        M: Message + Send + 'static,
        M::Result: Send,
        A: Handler<M>,
        A::Context: ToEnvelope<A, M>,
    {
        let deadline = tokio::time::Instant::now() + wait;
        let mut current = self.current.clone();
        loop {
            let addr = current.borrow_and_update().clone();
            if let Some(addr) = addr {
                match addr.try_send(msg) {
                    Ok(()) => return Ok(()),
                    Err(SendError::Full(back)) => {
                        // A full mailbox is a moment, not a death: wait a little and retry.
                        msg = back;
                        if tokio::time::Instant::now() >= deadline {
                            return Err(Undelivered::Timeout(msg));
                        }
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        continue;
                    }
                    Err(SendError::Closed(back)) => msg = back,
                }
            }
            match tokio::time::timeout_at(deadline, current.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return Err(Undelivered::Gone(msg)),
                Err(_) => return Err(Undelivered::Timeout(msg)),
            }
        }
    }

    /// Sends a fire-and-forget message to the current incarnation; a message that finds no
    /// running incarnation is lost, and counted (`supervisor.lost_messages`).
    pub fn do_send<M>(&self, msg: M)
    where
        M: Message + Send + 'static,
        M::Result: Send,
        A: Handler<M>,
        A::Context: ToEnvelope<A, M>,
    {
        match self.addr() {
            Some(addr) if addr.connected() => addr.do_send(msg),
            _ => self.lost.inc(),
        }
    }
}
