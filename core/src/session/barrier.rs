//! [`PingBarrier`]: a PONG is a barrier for a pub/sub peer: it is sent only once every
//! subscription change the peer sent before its PING has been applied (or refused), so a
//! spoke that has its PONG knows its subscriptions are in force and has every REFUSED.

use std::collections::VecDeque;

/// The subscription changes of one connection on their way to the hub's table, and the PINGs
/// waiting for them. Batches are counted in the order they go out; a PING waits for the
/// batch holding the last change before it, which may not have gone out yet.
#[derive(Debug, Default, Clone)]
pub struct PingBarrier {
    /// Batches sent to the table.
    sent: u64,
    /// Batches the table answered (always the oldest sent: one table applies in order).
    answered: u64,
    /// PINGs waiting, in order, each with the number of answered batches it waits for.
    deferred: VecDeque<(u64, u64)>,
}

impl PingBarrier {
    /// A batch of changes went to the table.
    pub fn sent(&mut self) {
        self.sent += 1;
    }

    /// A PING arrived; `gathered` says whether changes before it are still to be sent (as the
    /// next batch). The nonce to answer now, or `None` if it waits.
    pub fn ping(&mut self, nonce: u64, gathered: bool) -> Option<u64> {
        let waits_for = self.sent + u64::from(gathered);
        if waits_for == self.answered && self.deferred.is_empty() {
            return Some(nonce);
        }
        self.deferred.push_back((waits_for, nonce));
        None
    }

    /// The oldest batch was answered (its refusals written): the PINGs to answer now, in
    /// order.
    pub fn answered(&mut self) -> Vec<u64> {
        self.answered = (self.answered + 1).min(self.sent);
        let mut due = Vec::new();
        while let Some(&(waits_for, nonce)) = self.deferred.front() {
            if waits_for > self.answered {
                break;
            }
            self.deferred.pop_front();
            due.push(nonce);
        }
        due
    }

    /// Batches sent and not yet answered.
    pub fn pending(&self) -> usize {
        (self.sent - self.answered) as usize
    }
}
