//! [`Bridges`]: what a hub's connections and links share to forward messages between hubs:
//! the table's newest [`BridgeView`], this hub's message numbering and the seen window.
//!
//! Forwarding runs on the thread of the connection or link that has the message, like local
//! delivery: a publish is numbered, matched against the interest beyond each link, encoded
//! once and appended to the chosen links' outbound buffers. A message from a link is taken
//! only from its origin's parent link and only once (the seen window), delivered to this
//! hub's subscribers, and sent on down its origin's tree.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix::{Actor, Addr, Arbiter};
use bytes::BytesMut;
use hubwire_core::bridge::{BridgeLimits, HubId, ReplyRoutes, SeenSet};
use hubwire_core::config::Secret;
use hubwire_core::protocol::{
    write_bridge_frame, BridgeMessage, Envelope, Frame, MessageFlags, ProtocolError, Publish,
    LENGTH_BYTES, MAX_HOPS,
};
use hubwire_core::pubsub::Channel;
use hubwire_core::stats::{Counter, StatsRegistry};
use tokio::sync::watch;

use super::sink::{BoundedSink, FrameSink};
use super::table::{lock, BridgeTable, BridgeView};
use crate::hub::Hub;

/// A hub's bridges (cheap to clone).
#[derive(Clone)]
pub struct Bridges {
    me: HubId,
    name: String,
    secret: Secret,
    table: Addr<BridgeTable>,
    views: watch::Receiver<Arc<BridgeView>>,
    next_seq: Arc<AtomicU64>,
    seen: Arc<Mutex<SeenSet>>,
    /// Where answers to calls that came over a bridge go back to.
    replies: Arc<Mutex<ReplyRoutes>>,
    max_frame: usize,
    /// Bytes a link may owe its peer before the peer is taken for frozen.
    max_outbound_bytes: usize,
    registry: StatsRegistry,
    too_large: Counter,
    frozen: Counter,
}

impl std::fmt::Debug for Bridges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bridges")
            .field("me", &self.me)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Bridges {
    /// Starts the bridge table of a hub named `name` (its first listen address) that admits
    /// bridges with `secret`, on the current arbiter; a new random hub id.
    pub fn start(
        name: String,
        secret: Secret,
        max_frame: usize,
        limits: &BridgeLimits,
        registry: &StatsRegistry,
    ) -> Bridges {
        let me = HubId(fastrand::u64(1..));
        let seen = Arc::new(Mutex::new(SeenSet::default()));
        let (table, views) = BridgeTable::new(me, limits, seen.clone(), registry);
        let table = BridgeTable::start_in_arbiter(&Arbiter::current(), |_| table);
        Bridges {
            me,
            name,
            secret,
            table,
            views,
            next_seq: Arc::new(AtomicU64::new(0)),
            seen,
            replies: Arc::default(),
            max_frame,
            max_outbound_bytes: limits.max_outbound_bytes,
            registry: registry.clone(),
            too_large: registry.counter("bridge.too_large", &[]),
            frozen: registry.counter("bridge.frozen", &[]),
        }
    }

    /// `sink`, held to the bound of what a link may owe its peer.
    pub fn bounded(&self, sink: Arc<dyn FrameSink>) -> Arc<BoundedSink> {
        Arc::new(BoundedSink::new(
            sink,
            self.max_outbound_bytes,
            self.frozen.clone(),
        ))
    }

    /// This hub's id among bridged hubs.
    pub fn me(&self) -> HubId {
        self.me
    }

    /// How this hub names itself to the hubs it dials.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The shared secret links prove they know.
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// The table actor.
    pub fn table(&self) -> &Addr<BridgeTable> {
        &self.table
    }

    /// The registry bridge figures go to.
    pub fn registry(&self) -> &StatsRegistry {
        &self.registry
    }

    /// The newest view.
    pub fn view(&self) -> Arc<BridgeView> {
        self.views.borrow().clone()
    }

    /// The largest frame a link takes.
    pub fn max_frame(&self) -> usize {
        self.max_frame
    }

    /// Sends a publish of one of this hub's own clients to the bridges beyond which someone
    /// is interested, with `picks` (queue groups this hub could not serve, and the hub picked
    /// for each); answers how many links it went to.
    pub fn forward_local(&self, publish: &Publish, picks: &[(String, HubId)]) -> usize {
        let view = self.view();
        if view.links.is_empty() {
            return 0;
        }
        let mut picks = Cow::Borrowed(picks);
        if let Some(caller) = self.caller_of(publish) {
            picks.to_mut().push((String::new(), caller));
        }
        let picked: Vec<HubId> = picks.iter().map(|(_, hub)| *hub).collect();
        let targets = view.router.targets(self.me, &publish.channel, &picked);
        if targets.is_empty() {
            return 0;
        }
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed) + 1;
        self.send(&view, None, &targets, &publish.channel, |out| {
            write_bridge_frame(self.me, seq, 0, &picks, publish, out)
        })
    }

    /// For an answer (ACK, REPLY, ERROR) to a call that came over a bridge, the caller's hub:
    /// the answer is addressed to it (a pick with no group), so it gets there even before the
    /// caller's inbox interest has. The reply or error that ends the call forgets the route.
    fn caller_of(&self, publish: &Publish) -> Option<HubId> {
        if !publish.flags.intersects(MessageFlags::STATUS) {
            return None;
        }
        let last = publish
            .flags
            .intersects(MessageFlags::REPLY.union(MessageFlags::ERROR));
        lock(&self.replies)
            .route(&publish.channel, last, Instant::now())
            .filter(|&hub| hub != self.me)
    }

    /// Takes a BRIDGE_MESSAGE that came from `from`: delivers it here and sends it on, if it
    /// came from its origin's parent and for the first time.
    pub fn on_message(&self, hub: &Hub, from: HubId, frame: &Frame) -> Result<(), ProtocolError> {
        let message = BridgeMessage::from_frame(frame)?;
        let view = self.view();
        let Some(link) = view.links.get(&from) else {
            return Ok(());
        };
        link.stats.messages_in.inc();
        link.stats.bytes_in.add(frame.payload.len() as u64);
        let origin = message.origin;
        let on_path =
            origin != self.me && message.hops < MAX_HOPS && view.router.accept_from(origin, from);
        if !on_path || !lock(&self.seen).first_time(origin, message.seq) {
            link.stats.duplicates.inc();
            return Ok(());
        }
        let channel = &message.publish.channel;
        if link.filter.as_ref().is_some_and(|f| !f.imports(channel)) {
            return Ok(());
        }
        if let Some(reply_to) = message.publish.reply_to.as_ref() {
            if message.publish.flags.contains(MessageFlags::REQUEST) {
                lock(&self.replies).remember(reply_to, origin, Instant::now());
            }
        }
        hub.deliver_bridged(&message.publish, &message.picks, self.me);
        if view.links.len() < 2 {
            // Only the link it came on: nowhere to send it on.
            return Ok(());
        }
        let picked: Vec<HubId> = message.picks.iter().map(|(_, hub)| *hub).collect();
        let targets = view.router.targets(origin, channel, &picked);
        let hops = message.hops.saturating_add(1);
        let BridgeMessage {
            seq,
            picks,
            publish,
            ..
        } = &message;
        self.send(&view, Some(from), &targets, channel, |out| {
            write_bridge_frame(origin, *seq, hops, picks, publish, out)
        });
        Ok(())
    }

    /// Encodes a message once (into a reused buffer) and appends it to every target link
    /// (not `from`) whose export filter lets it through; answers how many took it.
    fn send(
        &self,
        view: &BridgeView,
        from: Option<HubId>,
        targets: &[HubId],
        channel: &Channel,
        encode: impl FnOnce(&mut BytesMut) -> Result<(), ProtocolError>,
    ) -> usize {
        if targets.iter().all(|t| Some(*t) == from) {
            return 0;
        }
        SCRATCH.with_borrow_mut(|frame| {
            frame.clear();
            match encode(frame) {
                Ok(()) if frame.len() - LENGTH_BYTES <= self.max_frame => {
                    push_to(view, from, targets, frame, channel)
                }
                Ok(()) => {
                    self.too_large.inc();
                    0
                }
                Err(e) => {
                    tracing::warn!(error = %e, "bridge: cannot encode a message");
                    0
                }
            }
        })
    }
}

/// Appends `frame` to every target link (not `from`) whose export filter lets `channel` out.
fn push_to(
    view: &BridgeView,
    from: Option<HubId>,
    targets: &[HubId],
    frame: &[u8],
    channel: &Channel,
) -> usize {
    let mut sent = 0;
    for target in targets {
        if Some(*target) == from {
            continue;
        }
        let Some(link) = view.links.get(target) else {
            continue;
        };
        if link.filter.as_ref().is_some_and(|f| !f.exports(channel)) {
            continue;
        }
        if link.sink.push_frame(frame) {
            link.stats.messages_out.inc();
            link.stats.bytes_out.add(frame.len() as u64);
            sent += 1;
        }
    }
    sent
}

thread_local! {
    /// Where a message is encoded before it is appended to its links: reused, so forwarding
    /// allocates nothing per message.
    static SCRATCH: std::cell::RefCell<BytesMut> = std::cell::RefCell::new(BytesMut::new());
}
