//! [`BridgeTable`]: the actor that owns a hub's bridge routing state (the link-state
//! database, every hub's interest, this hub's own interest) and its links. It applies what
//! links and the subscription table tell it, floods adverts and interest, and publishes an
//! immutable [`BridgeView`] after each change, which the links and the hub's connections read
//! to forward messages without a mailbox in the way.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::{Actor, AsyncContext, Context, Handler, Message};
use bytes::Bytes;
use hubwire_core::bridge::{
    Applied, BridgeLimits, BridgeRouter, HubId, InterestUpdate, LinkState, LocalInterest, SeenSet,
    DEFAULT_UPDATE_ITEMS,
};
use hubwire_core::config::BridgeTarget;
use hubwire_core::protocol::{BridgeResync, Envelope};
use hubwire_core::pubsub::Pattern;
use hubwire_core::stats::{Counter, Gauge, StatsRegistry};
use tokio::sync::watch;

use super::sink::FrameSink;
use super::stats::LinkStats;

/// How often this hub's own interest changes are announced (they coalesce in between) and
/// paced interest frames go out: the rate limit of interest traffic.
pub const INTEREST_TICK: Duration = Duration::from_millis(20);

/// Interest updates of this hub's own taken per tick, at most.
const OWN_UPDATES_PER_TICK: usize = 8;

/// Interest frames written to one link per tick, at most: a reconnect with a large interest
/// set is spread over ticks instead of flooding the link.
const INTEREST_FRAMES_PER_TICK: usize = 64;

/// How often unreachable hubs' records are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(1);

/// One live link, as the readers of a [`BridgeView`] see it.
#[derive(Clone)]
pub struct LinkOut {
    /// Where frames for the peer go.
    pub sink: Arc<dyn FrameSink>,
    /// Numbers links, so that news of an old link is not taken for the current one's.
    pub link_no: u64,
    /// The link's figures.
    pub stats: LinkStats,
    /// The bridge's channel filters (dialed bridges only).
    pub filter: Option<Arc<BridgeTarget>>,
}

/// What forwarding reads: the routes and interest, and the links.
#[derive(Clone)]
pub struct BridgeView {
    /// Routes and every other hub's interest.
    pub router: BridgeRouter,
    /// The live links, by peer.
    pub links: HashMap<HubId, LinkOut>,
}

/// A link passed admission: register it. Answers its number, or why it is refused (a link to
/// that hub exists already and wins the tie).
#[derive(Message)]
#[rtype(result = "Result<u64, String>")]
pub struct LinkUp {
    /// The hub at the other end.
    pub peer: HubId,
    /// Which of the two hubs dialed (of two links between a pair, the one dialed by the
    /// smaller id stays, as both ends decide).
    pub dialed_by: HubId,
    /// Where frames for the peer go.
    pub sink: Arc<dyn FrameSink>,
    /// The link's figures.
    pub stats: LinkStats,
    /// The bridge's channel filters, if any.
    pub filter: Option<Arc<BridgeTarget>>,
}

/// A link is gone.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct LinkDown {
    /// The hub at the other end.
    pub peer: HubId,
    /// The link's number.
    pub link_no: u64,
}

/// A control frame from a link.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct FromLink {
    /// The hub it came from.
    pub peer: HubId,
    /// The link it came on.
    pub link_no: u64,
    /// What it said.
    pub control: Control,
}

/// The control frames of a link.
#[derive(Debug)]
pub enum Control {
    /// A hub's neighbors.
    LinkState(LinkState),
    /// A change to (or part of) a hub's interest.
    Interest(InterestUpdate),
    /// "Send me the whole interest of this hub."
    Resync(HubId),
}

/// The hub's own subscriptions changed (from the subscription table).
#[derive(Debug, Default, Message)]
#[rtype(result = "()")]
pub struct LocalInterestChanged {
    /// Subscriptions added: pattern and queue group.
    pub add: Vec<(Pattern, Option<String>)>,
    /// Subscriptions removed.
    pub remove: Vec<(Pattern, Option<String>)>,
}

impl std::fmt::Debug for LinkOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkOut")
            .field("link_no", &self.link_no)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for BridgeView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BridgeView")
            .field("links", &self.links)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for LinkUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkUp")
            .field("peer", &self.peer)
            .field("dialed_by", &self.dialed_by)
            .finish_non_exhaustive()
    }
}

struct LinkEntry {
    out: LinkOut,
    dialed_by: HubId,
    /// Interest frames waiting for their tick.
    paced: VecDeque<Bytes>,
}

/// The bridge routing state of one hub.
pub struct BridgeTable {
    me: HubId,
    router: BridgeRouter,
    local: LocalInterest,
    links: BTreeMap<HubId, LinkEntry>,
    next_link: u64,
    /// Origins whose full interest was asked for and has not come.
    resync_asked: HashSet<HubId>,
    seen: Arc<Mutex<SeenSet>>,
    published: watch::Sender<Arc<BridgeView>>,
    /// Interest changed since the view was last published.
    stale_view: bool,
    last_prune: Instant,
    /// Hubs reachable now, this one included.
    hubs: Gauge,
    /// Hubs with a record (reachable or within the prune grace).
    known_hubs: Gauge,
    /// This hub's own interests as announced to its peers (a summary counts as its `**`s).
    announced: Gauge,
    /// Malformed interest updates dropped.
    invalid: Counter,
}

impl std::fmt::Debug for BridgeTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BridgeTable")
            .field("me", &self.me)
            .field("links", &self.links.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl BridgeTable {
    /// The table of hub `me`; readers watch the receiver for views.
    pub fn new(
        me: HubId,
        limits: &BridgeLimits,
        seen: Arc<Mutex<SeenSet>>,
        registry: &StatsRegistry,
    ) -> (BridgeTable, watch::Receiver<Arc<BridgeView>>) {
        let router = BridgeRouter::new(me, limits);
        let (published, views) = watch::channel(Arc::new(BridgeView {
            router: router.clone(),
            links: HashMap::new(),
        }));
        let table = BridgeTable {
            me,
            router,
            local: LocalInterest::new(me, limits.max_interests_per_origin),
            links: BTreeMap::new(),
            next_link: 1,
            resync_asked: HashSet::new(),
            seen,
            published,
            stale_view: false,
            last_prune: Instant::now(),
            hubs: registry.gauge("bridge.hubs", &[]),
            known_hubs: registry.gauge("bridge.known_hubs", &[]),
            announced: registry.gauge("bridge.announced", &[]),
            invalid: registry.counter("bridge.invalid_updates", &[]),
        };
        (table, views)
    }

    fn publish_view(&mut self) {
        self.stale_view = false;
        let links = self
            .links
            .iter()
            .map(|(peer, entry)| (*peer, entry.out.clone()))
            .collect();
        let routes = self.router.routes();
        let mut interest: HashMap<HubId, i64> = HashMap::new();
        for hub in routes.reachable() {
            let Some(branch) = routes.branch(self.me, hub) else {
                continue;
            };
            let count = self
                .router
                .interest()
                .interests_of(hub)
                .map_or(0, |i| i.len());
            *interest.entry(branch).or_default() += count as i64;
        }
        for (peer, entry) in &self.links {
            entry
                .out
                .stats
                .interest
                .set(interest.get(peer).copied().unwrap_or(0));
        }
        self.hubs.set(routes.reachable().len() as i64);
        self.known_hubs.set(self.router.links().len() as i64);
        self.published.send_replace(Arc::new(BridgeView {
            router: self.router.clone(),
            links,
        }));
    }

    /// Writes `frame` to every link but `except`.
    fn flood(&self, frame: &[u8], except: Option<HubId>) {
        for (peer, entry) in &self.links {
            if Some(*peer) != except {
                entry.out.sink.push_frame(frame);
            }
        }
    }

    /// Queues interest frames for `peer`'s link, written at the next ticks.
    fn pace(&mut self, peer: HubId, frames: impl IntoIterator<Item = Bytes>) {
        if let Some(entry) = self.links.get_mut(&peer) {
            entry.paced.extend(frames);
        }
    }

    /// Queues `update` for every link but `except`.
    fn pace_flood(&mut self, update: &InterestUpdate, except: Option<HubId>) {
        let Some(frame) = encode(update) else { return };
        for (peer, entry) in self.links.iter_mut() {
            if Some(*peer) != except {
                entry.paced.push_back(frame.clone());
            }
        }
    }

    fn neighbors_changed(&mut self, new_link: Option<HubId>) {
        let advert = self
            .router
            .set_neighbors(self.links.keys().copied().collect());
        if let Some(frame) = encode(&advert) {
            self.flood(&frame, new_link);
        }
        self.publish_view();
    }

    fn tick(&mut self) {
        for _ in 0..OWN_UPDATES_PER_TICK {
            let Some(update) = self.local.take_update(DEFAULT_UPDATE_ITEMS) else {
                break;
            };
            self.pace_flood(&update, None);
            self.announced.set(self.local.announced().len() as i64);
        }
        for entry in self.links.values_mut() {
            for _ in 0..INTEREST_FRAMES_PER_TICK {
                let Some(frame) = entry.paced.pop_front() else {
                    break;
                };
                entry.out.sink.push_frame(&frame);
            }
        }
        let now = Instant::now();
        if now.duration_since(self.last_prune) >= PRUNE_EVERY {
            self.last_prune = now;
            // A resync nobody answered (the neighbor did not know the set either) may be
            // asked again.
            self.resync_asked.clear();
            if !self.router.prune(now).is_empty() {
                let links = self.router.links();
                lock(&self.seen).retain(|origin| links.contains(origin));
                self.stale_view = true;
            }
        }
        if self.stale_view {
            self.publish_view();
        }
    }

    fn current(&self, peer: HubId, link_no: u64) -> bool {
        self.links
            .get(&peer)
            .is_some_and(|entry| entry.out.link_no == link_no)
    }
}

fn encode(envelope: &impl Envelope) -> Option<Bytes> {
    match envelope.to_frame_bytes() {
        Ok(frame) => Some(frame),
        Err(e) => {
            tracing::error!(error = %e, "bridge: cannot encode a control frame");
            None
        }
    }
}

pub(super) fn lock<T>(shared: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

impl Actor for BridgeTable {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.publish_view();
        ctx.run_interval(INTEREST_TICK, |table, _| table.tick());
    }
}

impl Handler<LinkUp> for BridgeTable {
    type Result = Result<u64, String>;

    fn handle(&mut self, up: LinkUp, _: &mut Context<Self>) -> Self::Result {
        if let Some(existing) = self.links.get(&up.peer) {
            if existing.dialed_by <= up.dialed_by {
                return Err(format!(
                    "already bridged to hub {} (the link dialed by the smaller hub id stays)",
                    up.peer
                ));
            }
            existing.out.sink.close();
            self.links.remove(&up.peer);
        }
        let link_no = self.next_link;
        self.next_link += 1;
        up.stats.up.set(1);
        let out = LinkOut {
            sink: up.sink,
            link_no,
            stats: up.stats,
            filter: up.filter,
        };
        // Adverts first (the new neighbor learns every hub), then every interest, paced.
        self.links.insert(
            up.peer,
            LinkEntry {
                out: out.clone(),
                dialed_by: up.dialed_by,
                paced: VecDeque::new(),
            },
        );
        let own = self
            .router
            .set_neighbors(self.links.keys().copied().collect());
        for advert in self.router.links().all() {
            if let Some(frame) = encode(&advert) {
                out.sink.push_frame(&frame);
            }
        }
        if let Some(frame) = encode(&own) {
            self.flood(&frame, Some(up.peer));
        }
        let dump: Vec<Bytes> = self
            .local
            .full(DEFAULT_UPDATE_ITEMS)
            .iter()
            .chain(self.router.interest().full_all(DEFAULT_UPDATE_ITEMS).iter())
            .filter_map(encode)
            .collect();
        self.pace(up.peer, dump);
        self.publish_view();
        tracing::info!(me = %self.me, peer = %up.peer, link_no, "bridge link up");
        Ok(link_no)
    }
}

impl Handler<LinkDown> for BridgeTable {
    type Result = ();

    fn handle(&mut self, down: LinkDown, _: &mut Context<Self>) {
        if !self.current(down.peer, down.link_no) {
            return;
        }
        if let Some(entry) = self.links.remove(&down.peer) {
            entry.out.stats.up.set(0);
            entry.out.stats.interest.set(0);
        }
        tracing::info!(me = %self.me, peer = %down.peer, "bridge link down");
        self.neighbors_changed(None);
    }
}

impl Handler<FromLink> for BridgeTable {
    type Result = ();

    fn handle(&mut self, msg: FromLink, _: &mut Context<Self>) {
        if !self.current(msg.peer, msg.link_no) {
            return;
        }
        match msg.control {
            Control::LinkState(advert) => {
                if self.router.apply_link_state(&advert) {
                    if let Some(frame) = encode(&advert) {
                        self.flood(&frame, Some(msg.peer));
                    }
                    self.publish_view();
                }
            }
            Control::Interest(update) => match self.router.apply_interest(&update) {
                Applied::New => {
                    self.resync_asked.remove(&update.origin);
                    self.pace_flood(&update, Some(msg.peer));
                    self.stale_view = true;
                }
                Applied::Stale => {}
                Applied::Gap => {
                    self.stale_view = true;
                    if self.resync_asked.insert(update.origin) {
                        let ask = BridgeResync {
                            origin: update.origin,
                        };
                        if let (Some(frame), Some(entry)) =
                            (encode(&ask), self.links.get(&msg.peer))
                        {
                            entry.out.sink.push_frame(&frame);
                        }
                    }
                }
                Applied::Invalid(why) => {
                    self.invalid.inc();
                    tracing::warn!(peer = %msg.peer, %why, "bridge: invalid interest update dropped");
                }
            },
            Control::Resync(origin) => {
                let parts = if origin == self.me {
                    self.local.full(DEFAULT_UPDATE_ITEMS)
                } else {
                    self.router.interest().full(origin, DEFAULT_UPDATE_ITEMS)
                };
                let frames: Vec<Bytes> = parts.iter().filter_map(encode).collect();
                self.pace(msg.peer, frames);
            }
        }
    }
}

impl Handler<LocalInterestChanged> for BridgeTable {
    type Result = ();

    fn handle(&mut self, msg: LocalInterestChanged, _: &mut Context<Self>) {
        for (pattern, group) in &msg.add {
            self.local.subscribe(pattern, group.as_deref());
        }
        for (pattern, group) in &msg.remove {
            self.local.unsubscribe(pattern, group.as_deref());
        }
    }
}
