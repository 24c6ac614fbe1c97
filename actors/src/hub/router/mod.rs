//! [`Hub`]: what a server's connections share to serve pub/sub: the subscription table's
//! snapshots for routing, every hub connection's outbound buffer for delivery, and the table
//! actor for changes.
//!
//! A publish is routed on the publisher's own connection thread: it reads the newest snapshot,
//! matches the channel, and appends one MESSAGE per subscribing connection straight into that
//! connection's outbound buffer (the MESSAGE tail encoded once, only the sid list per
//! connection). No actor message is sent per delivery. A connection whose buffer would pass
//! [`HubLimits::max_outbound_bytes`] or [`HubLimits::max_outbound_messages`] is a slow
//! consumer: the message is not queued, the connection is told to close, and it is counted;
//! the other subscribers are not slowed. A publisher that can be held back (a NATS client,
//! [`Hub::publish_paced`]) is told when a subscriber passes a sixteenth of those bounds, and
//! waits for it, so a fast publisher slows down before its subscriber is cut off.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::slice;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use actix::{Actor, Addr, Message, Recipient};
use bytes::BytesMut;
use hubwire_core::protocol::{
    Envelope, ErrorCode, ErrorFrame, MessageFlags, MessageTail, ProtocolError, Publish,
};
use hubwire_core::stats::{Counter, StatsRegistry};
use hubwire_core::stream::ReplyQueue;
use smallvec::SmallVec;
use tokio::sync::watch;

use super::table::{ConnId, GroupId, HubSnapshot, Retain, Subscriber, SubscriptionTable, NO_GROUP};
use crate::bridge::Bridges;
use hubwire_core::bridge::HubId;
use hubwire_core::pubsub::{Channel, HubTable, LastMatch};

mod lone;
mod nats;
use lone::LoneClock;
mod runs;

use nats::{all_plain, nats_forms_of, subject_of, NatsRun};
pub use nats::{NatsDelivery, NatsPeer, SubscriptionEnded};
pub use runs::MAX_GATHERED;

/// The connection id of deliveries that came over a bridge (connections count from 1).
const FROM_BRIDGE: ConnId = 0;

/// Every hub connection's delivery side, by id. The ids are the hub's own counter, not a
/// peer's choice, so a fast unkeyed-quality hash will do.
type Peers = HashMap<ConnId, Peer, foldhash::fast::RandomState>;

thread_local! {
    /// The last channel routed on this thread and its matches, for the trie version they were
    /// found in: a run of publishes to one channel walks the trie once.
    static LAST_MATCH: RefCell<LastMatch<Subscriber>> = RefCell::new(LastMatch::default());

    /// The matches of the publish being routed on this thread, kept between publishes so that
    /// routing allocates nothing per message. Taken out while in use: a publish routed from
    /// inside another one just starts with an empty vector.
    static MATCHED: Cell<Vec<Subscriber>> = const { Cell::new(Vec::new()) };
}

/// Bounds of a hub.
#[derive(Debug, Clone, Copy)]
pub struct HubLimits {
    /// Bytes a subscriber's outbound buffer may hold; a message that would pass it makes the
    /// subscriber a slow consumer, disconnected.
    pub max_outbound_bytes: usize,
    /// Messages a subscriber's outbound buffer may hold; one more makes it a slow consumer.
    pub max_outbound_messages: usize,
    /// Retained messages kept, at most.
    pub retained_count: usize,
    /// Bytes of retained messages (channels and bodies) kept, at most.
    pub retained_bytes: usize,
    /// Subscriptions one connection may hold; more are refused.
    pub max_subscriptions_per_connection: usize,
}

impl Default for HubLimits {
    fn default() -> Self {
        HubLimits::from(&hubwire_core::Config::default())
    }
}

impl From<&hubwire_core::Config> for HubLimits {
    fn from(config: &hubwire_core::Config) -> Self {
        HubLimits {
            max_outbound_bytes: config.hub_max_outbound_bytes,
            max_outbound_messages: config.hub_max_outbound_messages,
            retained_count: config.hub_retained_count,
            retained_bytes: config.hub_retained_bytes,
            max_subscriptions_per_connection: config.hub_max_subscriptions_per_connection,
        }
    }
}

/// What a slow consumer is told as it is cut off.
pub const SLOW_CONSUMER_MESSAGE: &str =
    "slow consumer: messages arrived faster than this connection read them";

/// Tells a connection it is a slow consumer: close it.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct SlowConsumer;

/// A hub connection's delivery side.
#[derive(Clone)]
struct Peer {
    outbound: Arc<ReplyQueue>,
    slow: Recipient<SlowConsumer>,
    /// Set once it is found slow: counted and told once, however many messages follow.
    found_slow: Arc<AtomicBool>,
    /// The wire it reads.
    flavour: Flavour,
    /// Lone messages to a hubwire subscriber (a NATS one keeps its clock with its book).
    lone: Arc<Mutex<LoneClock>>,
}

/// The wire a subscriber reads: hubwire's MESSAGE frames (the fast path: one frame encoded
/// once per publish, only the sid list per connection), or NATS's MSG lines.
#[derive(Clone)]
enum Flavour {
    Hubwire,
    Nats(Arc<NatsPeer>),
}

/// The hub's counters.
#[derive(Debug, Clone)]
struct HubCounters {
    published: Counter,
    delivered: Counter,
    slow_consumers: Counter,
    no_responders: Counter,
    too_large: Counter,
}

/// A server's pub/sub hub (cheap to clone).
#[derive(Clone)]
pub struct Hub {
    table: Addr<SubscriptionTable>,
    snapshots: watch::Receiver<Arc<HubSnapshot>>,
    peers: Arc<RwLock<Peers>>,
    next_conn: Arc<AtomicU64>,
    limits: HubLimits,
    counters: HubCounters,
    bridges: Option<Bridges>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Hub {
    /// Starts the hub's subscription table on the current arbiter.
    pub fn start(limits: HubLimits, registry: &StatsRegistry) -> Hub {
        Hub::start_bridged(limits, registry, None)
    }

    /// [`start`](Self::start), with `bridges` to other hubs (its table hears of every change
    /// to this hub's subscriptions).
    pub fn start_bridged(
        limits: HubLimits,
        registry: &StatsRegistry,
        bridges: Option<Bridges>,
    ) -> Hub {
        let (table, snapshots) = SubscriptionTable::new(HubTable::new(
            limits.retained_count,
            limits.retained_bytes,
            limits.max_subscriptions_per_connection,
        ));
        let mut table = table.with_gauges(registry);
        if let Some(bridges) = &bridges {
            table = table.with_interest(bridges.table().clone().recipient());
        }
        Hub {
            bridges,
            // Its own thread: a burst of subscriptions never delays accepting or handshakes.
            table: SubscriptionTable::start_in_arbiter(&actix::Arbiter::new().handle(), |_| table),
            snapshots,
            peers: Arc::default(),
            next_conn: Arc::new(AtomicU64::new(1)),
            limits,
            counters: HubCounters {
                published: registry.counter("hub.published", &[]),
                delivered: registry.counter("hub.delivered", &[]),
                slow_consumers: registry.counter("hub.slow_consumers", &[]),
                no_responders: registry.counter("hub.no_responders", &[]),
                too_large: registry.counter("hub.too_large", &[]),
            },
        }
    }

    /// The hub's bridges to other hubs, if it has any.
    pub fn bridges(&self) -> Option<&Bridges> {
        self.bridges.as_ref()
    }

    /// The subscription table actor.
    pub fn table(&self) -> &Addr<SubscriptionTable> {
        &self.table
    }

    /// Registers a connection's outbound buffer; answers its id.
    pub fn join(&self, outbound: Arc<ReplyQueue>, slow: Recipient<SlowConsumer>) -> ConnId {
        self.join_as(outbound, slow, Flavour::Hubwire)
    }

    /// Registers a NATS client's connection: its messages are written as NATS's MSG lines,
    /// with the sids of `nats`'s book.
    pub fn join_nats(
        &self,
        outbound: Arc<ReplyQueue>,
        slow: Recipient<SlowConsumer>,
        nats: Arc<NatsPeer>,
    ) -> ConnId {
        self.join_as(outbound, slow, Flavour::Nats(nats))
    }

    fn join_as(
        &self,
        outbound: Arc<ReplyQueue>,
        slow: Recipient<SlowConsumer>,
        flavour: Flavour,
    ) -> ConnId {
        let conn = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let peer = Peer {
            outbound,
            slow,
            found_slow: Arc::default(),
            flavour,
            lone: Arc::default(),
        };
        self.peers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(conn, peer);
        conn
    }

    /// A connection is gone: its subscriptions and its buffer go.
    pub fn leave(&self, conn: ConnId) {
        self.peers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&conn);
        self.table.do_send(super::table::Disconnected(conn));
    }

    /// Routes `publish` from connection `from`: delivers it to every matching subscription
    /// (not `from`'s own with NO_ECHO), keeps it as the retained message with RETAIN, and
    /// answers a call nobody subscribes to with no-responders on its reply-to.
    pub fn publish(&self, from: ConnId, publish: &Publish) {
        self.publish_paced(from, publish);
    }

    /// [`publish`](Self::publish), answering a subscriber that now owes its client more than
    /// the stall mark (a sixteenth of the hub's outbound bounds), if one does: the publisher
    /// stops reading until that backlog is down to [`Stalled::resume_at`], as nats-server
    /// stalls a fast producer.
    pub fn publish_paced(&self, from: ConnId, publish: &Publish) -> Option<Stalled> {
        let mut routing = Routing::default();
        self.route(from, publish, &mut routing);
        self.stalled(routing.stalled)
    }

    /// Routes one publish.
    fn route(&self, from: ConnId, publish: &Publish, routing: &mut Routing) {
        self.counters.published.inc();
        if publish.flags.contains(MessageFlags::RETAIN) {
            self.table.do_send(Retain {
                channel: publish.channel.clone(),
                headers: publish.headers.clone(),
                message: publish.body.clone(),
            });
        }
        let delivered = self.deliver(from, publish, |_| true, routing);
        let bridged = self.bridge(publish);
        if delivered == 0 && bridged == 0 {
            if let Some(answer) = publish.no_responders() {
                self.counters.no_responders.inc();
                self.deliver(from, &answer, |_| true, routing);
            }
        }
    }

    /// Forwards a local publish over the hub's bridges; answers to how many.
    #[inline]
    fn bridge(&self, publish: &Publish) -> usize {
        match &self.bridges {
            Some(bridges) => bridges.forward_local(publish, &self.picks(bridges, publish)),
            None => 0,
        }
    }

    /// What the publisher is told of a subscriber past the stall mark.
    fn stalled(&self, queue: Option<Arc<ReplyQueue>>) -> Option<Stalled> {
        queue.map(|queue| Stalled {
            queue,
            resume_at: self.stall_mark().0 / 2,
        })
    }

    /// Bytes and appends a subscriber's buffer may hold before its publishers are held back.
    fn stall_mark(&self) -> (usize, usize) {
        (
            self.limits.max_outbound_bytes / STALL_FRACTION,
            self.limits.max_outbound_messages / STALL_FRACTION,
        )
    }

    /// Whether `outbound` is past the stall mark.
    fn past_stall_mark(
        &self,
        outbound: &hubwire_core::stream::OutboundGuard<'_, impl Sized>,
    ) -> bool {
        let (bytes, appends) = self.stall_mark();
        outbound.backlog() > bytes || outbound.queued_frames() > appends
    }

    /// Delivers a message that came over a bridge to this hub's subscribers: to every
    /// subscription in no group, and to a queue group only if the origin picked this hub
    /// (`me`) for it.
    pub fn deliver_bridged(&self, publish: &Publish, picks: &[(String, HubId)], me: HubId) {
        if publish.flags.contains(MessageFlags::RETAIN) {
            self.table.do_send(Retain {
                channel: publish.channel.clone(),
                headers: publish.headers.clone(),
                message: publish.body.clone(),
            });
        }
        let names = self.snapshots.borrow().group_names.clone();
        let group_ok = |group| {
            names.get(&group).is_some_and(|name| {
                picks
                    .iter()
                    .any(|(picked, hub)| *hub == me && picked == name)
            })
        };
        self.deliver(FROM_BRIDGE, publish, group_ok, &mut Routing::default());
    }

    /// For each queue group with members beyond the bridges that match `publish` and no
    /// member here, one of the hubs that have one, picked at random.
    fn picks(&self, bridges: &Bridges, publish: &Publish) -> Vec<(String, HubId)> {
        let view = bridges.view();
        if view.links.is_empty() {
            return Vec::new();
        }
        let remote = view.router.group_members(&publish.channel);
        if remote.is_empty() {
            return Vec::new();
        }
        let snapshot = self.snapshots.borrow().clone();
        let local: Vec<&String> = snapshot
            .trie
            .matches(&publish.channel)
            .iter()
            .filter_map(|s| snapshot.group_names.get(&s.group))
            .collect();
        remote
            .into_iter()
            .filter(|members| !local.contains(&&members.group))
            .map(|members| {
                let hub = members.hubs[fastrand::usize(..members.hubs.len())];
                (members.group, hub)
            })
            .collect()
    }

    /// Delivers to every matching connection (queue groups only if `group_ok`); answers how
    /// many got it.
    fn deliver(
        &self,
        from: ConnId,
        publish: &Publish,
        group_ok: impl Fn(GroupId) -> bool,
        routing: &mut Routing,
    ) -> usize {
        self.with_matches(&publish.channel, |matched| {
            if matched.is_empty() {
                return 0;
            }
            choose(matched, |s| {
                !(no_echo(publish) && s.conn == from) && (s.group == NO_GROUP || group_ok(s.group))
            });
            self.deliver_to(slice::from_ref(publish), matched, routing)
        })
    }

    /// Runs `work` on the subscriptions matching `channel`, in this thread's match buffer
    /// (kept between publishes, so routing allocates nothing per message).
    fn with_matches<R>(
        &self,
        channel: &Channel,
        work: impl FnOnce(&mut Vec<Subscriber>) -> R,
    ) -> R {
        let mut matched = MATCHED.take();
        {
            let snapshot = self.snapshots.borrow();
            LAST_MATCH
                .with_borrow_mut(|last| last.matches_into(&snapshot.trie, channel, &mut matched));
        }
        let answer = work(&mut matched);
        matched.clear();
        MATCHED.set(matched);
        answer
    }

    /// Delivers `publishes` (one, or a run to one channel with the same flags) to the
    /// subscriptions chosen in `matched`, sorted by (connection, sid); answers how many
    /// messages were queued, counting each connection's once.
    fn deliver_to(
        &self,
        publishes: &[Publish],
        matched: &[Subscriber],
        routing: &mut Routing,
    ) -> usize {
        // A bare RPC acknowledgement is a control frame: ahead of the caller's bulk data.
        let urgent = publishes[0].flags == MessageFlags::ACK;
        let peers = self.peers.read().unwrap_or_else(|e| e.into_inner());
        let mut delivered = 0;
        let mut sids: SmallVec<[u64; 8]> = SmallVec::new();
        // Each protocol's form of each publish, made when its first subscriber is met (of a
        // lone publish, on the stack).
        let mut tail = None;
        let mut tails = Vec::new();
        let mut nats_form = None;
        let mut nats_forms = Vec::new();
        // Plain publishes (all of them, or the forms above) and their subject, if it has one.
        let mut plain: Option<Option<Arc<str>>> = None;
        // Sorted by (connection, sid): one frame per connection.
        let mut rest = matched;
        while let Some(first) = rest.first() {
            let conn = first.conn;
            let end = rest
                .iter()
                .position(|s| s.conn != conn)
                .unwrap_or(rest.len());
            sids.clear();
            sids.extend(rest[..end].iter().map(|s| s.sid));
            rest = &rest[end..];
            let Some(peer) = peers.get(&conn) else {
                continue;
            };
            delivered += match &peer.flavour {
                Flavour::Hubwire => {
                    let tails: &[_] = match publishes {
                        [one] => slice::from_ref(
                            tail.get_or_insert_with(|| MessageTail::for_publish(one)),
                        ),
                        _ => {
                            if tails.is_empty() {
                                MessageTail::extend_for(publishes, &mut tails);
                            }
                            &tails
                        }
                    };
                    self.push(peer, tails, &sids, urgent, routing)
                }
                Flavour::Nats(nats) => {
                    let plain = plain.get_or_insert_with(|| {
                        all_plain(publishes).then(|| subject_of(&publishes[0].channel))?
                    });
                    let run = match plain {
                        Some(subject) => NatsRun::Plain { subject, publishes },
                        None => NatsRun::Forms(match publishes {
                            [one] => {
                                slice::from_mut(nats_form.get_or_insert_with(|| nats_forms_of(one)))
                            }
                            _ => {
                                if nats_forms.is_empty() {
                                    nats_forms.extend(publishes.iter().map(nats_forms_of));
                                }
                                &mut nats_forms
                            }
                        }),
                    };
                    self.push_nats(peer, nats, run, &sids, routing)
                }
            };
        }
        self.counters.delivered.add(delivered as u64);
        delivered
    }

    /// Appends one MESSAGE per tail to a subscriber's buffer, under one lock, until one would
    /// pass its bound (then it is cut off); `urgent` ones go ahead of bulk data not yet
    /// written (and are not held to the bound). Answers how many were queued.
    fn push(
        &self,
        peer: &Peer,
        tails: &[Result<MessageTail, ProtocolError>],
        sids: &[u64],
        urgent: bool,
        routing: &Routing,
    ) -> usize {
        let mut outbound = peer.outbound.outbound().lock();
        let mut pushed = 0;
        for tail in tails {
            let Ok(tail) = tail else { continue };
            let length = tail.frame_len(sids);
            if !peer.outbound.fits_peer(length) {
                // Over the subscriber's own max_frame: it never gets a frame it said it refuses.
                self.counters.too_large.inc();
                continue;
            }
            if urgent {
                let mut frame = BytesMut::with_capacity(length);
                if tail.write_frame(sids, &mut frame).is_ok() && outbound.push_urgent(&frame) {
                    pushed += 1;
                }
                continue;
            }
            if outbound.backlog() + length > self.limits.max_outbound_bytes
                || outbound.queued_frames() >= self.limits.max_outbound_messages
            {
                drop(outbound);
                self.found_slow(peer, &slow_consumer_frame());
                return pushed;
            }
            // Encoded straight into the buffer: no frame of its own to copy from.
            if outbound
                .push_with(|out| tail.write_frame(sids, out))
                .unwrap_or(false)
            {
                pushed += 1;
            }
        }
        // The only message of its read, to a quiet subscriber: written now (`lone.rs`).
        if routing.lone && !urgent && pushed > 0 {
            let mut lone = peer.lone.lock().unwrap_or_else(|e| e.into_inner());
            if lone.quiet(Instant::now()) {
                outbound.flush_now();
            }
        }
        pushed
    }

    /// Cuts a subscriber off as a slow consumer (once), with `last` as the last thing it
    /// reads.
    #[cold]
    fn found_slow(&self, peer: &Peer, last: &[u8]) {
        if !peer.found_slow.swap(true, Ordering::Relaxed) {
            // Cut off here: the backlog is freed now and the error goes ahead of it, whatever
            // the connection's own thread is busy with.
            peer.outbound.outbound().lock().cut_off(last);
            self.counters.slow_consumers.inc();
            peer.slow.do_send(SlowConsumer);
        }
    }
}

/// Whether `publish` is not to be echoed to its own connection.
fn no_echo(publish: &Publish) -> bool {
    publish.flags.contains(MessageFlags::NO_ECHO)
}

/// What routing a connection's publishes tells and is told of the subscribers.
#[derive(Debug, Default)]
struct Routing {
    /// A NATS subscriber's buffer left past the stall mark.
    stalled: Option<Arc<ReplyQueue>>,
    /// The publish routed is the only one its read held: a quiet subscriber is written to at
    /// once (`lone.rs`).
    lone: bool,
}

/// The stall mark is this fraction of a subscriber's outbound bounds.
const STALL_FRACTION: usize = 16;

/// A subscriber past the stall mark ([`Hub::publish_paced`]).
#[derive(Debug)]
pub struct Stalled {
    /// Its outbound buffer.
    pub queue: Arc<ReplyQueue>,
    /// The backlog at which its publisher reads again.
    pub resume_at: usize,
}

/// The ERROR frame a slow consumer gets.
pub(super) fn slow_consumer_frame() -> BytesMut {
    let mut frame = BytesMut::new();
    let error = ErrorFrame {
        id: None,
        code: ErrorCode::Busy,
        message: SLOW_CONSUMER_MESSAGE.into(),
    };
    error
        .write_frame(&mut frame)
        .expect("an ERROR frame always encodes");
    frame
}

/// Keeps, of the subscriptions in `matched` (sorted by (connection, sid), each once), those a
/// message goes to among the ones `eligible` lets through: every one in no group, and one
/// member, picked at random, of each queue group. They stay sorted and each once.
fn choose(matched: &mut Vec<Subscriber>, eligible: impl Fn(&Subscriber) -> bool) {
    let mut groups: HashMap<GroupId, Vec<Subscriber>> = HashMap::new();
    matched.retain(|s| {
        if !eligible(s) {
            return false;
        }
        if s.group != NO_GROUP {
            groups.entry(s.group).or_default().push(*s);
            return false;
        }
        true
    });
    if groups.is_empty() {
        return;
    }
    for members in groups.into_values() {
        matched.push(members[fastrand::usize(..members.len())]);
    }
    matched.sort_unstable_by_key(|s| (s.conn, s.sid));
    matched.dedup_by_key(|s| (s.conn, s.sid));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(conn: u64, sid: u64, group: GroupId) -> Subscriber {
        Subscriber { conn, sid, group }
    }

    #[test]
    fn one_member_of_each_group_and_every_ungrouped_subscription() {
        let matched = [
            sub(1, 1, NO_GROUP),
            sub(1, 2, 7),
            sub(2, 1, 7),
            sub(3, 1, 7),
            sub(3, 2, 8),
            sub(4, 1, NO_GROUP),
        ];
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let mut chosen = matched.to_vec();
            choose(&mut chosen, |_| true);
            assert_eq!(chosen.len(), 4, "{chosen:?}");
            assert!(chosen.contains(&sub(1, 1, NO_GROUP)) && chosen.contains(&sub(4, 1, NO_GROUP)));
            assert_eq!(chosen.iter().filter(|s| s.group == 7).count(), 1);
            assert!(chosen.contains(&sub(3, 2, 8)));
            assert!(chosen
                .windows(2)
                .all(|w| (w[0].conn, w[0].sid) < (w[1].conn, w[1].sid)));
            seen.extend(chosen.iter().filter(|s| s.group == 7).copied());
        }
        assert_eq!(
            seen.len(),
            3,
            "every member of group 7 is picked some of the time"
        );
        let mut no_echo = matched.to_vec();
        choose(&mut no_echo, |s| s.conn != 1);
        assert!(no_echo.iter().all(|s| s.conn != 1));
        assert_eq!(no_echo.iter().filter(|s| s.group == 7).count(), 1);
    }
}
