//! [`SubscriptionTable`]: the hub's subscription table as an actor. It applies subscription
//! changes one message at a time and publishes an immutable [`HubSnapshot`] after each, which
//! connections read directly to route a publish: a lookup never waits behind the mailbox.

use std::collections::HashMap;
use std::sync::Arc;

use actix::{Actor, Context, Handler, Message, MessageResult, Recipient};
use bytes::Bytes;
use hubwire_core::pubsub::{Channel, Pattern, RetainedMessages, SubscriptionTrie, TrieSnapshot};
use hubwire_core::stats::{Gauge, StatsRegistry};
use tokio::sync::watch;

use crate::bridge::LocalInterestChanged;

/// A hub connection, as the table knows it.
pub type ConnId = u64;

/// A subscription id, chosen by the spoke that subscribed.
pub type Sid = u64;

/// One subscription of one connection: what the trie stores per pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subscriber {
    /// The connection.
    pub conn: ConnId,
    /// Its subscription.
    pub sid: Sid,
    /// Its queue group ([`NO_GROUP`] for none): of the subscriptions of one group that match
    /// a message, one gets it.
    pub group: GroupId,
}

/// A queue group, as the table numbers group names.
pub type GroupId = u32;

/// The group id of a subscription in no group.
pub const NO_GROUP: GroupId = 0;

/// What connections read to route a publish.
#[derive(Debug, Clone)]
pub struct HubSnapshot {
    /// Every subscription, by pattern.
    pub trie: TrieSnapshot<Subscriber>,
    /// The names of the queue groups in use, for bridges (which name groups across hubs).
    pub group_names: Arc<HashMap<GroupId, String>>,
}

/// Retained messages to replay to new subscriptions: the subscription, the channel, the body.
pub type Replay = Vec<(Sid, Channel, Bytes)>;

/// Subscribes (or, for a sid in use, replaces) one subscription; answers the retained messages
/// its pattern matches.
#[derive(Debug, Message)]
#[rtype(result = "Replay")]
pub struct Subscribe {
    /// The connection.
    pub conn: ConnId,
    /// Its subscription id.
    pub sid: Sid,
    /// What it matches.
    pub pattern: Pattern,
    /// Its queue group, if any.
    pub group: Option<String>,
}

/// Drops one subscription (an unknown sid is ignored).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Unsubscribe {
    /// The connection.
    pub conn: ConnId,
    /// Its subscription id.
    pub sid: Sid,
}

/// Replaces every subscription of a connection (sent on each connect: the spoke is the source
/// of truth); answers the retained messages the new list matches.
#[derive(Debug, Message)]
#[rtype(result = "Replay")]
pub struct ReplaceAll {
    /// The connection.
    pub conn: ConnId,
    /// Its whole list: sid, pattern, queue group.
    pub subscriptions: Vec<(Sid, Pattern, Option<String>)>,
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
    /// The message (empty: clear).
    pub message: Bytes,
}

/// The table's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableFigures {
    /// Subscriptions, over all connections.
    pub subscriptions: usize,
    /// Connections with at least one subscription.
    pub connections: usize,
    /// Distinct patterns.
    pub patterns: usize,
    /// Trie nodes (1 when empty: the root).
    pub nodes: usize,
    /// Queue group names in use.
    pub groups: usize,
    /// Retained messages held.
    pub retained: usize,
    /// Retained messages evicted (or refused as too large) since start.
    pub retained_evicted: u64,
}

/// Asks for [`TableFigures`].
#[derive(Debug, Message)]
#[rtype(result = "TableFigures")]
pub struct Figures;

/// The subscription table.
pub struct SubscriptionTable {
    trie: SubscriptionTrie<Subscriber>,
    by_conn: HashMap<ConnId, HashMap<Sid, (Pattern, GroupId)>>,
    /// Queue group names in use, numbered, with how many subscriptions use each.
    groups: HashMap<String, (GroupId, usize)>,
    next_group: GroupId,
    retained: RetainedMessages,
    published: watch::Sender<Arc<HubSnapshot>>,
    gauges: Option<TableGauges>,
    group_names: Arc<HashMap<GroupId, String>>,
    /// Where changes of the hub's own interest go (its bridges), and those not yet sent.
    interest: Option<(Recipient<LocalInterestChanged>, LocalInterestChanged)>,
}

/// The table's figures in a stats registry, set after each change.
#[derive(Debug, Clone)]
struct TableGauges {
    subscriptions: Gauge,
    connections: Gauge,
    retained: Gauge,
}

impl std::fmt::Debug for SubscriptionTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubscriptionTable")
            .field("subscriptions", &self.trie.len())
            .field("connections", &self.by_conn.len())
            .finish_non_exhaustive()
    }
}

impl SubscriptionTable {
    /// An empty table keeping at most `retained_count` retained messages of at most
    /// `retained_bytes` in all; readers watch the receiver for snapshots.
    pub fn new(
        retained_count: usize,
        retained_bytes: usize,
    ) -> (SubscriptionTable, watch::Receiver<Arc<HubSnapshot>>) {
        let trie = SubscriptionTrie::new();
        let (published, snapshots) = watch::channel(Arc::new(HubSnapshot {
            trie: trie.snapshot(),
            group_names: Arc::default(),
        }));
        let table = SubscriptionTable {
            trie,
            by_conn: HashMap::new(),
            groups: HashMap::new(),
            next_group: NO_GROUP + 1,
            retained: RetainedMessages::new(retained_count, retained_bytes),
            published,
            gauges: None,
            group_names: Arc::default(),
            interest: None,
        };
        (table, snapshots)
    }

    /// Tells `bridges` of every change to the hub's own subscriptions.
    pub fn with_interest(mut self, bridges: Recipient<LocalInterestChanged>) -> Self {
        self.interest = Some((bridges, LocalInterestChanged::default()));
        self
    }

    /// Keeps `hub.subscriptions`, `hub.connections` and `hub.retained` in `registry` current.
    pub fn with_gauges(mut self, registry: &StatsRegistry) -> Self {
        self.gauges = Some(TableGauges {
            subscriptions: registry.gauge("hub.subscriptions", &[]),
            connections: registry.gauge("hub.connections", &[]),
            retained: registry.gauge("hub.retained", &[]),
        });
        self
    }

    fn publish(&mut self) {
        let snapshot = Arc::new(HubSnapshot {
            trie: self.trie.snapshot(),
            group_names: self.group_names.clone(),
        });
        self.published.send_replace(snapshot);
        self.update_gauges();
        if let Some((bridges, changes)) = &mut self.interest {
            if !changes.add.is_empty() || !changes.remove.is_empty() {
                bridges.do_send(std::mem::take(changes));
            }
        }
    }

    fn update_gauges(&self) {
        if let Some(g) = &self.gauges {
            g.subscriptions.set(self.trie.len() as i64);
            g.connections.set(self.by_conn.len() as i64);
            g.retained.set(self.retained.len() as i64);
        }
    }

    fn add(
        &mut self,
        conn: ConnId,
        sid: Sid,
        pattern: Pattern,
        group: Option<String>,
        replay: &mut Replay,
    ) {
        self.remove(conn, sid);
        if let Some((_, changes)) = &mut self.interest {
            changes.add.push((pattern.clone(), group.clone()));
        }
        let group = match group {
            Some(name) => self.join_group(name),
            None => NO_GROUP,
        };
        let subscriber = Subscriber { conn, sid, group };
        self.by_conn
            .entry(conn)
            .or_default()
            .insert(sid, (pattern.clone(), group));
        self.trie.subscribe(&pattern, subscriber);
        if group == NO_GROUP {
            replay.extend(
                self.retained
                    .matching(&pattern)
                    .into_iter()
                    .map(|(channel, message)| (sid, channel.clone(), message.clone())),
            );
        }
    }

    /// Drops one subscription; answers whether there was one.
    fn remove(&mut self, conn: ConnId, sid: Sid) -> bool {
        let Some(sids) = self.by_conn.get_mut(&conn) else {
            return false;
        };
        let Some((pattern, group)) = sids.remove(&sid) else {
            return false;
        };
        if sids.is_empty() {
            self.by_conn.remove(&conn);
        }
        self.trie
            .unsubscribe(&pattern, Subscriber { conn, sid, group });
        if let Some((_, changes)) = &mut self.interest {
            let name = self.group_names.get(&group).cloned();
            changes.remove.push((pattern, name));
        }
        self.leave_group(group);
        true
    }

    fn join_group(&mut self, name: String) -> GroupId {
        let next = &mut self.next_group;
        let (id, members) = self.groups.entry(name.clone()).or_insert_with(|| {
            let id = *next;
            *next = next.wrapping_add(1).max(NO_GROUP + 1);
            (id, 0)
        });
        *members += 1;
        let id = *id;
        if *members == 1 {
            Arc::make_mut(&mut self.group_names).insert(id, name);
        }
        id
    }

    fn leave_group(&mut self, group: GroupId) {
        if group == NO_GROUP {
            return;
        }
        let mut gone = false;
        self.groups.retain(|_, (id, members)| {
            if *id == group {
                *members -= 1;
                gone = *members == 0;
            }
            *members > 0
        });
        if gone {
            Arc::make_mut(&mut self.group_names).remove(&group);
        }
    }

    fn drop_conn(&mut self, conn: ConnId) {
        let sids: Vec<Sid> = self
            .by_conn
            .get(&conn)
            .map(|sids| sids.keys().copied().collect())
            .unwrap_or_default();
        for sid in sids {
            self.remove(conn, sid);
        }
    }
}

impl Actor for SubscriptionTable {
    type Context = Context<Self>;
}

impl Handler<Subscribe> for SubscriptionTable {
    type Result = MessageResult<Subscribe>;

    fn handle(&mut self, msg: Subscribe, _: &mut Context<Self>) -> Self::Result {
        let mut replay = Vec::new();
        self.add(msg.conn, msg.sid, msg.pattern, msg.group, &mut replay);
        self.publish();
        MessageResult(replay)
    }
}

impl Handler<Unsubscribe> for SubscriptionTable {
    type Result = ();

    fn handle(&mut self, msg: Unsubscribe, _: &mut Context<Self>) {
        if self.remove(msg.conn, msg.sid) {
            self.publish();
        }
    }
}

impl Handler<ReplaceAll> for SubscriptionTable {
    type Result = MessageResult<ReplaceAll>;

    fn handle(&mut self, msg: ReplaceAll, _: &mut Context<Self>) -> Self::Result {
        self.drop_conn(msg.conn);
        let mut replay = Vec::new();
        for (sid, pattern, group) in msg.subscriptions {
            self.add(msg.conn, sid, pattern, group, &mut replay);
        }
        self.publish();
        MessageResult(replay)
    }
}

impl Handler<Disconnected> for SubscriptionTable {
    type Result = ();

    fn handle(&mut self, Disconnected(conn): Disconnected, _: &mut Context<Self>) {
        if self.by_conn.contains_key(&conn) {
            self.drop_conn(conn);
            self.publish();
        }
    }
}

impl Handler<Retain> for SubscriptionTable {
    type Result = ();

    fn handle(&mut self, msg: Retain, _: &mut Context<Self>) {
        self.retained.retain(msg.channel, msg.message);
        self.update_gauges();
    }
}

impl Handler<Figures> for SubscriptionTable {
    type Result = MessageResult<Figures>;

    fn handle(&mut self, _: Figures, _: &mut Context<Self>) -> Self::Result {
        MessageResult(TableFigures {
            subscriptions: self.trie.len(),
            connections: self.by_conn.len(),
            patterns: self.trie.pattern_count(),
            nodes: self.trie.node_count(),
            groups: self.groups.len(),
            retained: self.retained.len(),
            retained_evicted: self.retained.evicted(),
        })
    }
}
