//! [`BridgeRouter`]: the link-state database, the routes and the interest, answering where a
//! message goes.

use std::time::Instant;

use super::{
    Applied, BridgeLimits, GroupMembers, HubId, InterestDb, InterestUpdate, LinkState, LinkStateDb,
    Routes,
};
use crate::pubsub::Channel;

/// One hub's routing state for its bridges: what the actor owns and asks, per message, whom
/// to accept it from and where to send it.
///
/// Routes are computed again after each change of the link-state database, so the router is
/// `Sync` and a clone of it is a snapshot that any thread can ask.
#[derive(Debug, Clone)]
pub struct BridgeRouter {
    links: LinkStateDb,
    routes: Routes,
    interest: InterestDb,
}

impl BridgeRouter {
    /// A router for hub `me`, with no links yet.
    pub fn new(me: HubId, limits: &BridgeLimits) -> Self {
        let links = LinkStateDb::new(me, limits.prune_grace);
        BridgeRouter {
            routes: Routes::compute(&links),
            links,
            interest: InterestDb::new(me, limits.max_interests_per_origin),
        }
    }

    /// This hub.
    pub fn me(&self) -> HubId {
        self.links.me()
    }

    /// The link-state database.
    pub fn links(&self) -> &LinkStateDb {
        &self.links
    }

    /// The interest of the other hubs.
    pub fn interest(&self) -> &InterestDb {
        &self.interest
    }

    /// The routes for the current link state.
    pub fn routes(&self) -> &Routes {
        &self.routes
    }

    /// Records this hub's bridge neighbors now (call on every link up or down) and returns
    /// the advert to flood on every link.
    pub fn set_neighbors(&mut self, neighbors: Vec<HubId>) -> LinkState {
        let advert = self.links.own(neighbors);
        self.routes = Routes::compute(&self.links);
        advert
    }

    /// [`LinkStateDb::apply`]: `true` when the advert is new, to flood on the other links.
    pub fn apply_link_state(&mut self, advert: &LinkState) -> bool {
        let new = self.links.apply(advert);
        if new {
            self.routes = Routes::compute(&self.links);
        }
        new
    }

    /// [`InterestDb::apply`].
    pub fn apply_interest(&mut self, update: &InterestUpdate) -> Applied {
        self.interest.apply(update)
    }

    /// [`LinkStateDb::prune`], then forgets the interest of hubs without an advert. Returns
    /// the hubs dropped; the actor drops them from its [`SeenSet`](super::SeenSet) too.
    pub fn prune(&mut self, now: Instant) -> Vec<HubId> {
        let dropped = self.links.prune(now);
        if !dropped.is_empty() {
            self.routes = Routes::compute(&self.links);
        }
        let links = &self.links;
        self.interest.retain(|origin| links.contains(origin));
        dropped
    }

    /// [`Routes::accept_from`]: whether a message of `origin` that came from `neighbor` is
    /// taken.
    pub fn accept_from(&self, origin: HubId, neighbor: HubId) -> bool {
        self.routes().accept_from(origin, neighbor)
    }

    /// Where this hub sends a message of `origin` on `channel`: the children of this hub in
    /// `origin`'s tree whose subtree holds a hub with plain interest in `channel`, or one of
    /// `picked` (the hubs the origin chose for the message's queue groups, carried with it).
    /// Sorted. The lookup walks the channel in one trie of all interest, then maps each
    /// interested hub to its branch; it never scans patterns.
    pub fn targets(&self, origin: HubId, channel: &Channel, picked: &[HubId]) -> Vec<HubId> {
        let routes = self.routes();
        let children = routes.children(origin);
        if children.is_empty() {
            return Vec::new();
        }
        let mut hit = vec![false; children.len()];
        let interested = self.interest.interested_hubs(channel);
        for hub in interested.iter().chain(picked) {
            if let Some(at) = routes.branch_index(origin, *hub) {
                hit[at] = true;
            }
        }
        children
            .iter()
            .zip(hit)
            .filter_map(|(&child, hit)| hit.then_some(child))
            .collect()
    }

    /// For each queue group with a member matching `channel` on a reachable other hub, those
    /// hubs. The origin of a message prefers a member of its own; else it picks one of these
    /// hubs per group and sends the picks with the message (see [`targets`](Self::targets)).
    pub fn group_members(&self, channel: &Channel) -> Vec<GroupMembers> {
        let routes = self.routes();
        let mut groups = self.interest.group_members(channel);
        for group in &mut groups {
            group.hubs.retain(|&hub| routes.reaches(hub));
        }
        groups.retain(|group| !group.hubs.is_empty());
        groups
    }
}
