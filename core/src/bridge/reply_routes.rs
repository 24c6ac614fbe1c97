//! [`ReplyRoutes`]: which hub the answers to a call from beyond the bridges go back to, so
//! that they find their caller before its inbox interest has spread.
//!
//! A caller's inbox is an ordinary subscription, announced at the next interest tick of its
//! hub and then a tick per hop. A call travels at once, so a provider a few hops away can
//! answer before its hub has heard of the inbox. A hub that takes a call from a bridge
//! therefore remembers "answers on this reply-to go to the call's origin hub"; an answer
//! published here carries that hub as a pick (an empty group: addressed to the hub, not to a
//! queue group) and is routed there like any pick, interest or not.
//!
//! Bounded in entries and age: once interest has spread (tens of milliseconds) the entry is
//! no longer needed, so losing the oldest to the bound costs nothing but a fallback to
//! interest routing.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::HubId;
use crate::pubsub::Channel;

/// How many calls' reply-tos a hub remembers by default.
pub const DEFAULT_REPLY_ROUTES: usize = 16_384;

/// How long a hub remembers a reply-to by default.
pub const DEFAULT_REPLY_ROUTE_AGE: Duration = Duration::from_secs(60);

/// Reply-to channel -> the hub of the call's caller, bounded in count and age.
#[derive(Debug)]
pub struct ReplyRoutes {
    routes: HashMap<Channel, Route>,
    /// Reply-tos in the order remembered, with their entry's stamp: the oldest go first.
    pub(super) order: VecDeque<(Channel, u64)>,
    capacity: usize,
    max_age: Duration,
    next_stamp: u64,
}

#[derive(Debug, Clone, Copy)]
struct Route {
    hub: HubId,
    at: Instant,
    stamp: u64,
}

impl Default for ReplyRoutes {
    fn default() -> Self {
        ReplyRoutes::new(DEFAULT_REPLY_ROUTES, DEFAULT_REPLY_ROUTE_AGE)
    }
}

impl ReplyRoutes {
    /// Remembers at most `capacity` reply-tos, each for at most `max_age`.
    pub fn new(capacity: usize, max_age: Duration) -> Self {
        ReplyRoutes {
            routes: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
            max_age,
            next_stamp: 0,
        }
    }

    /// How many reply-tos are remembered.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Answers on `reply_to` go to `hub` (a call from `hub` arrived at `now`); the same
    /// reply-to again replaces the older route.
    pub fn remember(&mut self, reply_to: &Channel, hub: HubId, now: Instant) {
        self.expire(now);
        self.routes.remove(reply_to);
        while self.routes.len() >= self.capacity {
            if !self.drop_oldest() {
                break;
            }
        }
        self.next_stamp += 1;
        let stamp = self.next_stamp;
        self.routes.insert(
            reply_to.clone(),
            Route {
                hub,
                at: now,
                stamp,
            },
        );
        self.order.push_back((reply_to.clone(), stamp));
        if self.order.len() > 2 * self.capacity {
            // Answered calls leave their order entries behind a live older one: sweep them.
            let routes = &self.routes;
            self.order
                .retain(|(channel, stamp)| routes.get(channel).is_some_and(|r| r.stamp == *stamp));
        }
    }

    /// The hub answers on `channel` go to, if a call left one here and it is not too old.
    /// A `last` answer (the reply or error that ends the call) forgets the route.
    pub fn route(&mut self, channel: &Channel, last: bool, now: Instant) -> Option<HubId> {
        let route = *self.routes.get(channel)?;
        let fresh = now.saturating_duration_since(route.at) <= self.max_age;
        if last || !fresh {
            self.routes.remove(channel);
        }
        fresh.then_some(route.hub)
    }

    /// Drops the routes older than the age bound.
    fn expire(&mut self, now: Instant) {
        while let Some((channel, stamp)) = self.order.front() {
            match self.routes.get(channel) {
                Some(route) if route.stamp == *stamp => {
                    if now.saturating_duration_since(route.at) <= self.max_age {
                        return;
                    }
                    self.routes.remove(channel);
                }
                // Answered, replaced or forgotten already: only the order entry is left.
                _ => {}
            }
            self.order.pop_front();
        }
    }

    /// Drops the oldest live route; `false` if there is none.
    fn drop_oldest(&mut self) -> bool {
        while let Some((channel, stamp)) = self.order.pop_front() {
            if self.routes.get(&channel).is_some_and(|r| r.stamp == stamp) {
                self.routes.remove(&channel);
                return true;
            }
        }
        false
    }
}
