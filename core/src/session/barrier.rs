//! [`PingBarrier`]: a PONG is a barrier for a pub/sub peer: it is sent only once every
//! subscription change the peer sent before its PING has been applied (or refused), so a
//! spoke that has its PONG knows its subscriptions are in force and has every REFUSED.

/// The subscription changes of one connection on their way to the hub's table, and the PINGs
/// waiting for them.
#[derive(Debug, Default, Clone)]
pub struct PingBarrier {
    /// Batches sent to the table and not yet answered.
    pending: usize,
    /// Nonces of PINGs that arrived while batches were pending, in order.
    deferred: Vec<u64>,
}

impl PingBarrier {
    /// A batch of changes went to the table.
    pub fn sent(&mut self) {
        self.pending += 1;
    }

    /// A PING arrived: the nonce to answer now, or `None` if it waits for pending batches.
    pub fn ping(&mut self, nonce: u64) -> Option<u64> {
        if self.pending == 0 {
            return Some(nonce);
        }
        self.deferred.push(nonce);
        None
    }

    /// A batch was answered (its refusals written): the PINGs to answer now, in order.
    pub fn answered(&mut self) -> Vec<u64> {
        self.pending = self.pending.saturating_sub(1);
        if self.pending == 0 {
            std::mem::take(&mut self.deferred)
        } else {
            Vec::new()
        }
    }

    /// Batches not yet answered.
    pub fn pending(&self) -> usize {
        self.pending
    }
}
