//! The link-state database takes only newer adverts, counts an edge only when both ends list
//! it, and prunes unreachable hubs after the grace period but never a reachable one.

use std::time::{Duration, Instant};

use super::*;

const GRACE: Duration = Duration::from_secs(30);

fn advert(origin: u64, seq: u64, neighbors: &[u64]) -> LinkState {
    LinkState {
        origin: HubId(origin),
        seq,
        neighbors: neighbors.iter().map(|&n| HubId(n)).collect(),
    }
}

fn db_of(me: u64) -> LinkStateDb {
    LinkStateDb::new(HubId(me), GRACE)
}

#[test]
fn newer_seq_wins_and_older_or_equal_is_ignored() {
    let mut db = db_of(1);
    assert!(db.apply(&advert(2, 5, &[1])));
    let generation = db.generation();
    assert!(!db.apply(&advert(2, 4, &[1, 3])));
    assert!(!db.apply(&advert(2, 5, &[3])));
    assert_eq!(db.get(HubId(2)).unwrap().neighbors, [HubId(1)]);
    assert_eq!(
        db.generation(),
        generation,
        "ignored adverts change nothing"
    );
    assert!(db.apply(&advert(2, 6, &[3])));
    assert_eq!(db.get(HubId(2)).unwrap().neighbors, [HubId(3)]);
    assert!(db.generation() > generation);
}

#[test]
fn one_sided_edge_is_no_edge() {
    let mut db = db_of(1);
    db.own(vec![HubId(2)]);
    assert!(db.apply(&advert(2, 1, &[3]))); // 2 does not list 1
    assert!(db.apply(&advert(3, 1, &[2])));
    assert!(!db.linked(HubId(1), HubId(2)));
    assert!(db.linked(HubId(2), HubId(3)));
    assert_eq!(db.reachable(), [HubId(1)]);
    assert!(db.apply(&advert(2, 2, &[1, 3])));
    assert_eq!(db.reachable(), [HubId(1), HubId(2), HubId(3)]);
    assert_eq!(db.linked_neighbors(HubId(2)), [HubId(1), HubId(3)]);
}

#[test]
fn own_adverts_count_up_and_are_normalized() {
    let mut db = db_of(1);
    let first = db.own(vec![HubId(3), HubId(2), HubId(3), HubId(1)]);
    assert_eq!(first, advert(1, 1, &[2, 3]));
    assert_eq!(db.own(vec![]).seq, 2);
    assert_eq!(db.all(), [advert(1, 2, &[])]);
}

#[test]
fn an_advert_about_me_is_not_taken_but_outbid() {
    let mut db = db_of(1);
    db.own(vec![HubId(2)]);
    assert!(!db.apply(&advert(1, 9, &[7])));
    assert_eq!(db.get(HubId(1)).unwrap().neighbors, [HubId(2)]);
    assert_eq!(db.own(vec![HubId(2)]).seq, 10);
}

#[test]
fn an_oversized_advert_is_refused() {
    let mut db = db_of(1);
    let wide: Vec<u64> = (2..MAX_ADVERT_NEIGHBORS as u64 + 3).collect();
    assert!(!db.apply(&advert(2, 1, &wide)));
    assert!(!db.contains(HubId(2)));
}

#[test]
fn prune_keeps_every_reachable_hub_and_drops_the_rest_after_the_grace() {
    // Chain 1-2-3-4, and 5: a hub 4 no longer lists (its stale advert still lists 4).
    let mut db = db_of(1);
    db.own(vec![HubId(2)]);
    db.apply(&advert(2, 1, &[1, 3]));
    db.apply(&advert(3, 1, &[2, 4]));
    db.apply(&advert(4, 2, &[3]));
    db.apply(&advert(5, 1, &[4]));
    let t0 = Instant::now();
    assert!(db.prune(t0).is_empty(), "nothing dropped before the grace");
    assert!(db.prune(t0 + GRACE / 2).is_empty());
    assert_eq!(db.prune(t0 + GRACE), [HubId(5)]);
    assert_eq!(db.len(), 4, "hubs two and three hops away are kept");
    assert!(db.prune(t0 + GRACE * 10).is_empty());
    assert!(db.contains(HubId(4)));
}

#[test]
fn prune_does_not_drop_a_joiner_whose_neighbor_advert_is_late() {
    // 3 joins by linking to 2; 3's advert arrives before 2's advert that lists 3.
    let mut db = db_of(1);
    db.own(vec![HubId(2)]);
    db.apply(&advert(2, 1, &[1]));
    db.apply(&advert(3, 1, &[2]));
    let t0 = Instant::now();
    assert!(db.prune(t0).is_empty());
    db.apply(&advert(2, 2, &[1, 3]));
    assert!(db.prune(t0 + GRACE * 2).is_empty());
    assert_eq!(db.reachable(), [HubId(1), HubId(2), HubId(3)]);
}

#[test]
fn a_hub_unreachable_then_reachable_restarts_its_grace() {
    let mut db = db_of(1);
    db.own(vec![HubId(2)]);
    db.apply(&advert(2, 1, &[]));
    let t0 = Instant::now();
    db.prune(t0);
    db.apply(&advert(2, 2, &[1]));
    db.prune(t0 + GRACE / 2); // reachable: the clock resets
    db.apply(&advert(2, 3, &[]));
    assert!(
        db.prune(t0 + GRACE).is_empty(),
        "the grace starts again from this call"
    );
    assert_eq!(db.prune(t0 + GRACE * 2), [HubId(2)]);
}
