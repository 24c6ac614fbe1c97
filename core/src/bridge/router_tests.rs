//! A message crosses a link only toward an interested hub (or a hub picked for a queue
//! group), and interest follows subscribes, unsubscribes, new links and dead hubs.

use std::collections::BTreeSet;
use std::time::Instant;

use super::test_net::{advance, ids, Net};
use super::*;
use crate::pubsub::Channel;

fn chain() -> (Net, HubId, HubId, HubId) {
    let h = ids(3);
    let net = Net::new(&h, &[(h[0], h[1]), (h[1], h[2])]);
    (net, h[0], h[1], h[2])
}

#[test]
fn chain_forwards_to_the_subscriber_and_stops_after_it_leaves() {
    let (mut net, a, b, c) = chain();
    net.subscribe(c, "x/*", None);
    net.sync_interest();
    let delivery = net.send(a, "x/y", &[], false);
    assert_eq!(delivery.hops, [(a, b), (b, c)]);
    assert!(delivery.refused.is_empty());
    assert!(net.send(a, "z", &[], false).hops.is_empty());
    assert!(net.send(a, "x/y/z", &[], false).hops.is_empty());
    assert_eq!(net.send(b, "x/q", &[], false).hops, [(b, c)]);
    net.unsubscribe(c, "x/*", None);
    net.sync_interest();
    assert!(net.send(a, "x/y", &[], false).hops.is_empty());
}

#[test]
fn a_relay_is_passed_through_only_toward_interest() {
    // Star around b: a, c, d. Only d subscribes.
    let h = ids(4);
    let (a, b, c, d) = (h[0], h[1], h[2], h[3]);
    let mut net = Net::new(&h, &[(b, a), (b, c), (b, d)]);
    net.subscribe(d, "**", None);
    net.sync_interest();
    assert_eq!(net.send(a, "q", &[], false).hops, [(a, b), (b, d)]);
    assert_eq!(net.send(c, "q", &[], false).hops, [(c, b), (b, d)]);
    assert!(net.send(d, "q", &[], false).hops.is_empty());
}

#[test]
fn a_hub_picked_for_a_queue_group_is_reached_without_plain_interest() {
    let (mut net, a, b, c) = chain();
    net.subscribe(b, "jobs/*", Some("workers"));
    net.subscribe(c, "jobs/**", Some("workers"));
    net.sync_interest();
    let router = &net.hubs[&a].router;
    let members = router.group_members(&Channel::parse("jobs/1").unwrap());
    assert_eq!(
        members,
        [GroupMembers {
            group: "workers".into(),
            hubs: {
                let mut v = vec![b, c];
                v.sort();
                v
            }
        }]
    );
    assert!(
        net.send(a, "jobs/1", &[], false).hops.is_empty(),
        "group interest alone is not plain interest"
    );
    assert_eq!(net.send(a, "jobs/1", &[c], false).hops, [(a, b), (b, c)]);
    assert_eq!(net.send(a, "jobs/1", &[b], false).hops, [(a, b)]);
}

#[test]
fn a_new_link_brings_the_interest_of_the_other_side() {
    let h = ids(4);
    let (a, b, c, d) = (h[0], h[1], h[2], h[3]);
    let mut net = Net::new(&h, &[(a, b), (c, d)]);
    net.subscribe(d, "x", None);
    net.subscribe(d, "y", None);
    net.subscribe(d, "z", None); // three interests: two parts at test_net::ITEMS
    net.sync_interest();
    assert!(net.send(a, "x", &[], false).hops.is_empty());
    net.link_up(b, c);
    assert_eq!(net.send(a, "y", &[], false).hops, [(a, b), (b, c), (c, d)]);
    assert_eq!(
        net.hubs[&a]
            .router
            .interest()
            .interests_of(d)
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn a_dead_hubs_interest_goes_with_its_advert() {
    let h = ids(4);
    let mut net = Net::new(
        &h,
        &[(h[0], h[1]), (h[1], h[2]), (h[2], h[3]), (h[3], h[0])],
    );
    net.subscribe(h[2], "x", None);
    net.subscribe(h[3], "x", None);
    net.sync_interest();
    let everyone: BTreeSet<HubId> = [h[2], h[3]].into();
    let hops: BTreeSet<_> = net.send(h[0], "x", &[], false).hops.into_iter().collect();
    assert_eq!(hops, net.expected_hops(h[0], &everyone));
    net.kill(h[3]);
    let delivery = net.send(h[0], "x", &[], false);
    assert_eq!(delivery.hops, [(h[0], h[1]), (h[1], h[2])]);
    let t0 = Instant::now();
    net.prune_all(t0);
    net.prune_all(advance(t0, 60));
    for hub in net.hubs.values() {
        assert!(!hub.router.interest().origins().contains(&h[3]));
    }
}

#[test]
fn unknown_interest_counts_as_everything() {
    let (mut net, a, b, c) = chain();
    let router = &mut net.hubs.get_mut(&a).unwrap().router;
    let jump = InterestUpdate {
        origin: c,
        from_seq: 4,
        to_seq: 5,
        add: vec![],
        remove: vec![],
        full: None,
    };
    assert_eq!(router.apply_interest(&jump), Applied::Gap);
    assert_eq!(
        router.targets(a, &Channel::parse("anything").unwrap(), &[]),
        [b]
    );
}
