//! [`HubTable`]: a hub's subscription bookkeeping as a plain value: every connection's
//! subscriptions, the trie they are matched with, queue groups, retained messages and the
//! bound on subscriptions per connection. The hub's table actor owns one and publishes its
//! [`snapshot`](HubTable::snapshot) after each batch of changes; everything here is tested
//! without a runtime.
//!
//! Changes come in batches (all the subscription frames of one read of one connection), and a
//! batch costs one snapshot, so N subscriptions arriving together are applied in time linear
//! in N, not quadratic (each snapshot makes the next change copy the nodes it touches).

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;

use super::{Channel, Pattern, RetainedMessages, SubscriptionTrie, TrieSnapshot};
use crate::protocol::Headers;

/// A hub connection, as the table knows it.
pub type ConnId = u64;

/// A subscription id, chosen by the spoke that subscribed.
pub type Sid = u64;

/// A queue group, as the table numbers group names.
pub type GroupId = u32;

/// The group id of a subscription in no group.
pub const NO_GROUP: GroupId = 0;

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

/// What connections read to route a publish.
#[derive(Debug, Clone)]
pub struct HubSnapshot {
    /// Every subscription, by pattern.
    pub trie: TrieSnapshot<Subscriber>,
    /// The names of the queue groups in use, for bridges (which name groups across hubs).
    pub group_names: Arc<HashMap<GroupId, String>>,
}

/// One subscription as a connection asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// Its id on the connection.
    pub sid: Sid,
    /// What it matches.
    pub pattern: Pattern,
    /// Its queue group, if any.
    pub group: Option<String>,
    /// Whether the retained messages it matches are replayed to it.
    pub replay: bool,
}

/// A change to one connection's subscriptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Subscribes (or, for a sid in use, replaces) one subscription.
    Subscribe(Wanted),
    /// Drops one subscription (an unknown sid is ignored).
    Unsubscribe(Sid),
    /// Replaces every subscription of the connection (a spoke's list on each connect).
    ReplaceAll(Vec<Wanted>),
}

/// A retained message replayed to a new subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed {
    /// The subscription.
    pub sid: Sid,
    /// The message's channel.
    pub channel: Channel,
    /// The publisher's headers.
    pub headers: Headers,
    /// The body.
    pub body: Bytes,
}

/// A subscription the table did not take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declined {
    /// The subscription.
    pub sid: Sid,
    /// Why, for people.
    pub reason: String,
}

/// What a batch of changes gave: retained messages to replay (in order) and subscriptions
/// declined.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// To be written to the connection before any live message can reach it.
    pub replay: Vec<Replayed>,
    /// Over the bound of subscriptions per connection.
    pub declined: Vec<Declined>,
    /// Whether the subscriptions changed (a new snapshot is due).
    pub changed: bool,
}

/// Changes to the hub's own interest (pattern, group), for bridges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterestChanges {
    /// Subscriptions added.
    pub add: Vec<(Pattern, Option<String>)>,
    /// Subscriptions removed.
    pub remove: Vec<(Pattern, Option<String>)>,
}

impl InterestChanges {
    /// Whether there is nothing to tell.
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }
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

/// A hub's subscriptions and retained messages.
#[derive(Debug)]
pub struct HubTable {
    trie: SubscriptionTrie<Subscriber>,
    by_conn: HashMap<ConnId, HashMap<Sid, (Pattern, GroupId)>>,
    /// Queue group names in use, numbered, with how many subscriptions use each.
    groups: HashMap<String, (GroupId, usize)>,
    next_group: GroupId,
    group_names: Arc<HashMap<GroupId, String>>,
    retained: RetainedMessages,
    max_per_conn: usize,
    /// Interest changes not yet taken, when someone listens for them.
    interest: Option<InterestChanges>,
}

impl HubTable {
    /// An empty table: at most `retained_count` retained messages of `retained_bytes` in all,
    /// and `max_per_conn` subscriptions per connection.
    pub fn new(retained_count: usize, retained_bytes: usize, max_per_conn: usize) -> Self {
        HubTable {
            trie: SubscriptionTrie::new(),
            by_conn: HashMap::new(),
            groups: HashMap::new(),
            next_group: NO_GROUP + 1,
            group_names: Arc::default(),
            retained: RetainedMessages::new(retained_count, retained_bytes),
            max_per_conn,
            interest: None,
        }
    }

    /// Records changes to the hub's own interest from now on, for [`take_interest`].
    ///
    /// [`take_interest`]: Self::take_interest
    pub fn track_interest(&mut self) {
        self.interest.get_or_insert_with(InterestChanges::default);
    }

    /// The interest changes since the last call (empty when not tracked).
    pub fn take_interest(&mut self) -> InterestChanges {
        self.interest
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// What connections read to route, as the table is now.
    pub fn snapshot(&self) -> HubSnapshot {
        HubSnapshot {
            trie: self.trie.snapshot(),
            group_names: self.group_names.clone(),
        }
    }

    /// Applies `changes` of connection `conn` in order.
    pub fn apply(&mut self, conn: ConnId, changes: Vec<Change>) -> Applied {
        let mut applied = Applied::default();
        for change in changes {
            match change {
                Change::Subscribe(wanted) => self.add(conn, wanted, &mut applied),
                Change::Unsubscribe(sid) => applied.changed |= self.remove(conn, sid),
                Change::ReplaceAll(list) => {
                    applied.changed |= self.drop_conn(conn);
                    for wanted in list {
                        self.add(conn, wanted, &mut applied);
                    }
                }
            }
        }
        applied
    }

    /// A connection is gone: drops its subscriptions; answers whether it had any.
    pub fn drop_conn(&mut self, conn: ConnId) -> bool {
        let Some(sids) = self.by_conn.remove(&conn) else {
            return false;
        };
        for (sid, (pattern, group)) in sids {
            self.unindex(conn, sid, pattern, group);
        }
        true
    }

    /// Keeps (or, with an empty body, clears) a channel's retained message.
    pub fn retain(&mut self, channel: Channel, headers: Headers, body: Bytes) {
        self.retained.retain_with(channel, headers, body);
    }

    /// The table's figures.
    pub fn figures(&self) -> TableFigures {
        TableFigures {
            subscriptions: self.trie.len(),
            connections: self.by_conn.len(),
            patterns: self.trie.pattern_count(),
            nodes: self.trie.node_count(),
            groups: self.groups.len(),
            retained: self.retained.len(),
            retained_evicted: self.retained.evicted(),
        }
    }

    /// The subscriptions of `conn`: sid, pattern, queue group.
    pub fn subscriptions_of(&self, conn: ConnId) -> Vec<(Sid, Pattern, Option<String>)> {
        let mut list: Vec<_> = self
            .by_conn
            .get(&conn)
            .into_iter()
            .flatten()
            .map(|(sid, (pattern, group))| {
                (*sid, pattern.clone(), self.group_names.get(group).cloned())
            })
            .collect();
        list.sort_by_key(|(sid, _, _)| *sid);
        list
    }

    fn add(&mut self, conn: ConnId, wanted: Wanted, applied: &mut Applied) {
        let Wanted {
            sid,
            pattern,
            group,
            replay,
        } = wanted;
        let replaces = self.remove(conn, sid);
        let held = self.by_conn.get(&conn).map_or(0, HashMap::len);
        if held >= self.max_per_conn {
            applied.changed |= replaces;
            applied.declined.push(Declined {
                sid,
                reason: format!(
                    "this connection holds {held} subscriptions, the most a hub allows one; unsubscribe some first"
                ),
            });
            return;
        }
        applied.changed = true;
        if let Some(changes) = &mut self.interest {
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
        if replay && group == NO_GROUP {
            let matching = self.retained.matching_with_headers(&pattern);
            applied.replay.extend(
                matching
                    .into_iter()
                    .map(|(channel, headers, body)| Replayed {
                        sid,
                        channel: channel.clone(),
                        headers: headers.clone(),
                        body: body.clone(),
                    }),
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
        self.unindex(conn, sid, pattern, group);
        true
    }

    /// Takes a subscription out of the trie, the groups and the interest.
    fn unindex(&mut self, conn: ConnId, sid: Sid, pattern: Pattern, group: GroupId) {
        self.trie
            .unsubscribe(&pattern, Subscriber { conn, sid, group });
        if let Some(changes) = &mut self.interest {
            let name = self.group_names.get(&group).cloned();
            changes.remove.push((pattern, name));
        }
        self.leave_group(group);
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
        let Some(name) = self.group_names.get(&group).cloned() else {
            return;
        };
        let Some((_, members)) = self.groups.get_mut(&name) else {
            return;
        };
        *members -= 1;
        if *members == 0 {
            self.groups.remove(&name);
            Arc::make_mut(&mut self.group_names).remove(&group);
        }
    }
}
