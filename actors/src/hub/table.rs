//! [`SubscriptionTable`]: the hub's [`HubTable`] as an actor. It applies each connection's
//! batch of subscription changes in one message, writes the retained messages they replay
//! straight into that connection's outbound buffer, and only then publishes an immutable
//! [`HubSnapshot`], which connections read directly to route a publish: a lookup never waits
//! behind the mailbox, and a replayed message is always queued before any live message the
//! new subscription can get.

use std::sync::Arc;

use actix::{Actor, Context, Handler, Message, MessageResult, Recipient};
use bytes::{Bytes, BytesMut};
use hubwire_core::protocol::{Headers, MessageTail};
use hubwire_core::pubsub::{Change, Channel, Declined, HubTable, Replayed};
use hubwire_core::stats::{Counter, Gauge, StatsRegistry};
use hubwire_core::stream::ReplyQueue;
use tokio::sync::watch;

pub use hubwire_core::pubsub::{
    ConnId, GroupId, HubSnapshot, Sid, Subscriber, TableFigures, NO_GROUP,
};

use crate::bridge::LocalInterestChanged;

/// A batch of changes to one connection's subscriptions (those of one read); answers the
/// subscriptions declined. The retained messages they replay are queued on `outbound` before
/// the new snapshot is published.
#[derive(Message)]
#[rtype(result = "Vec<Declined>")]
pub struct Changes {
    /// The connection.
    pub conn: ConnId,
    /// Its outbound buffer, for the replayed messages.
    pub outbound: Option<Arc<ReplyQueue>>,
    /// The changes, in order.
    pub changes: Vec<Change>,
}

impl std::fmt::Debug for Changes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Changes")
            .field("conn", &self.conn)
            .field("changes", &self.changes.len())
            .finish_non_exhaustive()
    }
}

/// A connection is gone: its subscriptions go with it.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Disconnected(pub ConnId);

/// Keeps (or, with an empty message, clears) a channel's retained message.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Retain {
    /// The channel.
    pub channel: Channel,
    /// The publisher's headers, kept with the message.
    pub headers: Headers,
    /// The message (empty: clear).
    pub message: Bytes,
}

/// Asks for [`TableFigures`].
#[derive(Debug, Message)]
#[rtype(result = "TableFigures")]
pub struct Figures;

/// The subscription table.
pub struct SubscriptionTable {
    table: HubTable,
    published: watch::Sender<Arc<HubSnapshot>>,
    gauges: Option<TableGauges>,
    /// Where changes of the hub's own interest go (its bridges).
    interest: Option<Recipient<LocalInterestChanged>>,
}

/// The table's figures in a stats registry, set after each change.
#[derive(Debug, Clone)]
struct TableGauges {
    subscriptions: Gauge,
    connections: Gauge,
    retained: Gauge,
    /// The hub's count of slow consumers (replays can make one too).
    slow_consumers: Counter,
}

impl std::fmt::Debug for SubscriptionTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubscriptionTable")
            .field("table", &self.table.figures())
            .finish_non_exhaustive()
    }
}

impl SubscriptionTable {
    /// An empty table over `table`; readers watch the receiver for snapshots.
    pub fn new(table: HubTable) -> (SubscriptionTable, watch::Receiver<Arc<HubSnapshot>>) {
        let (published, snapshots) = watch::channel(Arc::new(table.snapshot()));
        let table = SubscriptionTable {
            table,
            published,
            gauges: None,
            interest: None,
        };
        (table, snapshots)
    }

    /// Tells `bridges` of every change to the hub's own subscriptions.
    pub fn with_interest(mut self, bridges: Recipient<LocalInterestChanged>) -> Self {
        self.table.track_interest();
        self.interest = Some(bridges);
        self
    }

    /// Keeps `hub.subscriptions`, `hub.connections` and `hub.retained` in `registry` current.
    pub fn with_gauges(mut self, registry: &StatsRegistry) -> Self {
        self.gauges = Some(TableGauges {
            subscriptions: registry.gauge("hub.subscriptions", &[]),
            connections: registry.gauge("hub.connections", &[]),
            retained: registry.gauge("hub.retained", &[]),
            slow_consumers: registry.counter("hub.slow_consumers", &[]),
        });
        self
    }

    fn publish(&mut self) {
        self.published.send_replace(Arc::new(self.table.snapshot()));
        self.update_gauges();
        if let Some(bridges) = &self.interest {
            let changes = self.table.take_interest();
            if !changes.is_empty() {
                bridges.do_send(LocalInterestChanged {
                    add: changes.add,
                    remove: changes.remove,
                });
            }
        }
    }

    fn update_gauges(&self) {
        if let Some(g) = &self.gauges {
            let figures = self.table.figures();
            g.subscriptions.set(figures.subscriptions as i64);
            g.connections.set(figures.connections as i64);
            g.retained.set(figures.retained as i64);
        }
    }
}

/// Queues replayed retained messages, each to its subscription, as MESSAGEs flagged RETAINED.
/// Replays are held to the connection's outbound bound like everything else it is owed: one
/// that would pass it makes the connection a slow consumer, cut off (answers false).
fn write_replay(outbound: &ReplyQueue, replay: Vec<Replayed>) -> bool {
    let mut frame = BytesMut::new();
    for message in replay {
        let Ok(tail) = MessageTail::retained(&message.channel, &message.headers, message.body)
        else {
            continue;
        };
        frame.clear();
        if tail.write_frame(&[message.sid], &mut frame).is_err() || !outbound.fits_peer(frame.len())
        {
            continue;
        }
        let mut queue = outbound.outbound().lock();
        if queue.backlog() + frame.len() > queue.limit() {
            queue.cut_off(&super::router::slow_consumer_frame());
            return false;
        }
        queue.push(&frame);
    }
    true
}

impl Actor for SubscriptionTable {
    type Context = Context<Self>;
}

impl Handler<Changes> for SubscriptionTable {
    type Result = MessageResult<Changes>;

    fn handle(&mut self, msg: Changes, _: &mut Context<Self>) -> Self::Result {
        let applied = self.table.apply(msg.conn, msg.changes);
        if let Some(outbound) = &msg.outbound {
            if !write_replay(outbound, applied.replay) {
                // The connection stops at its next tick (its buffer is closed); its
                // subscriptions go with it then.
                if let Some(g) = &self.gauges {
                    g.slow_consumers.inc();
                }
            }
        }
        if applied.changed {
            self.publish();
        }
        MessageResult(applied.declined)
    }
}

impl Handler<Disconnected> for SubscriptionTable {
    type Result = ();

    fn handle(&mut self, Disconnected(conn): Disconnected, _: &mut Context<Self>) {
        if self.table.drop_conn(conn) {
            self.publish();
        }
    }
}

impl Handler<Retain> for SubscriptionTable {
    type Result = ();

    fn handle(&mut self, msg: Retain, _: &mut Context<Self>) {
        self.table.retain(msg.channel, msg.headers, msg.message);
        self.update_gauges();
    }
}

impl Handler<Figures> for SubscriptionTable {
    type Result = MessageResult<Figures>;

    fn handle(&mut self, _: Figures, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.table.figures())
    }
}
