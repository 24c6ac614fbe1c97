//! The routing brain of bridges: hubs joined in any shape (chain, star, ring, full mesh) so
//! that a publish reaches every interested subscriber on any hub once while links hold, and
//! never goes round in a loop. Plain values only; the bridge actor owns them.
//!
//! # Mechanism
//! 1. **Link state.** Each hub floods a [`LinkState`] advert of its bridge neighbors, with a
//!    sequence number; every hub keeps the newest advert per hub in a [`LinkStateDb`], so all
//!    hubs come to hold the same map. An edge counts only when both ends list each other.
//! 2. **One tree per origin.** From the map, [`Routes`] gives each origin's shortest-path tree
//!    (ties broken by the smallest [`HubId`]), the same on every hub. A message of origin `O`
//!    is accepted only from the parent in `O`'s tree and sent on only to children in it.
//! 3. **Interest.** Each hub announces its own clients' patterns ([`LocalInterest`]) as
//!    versioned, coalesced deltas, flooded like adverts into every hub's [`InterestDb`].
//! 4. **Forwarding.** [`BridgeRouter::targets`] sends a message only to the children whose
//!    subtree holds an interested hub, so it crosses a link only if someone beyond wants it.
//! 5. **Backstop.** A [`SeenSet`] per hub drops a message it has had (a sliding window of
//!    sequence numbers per origin), for the moments when hubs' maps disagree.
//!
//! For the origin `a` in the ring `a-b-c-d-e-a` the tree is below: `c` is two hops away
//! through `b` and three through `e`, so its parent is `b`. In a ring of four, the hub
//! opposite the origin is two hops away both ways and takes the smaller id as its parent.
//!
//! ```text
//!        a
//!       / \
//!      b   e
//!      |   |
//!      c   d
//! ```
//!
//! # Why link state
//! With distance vectors each hub would learn interest from its neighbors' summaries; in a
//! ring a withdrawn subscription could keep coming back round from the other side (counting to
//! infinity), and a message could reach a hub along two paths. With the whole map on every hub
//! and one tree per origin there is exactly one path from an origin to each hub, and interest
//! is always the origin's own, versioned, never a neighbor's hearsay.
//!
//! # What the actor does
//! - **Link up or down:** [`BridgeRouter::set_neighbors`] and flood the advert on every link.
//!   On a new link, send [`LinkStateDb::all`] first, then [`LocalInterest::full`] and
//!   [`InterestDb::full_all`]: adverts before interest, so an origin is known before its
//!   interest arrives.
//! - **Advert received:** [`BridgeRouter::apply_link_state`]; if `true`, flood it on the other
//!   links. Then [`BridgeRouter::prune`] (also on a timer) and drop the pruned hubs from the
//!   [`SeenSet`].
//! - **Interest update received:** [`BridgeRouter::apply_interest`]: [`Applied::New`] floods
//!   it on the other links; [`Applied::Gap`] asks the link it came from for the origin's full
//!   set, answered with [`InterestDb::full`] (or [`LocalInterest::full`] for the answering
//!   hub's own); keep one request per origin outstanding.
//! - **Timer:** [`LocalInterest::take_update`] until `None`, flooding each on every link. The
//!   timer is the rate limit; changes within one tick coalesce.
//! - **Publish:** number the message per origin, pick one hub per queue group from
//!   [`BridgeRouter::group_members`] when no local member has it, and send it with the picks
//!   to [`BridgeRouter::targets`].
//! - **Message received from a neighbor:** keep it only if [`BridgeRouter::accept_from`] and
//!   then [`SeenSet::first_time`]; deliver it to local plain subscribers (and to one local
//!   member of each group this hub was picked for), then send it on to `targets` with the
//!   same picks.
//!
//! # Limits
//! Exactly once holds while the hubs' databases agree. While a change floods, two hubs may
//! briefly disagree about a tree: a message may then be dropped by a hub that no longer
//! counts the sender as its parent (lost while a path is repaired: at most once, like the hub
//! itself), and a duplicate is caught by the [`SeenSet`] within its window. Interest that is
//! not known for sure (a gap, a full set coming in, an origin over its bound) counts as
//! interest in everything: more traffic, never a loss. Adverts of unreachable hubs are kept
//! for a grace period ([`BridgeLimits::prune_grace`]) before they are dropped.
//!
//! ```
//! use hubwire_core::bridge::{BridgeLimits, BridgeRouter, HubId, LocalInterest};
//! use hubwire_core::pubsub::{Channel, Pattern};
//!
//! let (a, b) = (HubId(1), HubId(2));
//! let limits = BridgeLimits::default();
//! let mut router_a = BridgeRouter::new(a, &limits);
//! let mut router_b = BridgeRouter::new(b, &limits);
//! // The link comes up: each side advertises it and the other takes the advert.
//! let advert_a = router_a.set_neighbors(vec![b]);
//! let advert_b = router_b.set_neighbors(vec![a]);
//! assert!(router_a.apply_link_state(&advert_b));
//! assert!(router_b.apply_link_state(&advert_a));
//!
//! // A client of b subscribes; b announces it.
//! let mut local_b = LocalInterest::new(b, limits.max_interests_per_origin);
//! local_b.subscribe(&Pattern::parse("x/*").unwrap(), None);
//! let update = local_b.take_update(256).unwrap();
//! router_a.apply_interest(&update);
//!
//! assert_eq!(router_a.targets(a, &Channel::parse("x/y").unwrap(), &[]), [b]);
//! assert!(router_a.targets(a, &Channel::parse("z").unwrap(), &[]).is_empty());
//! assert!(router_b.accept_from(a, a));
//! ```

pub mod auth;
mod id;
mod interest;
mod interest_db;
mod interest_index;
mod limits;
mod link_state;
mod local_interest;
mod reply_routes;
mod router;
mod routes;
mod seen;

#[cfg(test)]
mod interest_db_tests;
#[cfg(test)]
mod interest_props;
#[cfg(test)]
mod link_state_tests;
#[cfg(test)]
mod local_interest_tests;
#[cfg(test)]
mod reply_routes_tests;
#[cfg(test)]
mod router_tests;
#[cfg(test)]
mod routes_props;
#[cfg(test)]
mod routes_tests;
#[cfg(test)]
mod seen_tests;
#[cfg(test)]
mod test_interest;
#[cfg(test)]
mod test_message;
#[cfg(test)]
mod test_net;

pub use id::HubId;
pub use interest::{Applied, FullPart, Interest, InterestUpdate, InvalidUpdate};
pub use interest_db::InterestDb;
pub use interest_index::GroupMembers;
pub use limits::{
    BridgeLimits, DEFAULT_MAX_INTERESTS_PER_ORIGIN, DEFAULT_MAX_OUTBOUND_BYTES,
    DEFAULT_PRUNE_GRACE, DEFAULT_UPDATE_ITEMS, MAX_ADVERT_NEIGHBORS, SEEN_WINDOW,
};
pub use link_state::{LinkState, LinkStateDb};
pub use local_interest::LocalInterest;
pub use reply_routes::{ReplyRoutes, DEFAULT_REPLY_ROUTES, DEFAULT_REPLY_ROUTE_AGE};
pub use router::BridgeRouter;
pub use routes::Routes;
pub use seen::SeenSet;
