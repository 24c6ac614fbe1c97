//! The interest database takes each update once, reports gaps, repairs them from full sets
//! (parts cut by different hubs mixed), bounds each origin and refuses malformed updates.

use super::test_interest::*;
use super::*;
use crate::pubsub::Channel;

#[test]
fn the_database_takes_each_update_once_in_order() {
    let mut local = LocalInterest::new(THEM, 100);
    let mut db = InterestDb::new(ME, 100);
    local.subscribe(&p("x/*"), None);
    let first = local.take_update(10).unwrap();
    local.subscribe(&p("y"), None);
    let second = local.take_update(10).unwrap();
    assert_eq!(db.apply(&first), Applied::New);
    assert_eq!(db.apply(&first), Applied::Stale);
    assert_eq!(db.apply(&second), Applied::New);
    assert_eq!(db.apply(&first), Applied::Stale);
    assert_eq!(db.interests_of(THEM), Some(local.announced()));
    assert_eq!(db.seq_of(THEM), Some(2));
}

#[test]
fn a_gap_counts_as_everything_until_a_full_set_repairs_it() {
    let mut local = LocalInterest::new(THEM, 100);
    let mut db = InterestDb::new(ME, 100);
    let ch = Channel::parse("z").unwrap();
    local.subscribe(&p("x/*"), None);
    local.take_update(10).unwrap(); // lost
    local.subscribe(&p("y"), None);
    let second = local.take_update(10).unwrap();
    assert_eq!(db.apply(&second), Applied::Gap);
    assert!(db.is_unknown(THEM));
    assert_eq!(db.interested_hubs(&ch), [THEM]);
    assert!(
        db.full(THEM, 10).is_empty(),
        "an unsynced set is never passed on"
    );
    for part in local.full(1) {
        assert_eq!(db.apply(&part), Applied::New);
    }
    assert_eq!(db.interests_of(THEM), Some(local.announced()));
    assert!(db.interested_hubs(&ch).is_empty());
    for part in local.full(1) {
        assert_eq!(db.apply(&part), Applied::Stale, "the same full set twice");
    }
}

#[test]
fn parts_cut_by_different_hubs_can_be_mixed() {
    let mut local = LocalInterest::new(THEM, 100);
    for t in ["a", "b", "c", "d", "e"] {
        local.subscribe(&p(t), None);
    }
    drain(&mut local, 10);
    let (small, big) = (local.full(1), local.full(3)); // [a][b][c][d][e] and [a b c][d e]
    let mut db = InterestDb::new(ME, 100);
    assert_eq!(db.apply(&small[0]), Applied::New); // a
    assert_eq!(
        db.apply(&big[0]),
        Applied::Stale,
        "a first part once per version"
    );
    assert_eq!(db.apply(&small[1]), Applied::New); // b
    assert_eq!(
        db.apply(&big[1]),
        Applied::Gap,
        "d e after c, but only b is here"
    );
    let mut db = InterestDb::new(ME, 100);
    assert_eq!(db.apply(&big[0]), Applied::New); // a b c
    assert_eq!(db.apply(&small[1]), Applied::Stale); // b: had it
    assert_eq!(db.apply(&small[3]), Applied::New); // d, right after c
    assert_eq!(db.apply(&big[1]), Applied::New); // d e: starts at c, ends past d
    assert_eq!(db.interests_of(THEM), Some(local.announced()));
}

#[test]
fn an_origin_over_the_bound_counts_as_everything_and_follows_versions() {
    let mut local = LocalInterest::new(THEM, 100);
    let mut db = InterestDb::new(ME, 2);
    for t in ["a", "b", "c"] {
        local.subscribe(&p(t), Some("g"));
    }
    assert_eq!(db.apply(&local.take_update(10).unwrap()), Applied::New);
    assert!(db.is_unknown(THEM));
    assert_eq!(db.interested_hubs(&Channel::parse("q").unwrap()), [THEM]);
    assert!(
        db.group_members(&Channel::parse("a").unwrap()).is_empty(),
        "no group is claimed"
    );
    local.unsubscribe(&p("a"), Some("g"));
    assert_eq!(db.apply(&local.take_update(10).unwrap()), Applied::New);
    assert_eq!(db.seq_of(THEM), Some(2));
    local.subscribe(&p("z"), None);
    let next = local.take_update(10).unwrap();
    assert_eq!(db.apply(&next), Applied::New);
    assert_eq!(db.apply(&next), Applied::Stale);
}

#[test]
fn groups_are_listed_by_name_with_their_hubs() {
    let mut db = InterestDb::new(ME, 100);
    let update = |origin: u64, add: Vec<Interest>| InterestUpdate {
        origin: HubId(origin),
        from_seq: 0,
        to_seq: 1,
        add,
        remove: vec![],
        full: None,
    };
    db.apply(&update(3, vec![grouped("x/*", "workers"), plain("x/y")]));
    db.apply(&update(
        2,
        vec![grouped("x/**", "workers"), grouped("x/y", "audit")],
    ));
    db.apply(&update(4, vec![grouped("other", "workers")]));
    let members = db.group_members(&Channel::parse("x/y").unwrap());
    let got: Vec<(&str, &[HubId])> = members
        .iter()
        .map(|m| (m.group.as_str(), m.hubs.as_slice()))
        .collect();
    assert_eq!(
        got,
        [
            ("audit", &[HubId(2)][..]),
            ("workers", &[HubId(2), HubId(3)][..])
        ]
    );
    assert_eq!(
        db.interested_hubs(&Channel::parse("x/y").unwrap()),
        [HubId(3)]
    );
    db.retain(|origin| origin != HubId(2));
    let members = db.group_members(&Channel::parse("x/y").unwrap());
    assert_eq!(
        members,
        [GroupMembers {
            group: "workers".into(),
            hubs: vec![HubId(3)]
        }]
    );
}

#[test]
fn my_own_updates_are_stale_and_malformed_ones_refused() {
    let mut db = InterestDb::new(ME, 100);
    let good = InterestUpdate {
        origin: ME,
        from_seq: 0,
        to_seq: 1,
        add: vec![plain("a")],
        remove: vec![],
        full: None,
    };
    assert_eq!(db.apply(&good), Applied::Stale);
    let them = |f: &dyn Fn(&mut InterestUpdate)| {
        let mut update = InterestUpdate {
            origin: THEM,
            ..good.clone()
        };
        f(&mut update);
        update
    };
    type Case = (InterestUpdate, fn(&InvalidUpdate) -> bool);
    let cases: Vec<Case> = vec![
        (them(&|u| u.to_seq = 3), |e| {
            matches!(e, InvalidUpdate::VersionJump { .. })
        }),
        (them(&|u| u.remove = vec![plain("a")]), |e| {
            matches!(e, InvalidUpdate::AddAndRemove(_))
        }),
        (them(&|u| u.add = vec![grouped("a", "")]), |e| {
            matches!(e, InvalidUpdate::Group { len: 0 })
        }),
        (
            them(&|u| {
                u.from_seq = 3;
                u.full = Some(FullPart {
                    after: None,
                    last: true,
                })
            }),
            |e| matches!(e, InvalidUpdate::PartShape { .. }),
        ),
        (
            them(&|u| {
                u.from_seq = 0;
                u.add = vec![plain("b"), plain("a")];
                u.full = Some(FullPart {
                    after: None,
                    last: true,
                });
            }),
            |e| matches!(e, InvalidUpdate::PartOrder),
        ),
        (
            them(&|u| {
                u.from_seq = 0;
                u.add = vec![];
                u.full = Some(FullPart {
                    after: Some(plain("a")),
                    last: true,
                });
            }),
            |e| matches!(e, InvalidUpdate::PartOrder),
        ),
    ];
    for (update, expected) in cases {
        match db.apply(&update) {
            Applied::Invalid(why) => assert!(expected(&why), "{update:?}: {why}"),
            other => panic!("{update:?} gave {other:?}"),
        }
    }
    assert!(db.origins().is_empty(), "nothing malformed was recorded");
}
