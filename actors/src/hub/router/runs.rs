//! Publishes routed in runs. A client streaming to one channel sends many publishes per read;
//! routed one by one, each pays for the match, the peer table's lock and, per subscriber, the
//! buffer's and the book's locks. A run (consecutive publishes to one channel with the same
//! flags, none a call) is matched once, and each subscriber takes the whole run under one
//! lock of its buffer, in order, held to its bounds message by message.

use hubwire_core::protocol::{MessageFlags, Publish};

use super::{choose, no_echo, ConnId, Hub, Routing, Stalled, NO_GROUP};

/// Publishes a connection gathers from a read before it routes them, at most.
pub const MAX_GATHERED: usize = 256;

impl Hub {
    /// Routes `publishes` from `from` in order, as [`publish_paced`](Hub::publish_paced) routes
    /// each: the same deliveries, retained messages, bridging and no-responders answers, runs
    /// of them matched once and written under one lock per subscriber.
    pub fn publish_all(&self, from: ConnId, publishes: &[Publish]) -> Option<Stalled> {
        let mut routing = Routing {
            stalled: None,
            lone: publishes.len() == 1,
        };
        let mut rest = publishes;
        while !rest.is_empty() {
            let (run, after) = rest.split_at(run_length(rest));
            rest = after;
            if !self.route_run(from, run, &mut routing) {
                for publish in run {
                    self.route(from, publish, &mut routing);
                }
            }
        }
        self.stalled(routing.stalled)
    }

    /// Routes a run (see [`run_length`]) as one, if it can be: more than one publish, a
    /// subscriber to deliver to, and no queue group among them (a member is picked per
    /// message). Answers whether it did; if not, nothing was done.
    fn route_run(&self, from: ConnId, run: &[Publish], routing: &mut Routing) -> bool {
        if run.len() < 2 {
            return false;
        }
        let first = &run[0];
        self.with_matches(&first.channel, |matched| {
            let routable = !matched.is_empty() && matched.iter().all(|s| s.group == NO_GROUP);
            if routable {
                self.counters.published.add(run.len() as u64);
                choose(matched, |s| !(no_echo(first) && s.conn == from));
                self.deliver_to(run, matched, routing);
                for publish in run {
                    self.bridge(publish);
                }
            }
            routable
        })
    }
}

/// How many publishes at the head of `publishes` form a run: the same channel and flags, no
/// reply subject (a call may be answered no-responders, one by one) and not retained.
fn run_length(publishes: &[Publish]) -> usize {
    let first = &publishes[0];
    let plain = |p: &Publish| p.reply_to.is_none() && !p.flags.contains(MessageFlags::RETAIN);
    if !plain(first) {
        return 1;
    }
    1 + publishes[1..]
        .iter()
        .take_while(|p| plain(p) && p.flags == first.flags && p.channel == first.channel)
        .count()
}
