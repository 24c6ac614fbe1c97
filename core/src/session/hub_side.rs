//! [`HubSide`]: the pub/sub side of a connection on a hub, decided without I/O. Subscription
//! frames are gathered into batches for the hub's table, one batch at the table at a time so
//! the table applies them in the order they were sent; a PUBLISH goes to the
//! driver to route at once; an unreadable frame is answered REFUSED and the connection stays
//! open; PINGs wait for the batches sent before them ([`PingBarrier`]); and a quiet peer is
//! PINGed, then taken for dead.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::{inbox_token, own_inbox_token, Denied, User};

/// Reply inboxes one connection is known to own (subscribed to as `_inbox/<token>/*`): its own
/// may be published to without a grant. A spoke has one; the bound keeps the set small.
pub const MAX_OWN_INBOXES: usize = 16;

/// Subscription changes that may wait behind a batch at the table before the connection stops
/// reading until the table answers: a peer churning subscriptions faster than the table
/// applies them is held back rather than buffered without end.
pub const MAX_WAITING_CHANGES: usize = 1024;

use crate::protocol::{
    kind, Envelope, ErrorCode, Frame, MessageFlags, Ping, ProtocolError, Publish, Refused,
    Subscribe, SubscriptionFlags, Subscriptions, Unsubscribe,
};
use crate::pubsub::{Change, Channel, Declined, Wanted};

use super::PingBarrier;

/// What the driver does with a pub/sub frame.
#[derive(Debug)]
pub enum PubSubStep {
    /// Route this message now.
    Publish(Publish),
    /// Nothing now: a subscription change was gathered for the read's batch.
    Gathered,
    /// Write these REFUSED frames (urgent: in order with PONGs).
    Refuse(Vec<Refused>),
}

/// What the keepalive asks of the driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keepalive {
    /// Nothing to do.
    Quiet,
    /// Send this PING (urgent).
    Ping(Ping),
    /// No answer to the PINGs sent: close with this error about the connection.
    Dead(ErrorCode, String),
}

/// The hub's keepalive bounds for its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepaliveLimits {
    /// A connection quiet for this long is sent a PING.
    pub ping_interval: Duration,
    /// PINGs sent to a quiet connection before it is taken for dead.
    pub max_pings_out: u32,
}

/// One connection's pub/sub state on a hub.
#[derive(Debug)]
pub struct HubSide {
    limits: KeepaliveLimits,
    /// Subscription changes not sent to the table yet: the next batch.
    changes: Vec<Change>,
    barrier: PingBarrier,
    /// PINGs sent since the peer was last heard from.
    pings_out: u32,
    /// The authenticated user whose permissions every publish and subscription is checked
    /// against; `None` on a server without users.
    user: Option<Arc<User>>,
    /// The inbox tokens this connection subscribed to, up to [`MAX_OWN_INBOXES`].
    own_inboxes: Vec<String>,
    /// The channel of the last PUBLISH, reused while the next ones repeat it.
    last_channel: Option<Channel>,
}

impl HubSide {
    /// A connection that has not sent a pub/sub frame yet.
    pub fn new(limits: KeepaliveLimits) -> Self {
        HubSide {
            limits,
            changes: Vec::new(),
            barrier: PingBarrier::default(),
            pings_out: 0,
            user: None,
            own_inboxes: Vec::new(),
            last_channel: None,
        }
    }

    /// From now on, publishes and subscriptions are checked against `user`'s permissions.
    pub fn set_user(&mut self, user: Arc<User>) {
        self.user = Some(user);
    }

    /// The REFUSED for what `user` may not do.
    fn denied(user: &User, sid: Option<u64>, denied: &Denied) -> Refused {
        Refused {
            sid,
            code: ErrorCode::Denied,
            message: denied.message(user.name()),
        }
    }

    /// `wanted` if the user may subscribe to it, or the REFUSED saying it may not.
    fn permitted(&mut self, wanted: Wanted) -> Result<Wanted, Refused> {
        if let Some(token) = own_inbox_token(&wanted.pattern) {
            if self.own_inboxes.len() < MAX_OWN_INBOXES
                && !self.own_inboxes.iter().any(|t| t == token)
            {
                self.own_inboxes.push(token.to_owned());
            }
        }
        match &self.user {
            Some(user) => match user.permissions().check_subscribe(&wanted.pattern) {
                Ok(()) => Ok(wanted),
                Err(d) => Err(Self::denied(user, Some(wanted.sid), &d)),
            },
            None => Ok(wanted),
        }
    }

    /// A pub/sub frame (SUBSCRIBE, UNSUBSCRIBE, SUBSCRIPTIONS or PUBLISH).
    pub fn on_frame(&mut self, frame: &Frame) -> PubSubStep {
        let refused = |e: &ProtocolError| Refused::for_error(frame.kind, &frame.payload, e);
        let refuse = |e: ProtocolError| PubSubStep::Refuse(vec![refused(&e)]);
        match frame.kind {
            kind::PUBLISH => match Publish::read_after(&frame.payload, &mut self.last_channel) {
                Ok(publish) => match &self.user {
                    Some(user) => {
                        let answer = publish.flags.intersects(MessageFlags::STATUS);
                        let own = inbox_token(&publish.channel)
                            .is_some_and(|t| self.own_inboxes.iter().any(|o| o == t));
                        match user.permissions().check_publish(&publish.channel, answer) {
                            _ if own => PubSubStep::Publish(publish),
                            Ok(()) => PubSubStep::Publish(publish),
                            Err(d) => PubSubStep::Refuse(vec![Self::denied(user, None, &d)]),
                        }
                    }
                    None => PubSubStep::Publish(publish),
                },
                Err(e) => refuse(e),
            },
            kind::SUBSCRIBE => match Subscribe::from_frame(frame) {
                Ok(subscribe) => match self.permitted(wanted(subscribe)) {
                    Ok(wanted) => self.gather(Change::Subscribe(wanted)),
                    Err(refused) => PubSubStep::Refuse(vec![refused]),
                },
                Err(e) => refuse(e),
            },
            kind::UNSUBSCRIBE => match Unsubscribe::from_frame(frame) {
                Ok(Unsubscribe { sid }) => self.gather(Change::Unsubscribe(sid)),
                Err(e) => refuse(e),
            },
            kind::SUBSCRIPTIONS => match Subscriptions::read_each(&frame.payload) {
                Ok((list, invalid)) => {
                    let mut refusals: Vec<Refused> = invalid.iter().map(refused).collect();
                    let mut allowed = Vec::new();
                    for entry in list.subscriptions {
                        match self.permitted(wanted(entry)) {
                            Ok(wanted) => allowed.push(wanted),
                            Err(denied) => refusals.push(denied),
                        }
                    }
                    self.changes.push(Change::ReplaceAll(allowed));
                    if refusals.is_empty() {
                        PubSubStep::Gathered
                    } else {
                        PubSubStep::Refuse(refusals)
                    }
                }
                // The whole list is refused: the hub holds none of it.
                Err(e) => {
                    self.changes.push(Change::ReplaceAll(Vec::new()));
                    refuse(e)
                }
            },
            got => refuse(ProtocolError::UnexpectedKind {
                expected: kind::PUBLISH,
                got,
            }),
        }
    }

    fn gather(&mut self, change: Change) -> PubSubStep {
        self.changes.push(change);
        PubSubStep::Gathered
    }

    /// The changes gathered since the last batch, as the next batch for the table (PINGs from
    /// now on wait for it), or `None` if there are none or a batch is still at the table: the
    /// table answers a batch before the next goes, so no later change overtakes an earlier
    /// one (a message to a full mailbox may be delivered after one sent later).
    pub fn take_changes(&mut self) -> Option<Vec<Change>> {
        if self.changes.is_empty() || self.barrier.pending() > 0 {
            return None;
        }
        self.barrier.sent();
        Some(std::mem::take(&mut self.changes))
    }

    /// A PING: the nonce to answer now, or `None` if it waits for changes before it (sent or
    /// still gathered).
    pub fn on_ping(&mut self, nonce: u64) -> Option<u64> {
        self.barrier.ping(nonce, !self.changes.is_empty())
    }

    /// Whether reading should wait for the table: a batch is there and
    /// [`MAX_WAITING_CHANGES`] more wait behind it.
    pub fn reads_wait(&self) -> bool {
        self.barrier.pending() > 0 && self.changes.len() >= MAX_WAITING_CHANGES
    }

    /// The table applied a batch and declined some of it: the REFUSED frames to write, then
    /// the PINGs to answer (in order, after them). Changes gathered meanwhile are the next
    /// batch ([`take_changes`](Self::take_changes)).
    pub fn on_applied(&mut self, declined: Vec<Declined>) -> (Vec<Refused>, Vec<u64>) {
        let refusals = declined
            .into_iter()
            .map(|declined| Refused {
                sid: Some(declined.sid),
                code: ErrorCode::Busy,
                message: declined.reason,
            })
            .collect();
        (refusals, self.barrier.answered())
    }

    /// The peer was heard from: its PINGs are answered.
    pub fn heard(&mut self) {
        self.pings_out = 0;
    }

    /// On a connection `quiet` for that long: a PING after each ping interval, and dead once
    /// the PINGs out pass the bound unanswered.
    pub fn keepalive(&mut self, quiet: Duration) -> Keepalive {
        let limits = self.limits;
        if quiet < limits.ping_interval * (self.pings_out + 1) {
            return Keepalive::Quiet;
        }
        if self.pings_out >= limits.max_pings_out {
            let message = format!("no answer to {} PINGs in {quiet:?}", self.pings_out);
            return Keepalive::Dead(ErrorCode::Timeout, message);
        }
        self.pings_out += 1;
        Keepalive::Ping(Ping {
            nonce: u64::from(self.pings_out),
        })
    }
}

/// A subscription as the table takes it. Retained messages are replayed to it unless it asked
/// for NO_RETAINED or is a queue-group member.
fn wanted(subscribe: Subscribe) -> Wanted {
    let replay =
        subscribe.group.is_none() && !subscribe.flags.contains(SubscriptionFlags::NO_RETAINED);
    Wanted {
        sid: subscribe.sid,
        pattern: subscribe.pattern,
        group: subscribe.group,
        replay,
    }
}
