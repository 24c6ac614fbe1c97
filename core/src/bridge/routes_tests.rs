//! A message flooded along the routes reaches every hub of its origin's component exactly
//! once, in chains, stars, rings and meshes, and still does after a hub dies.

use std::collections::BTreeSet;
use std::time::Instant;

use super::test_message::assert_exactly_once_from_everywhere;
use super::test_net::{advance, ids, Net};
use super::*;

/// Edges by position into `ids(n)`.
fn topology(n: u64, pairs: &[(usize, usize)]) -> (Vec<HubId>, Vec<(HubId, HubId)>) {
    let hubs = ids(n);
    let edges = pairs.iter().map(|&(a, b)| (hubs[a], hubs[b])).collect();
    (hubs, edges)
}

fn ring(n: usize) -> Vec<(usize, usize)> {
    (0..n).map(|i| (i, (i + 1) % n)).collect()
}

fn mesh(n: usize) -> Vec<(usize, usize)> {
    (0..n)
        .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
        .collect()
}

#[test]
fn every_topology_delivers_exactly_once() {
    type Row = (&'static str, u64, Vec<(usize, usize)>);
    let table: Vec<Row> = vec![
        ("chain of 3", 3, vec![(0, 1), (1, 2)]),
        ("star of 5", 5, vec![(0, 1), (0, 2), (0, 3), (0, 4)]),
        ("ring of 3", 3, ring(3)),
        ("ring of 4", 4, ring(4)),
        ("ring of 5", 5, ring(5)),
        ("mesh of 4", 4, mesh(4)),
        (
            "two rings sharing a hub",
            5,
            vec![(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 2)],
        ),
    ];
    for (name, n, pairs) in table {
        let (hubs, edges) = topology(n, &pairs);
        let net = Net::new(&hubs, &edges);
        for hub in net.hubs.values() {
            assert_eq!(
                hub.router.routes().reachable(),
                hubs.iter()
                    .copied()
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect::<Vec<_>>(),
                "{name}"
            );
        }
        assert_exactly_once_from_everywhere(&net);
    }
}

#[test]
fn ring_of_five_trees_take_the_shorter_side() {
    let (h, edges) = topology(5, &ring(5)); // a-b-c-d-e-a
    let net = Net::new(&h, &edges);
    let routes = |hub: usize| net.hubs[&h[hub]].router.routes();
    let (a, b, c, d, e) = (h[0], h[1], h[2], h[3], h[4]);
    let mut both = vec![b, e];
    both.sort();
    assert_eq!(routes(0).children(a), both);
    assert_eq!(routes(1).children(a), [c]);
    assert_eq!(routes(4).children(a), [d]);
    assert!(routes(2).children(a).is_empty() && routes(3).children(a).is_empty());
    assert!(routes(2).accept_from(a, b) && !routes(2).accept_from(a, d));
    assert!(routes(3).accept_from(a, e) && !routes(3).accept_from(a, c));
    assert_eq!(
        routes(0).subtree(a, b),
        [b, c]
            .iter()
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );
    assert_eq!(routes(0).branch(a, d), Some(e));
    assert_eq!(routes(1).branch(a, d), None);
    assert!(routes(0).subtree(a, c).is_empty(), "c is no child of a");
}

#[test]
fn ring_of_four_breaks_the_tie_by_the_smallest_id() {
    let (h, edges) = topology(4, &ring(4));
    let net = Net::new(&h, &edges);
    let opposite = &net.hubs[&h[2]].router;
    assert_eq!(opposite.routes().parent(h[0]), Some(h[1].min(h[3])));
}

#[test]
fn nothing_of_my_own_or_of_strangers_is_accepted() {
    let (h, edges) = topology(3, &[(0, 1), (1, 2)]);
    let net = Net::new(&h, &edges);
    let middle = net.hubs[&h[1]].router.routes();
    for &n in &[h[0], h[2]] {
        assert!(!middle.accept_from(h[1], n));
    }
    assert!(!middle.accept_from(HubId(999_999), h[0]));
    assert!(middle.children(HubId(999_999)).is_empty());
    assert_eq!(middle.children(h[1]), {
        let mut v = vec![h[0], h[2]];
        v.sort();
        v
    });
}

#[test]
fn a_dead_hub_leaves_the_rest_exactly_once_and_its_advert_is_pruned() {
    for (n, pairs, dead) in [
        (5, ring(5), 2),
        (4, mesh(4), 0),
        (5, vec![(0, 1), (0, 2), (0, 3), (0, 4)], 3),
    ] {
        let (h, edges) = topology(n, &pairs);
        let mut net = Net::new(&h, &edges);
        net.kill(h[dead]);
        for hub in net.hubs.values() {
            assert!(
                hub.router.links().contains(h[dead]),
                "the stale advert is still held"
            );
            assert!(!hub.router.routes().reaches(h[dead]));
        }
        assert_exactly_once_from_everywhere(&net);
        let t0 = Instant::now();
        net.prune_all(t0);
        net.prune_all(advance(t0, 60));
        for hub in net.hubs.values() {
            assert!(!hub.router.links().contains(h[dead]));
            assert_eq!(
                hub.router.links().len(),
                n as usize - 1,
                "the living are all kept"
            );
        }
        assert_exactly_once_from_everywhere(&net);
    }
}

#[test]
fn a_partition_delivers_within_each_side_and_prunes_the_other() {
    // 0-1-2-3-4: killing 2 leaves {0,1} and {3,4}.
    let (h, edges) = topology(5, &[(0, 1), (1, 2), (2, 3), (3, 4)]);
    let mut net = Net::new(&h, &edges);
    net.kill(h[2]);
    assert_exactly_once_from_everywhere(&net);
    assert!(net.send(h[0], "x", &[], true).received.keys().eq([&h[1]]));
    let t0 = Instant::now();
    net.prune_all(t0);
    net.prune_all(advance(t0, 60));
    assert_eq!(net.hubs[&h[0]].router.links().len(), 2);
    assert_eq!(net.hubs[&h[4]].router.links().len(), 2);
    // The link heals elsewhere: 1-3. Everyone is one component again.
    net.link_up(h[1], h[3]);
    assert_exactly_once_from_everywhere(&net);
    assert_eq!(net.hubs[&h[0]].router.routes().reachable().len(), 4);
}

#[test]
fn routes_are_recomputed_only_when_the_links_change() {
    let (h, edges) = topology(3, &[(0, 1), (1, 2)]);
    let mut net = Net::new(&h, &edges);
    let router = &mut net.hubs.get_mut(&h[0]).unwrap().router;
    let generation = router.routes().generation();
    assert_eq!(generation, router.links().generation());
    let stale = router.links().get(h[1]).unwrap().clone();
    assert!(!router.apply_link_state(&stale));
    assert_eq!(router.routes().generation(), generation);
    router.set_neighbors(vec![]);
    assert_eq!(router.routes().generation(), router.links().generation());
    assert!(router.routes().children(h[0]).is_empty());
}
