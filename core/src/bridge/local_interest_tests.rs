//! Local interest is counted per interest, coalesced between updates, bounded per update and
//! summarized past its bound, with removals first so a receiver never overflows on the way.

use super::test_interest::*;
use super::*;
use crate::pubsub::Channel;

#[test]
fn subscriptions_are_counted_per_interest() {
    let mut local = LocalInterest::new(THEM, 100);
    local.subscribe(&p("a"), None);
    local.subscribe(&p("a"), None);
    local.subscribe(&p("a"), Some("g"));
    assert_eq!(local.len(), 2);
    let update = local.take_update(10).unwrap();
    assert_eq!(update.add, [plain("a"), grouped("a", "g")]);
    assert!(local.unsubscribe(&p("a"), None));
    assert!(
        local.take_update(10).is_none(),
        "one subscriber of `a` is left"
    );
    assert!(local.unsubscribe(&p("a"), None));
    assert!(!local.unsubscribe(&p("a"), None));
    let update = local.take_update(10).unwrap();
    assert_eq!((update.from_seq, update.to_seq), (1, 2));
    assert_eq!((update.add.len(), update.remove), (0, vec![plain("a")]));
}

#[test]
fn a_subscribe_and_unsubscribe_between_updates_cancel_out() {
    let mut local = LocalInterest::new(THEM, 100);
    local.subscribe(&p("a"), None);
    local.unsubscribe(&p("a"), None);
    assert!(local.take_update(10).is_none());
    assert_eq!(local.seq(), 0, "no version is spent on nothing");
    local.subscribe(&p("b"), None);
    local.take_update(10).unwrap();
    local.unsubscribe(&p("b"), None);
    local.subscribe(&p("b"), None);
    assert!(local.take_update(10).is_none());
}

#[test]
fn updates_are_bounded_and_the_rest_follows() {
    let mut local = LocalInterest::new(THEM, 100);
    for i in 0..5 {
        local.subscribe(&p(&format!("t{i}")), None);
    }
    let updates = drain(&mut local, 2);
    assert_eq!(
        updates.iter().map(|u| u.add.len()).collect::<Vec<_>>(),
        [2, 2, 1]
    );
    assert_eq!(
        updates.iter().map(|u| u.to_seq).collect::<Vec<_>>(),
        [1, 2, 3]
    );
}

#[test]
fn past_the_bound_each_group_is_summarized_as_everything() {
    let mut local = LocalInterest::new(THEM, 3);
    let mut db = InterestDb::new(ME, 3);
    for i in 0..3 {
        local.subscribe(&p(&format!("t{i}")), None);
    }
    local.subscribe(&p("q"), Some("g"));
    assert!(local.is_summarized());
    for update in drain(&mut local, 2) {
        assert_eq!(db.apply(&update), Applied::New);
    }
    let summary = [
        Interest::everything(None),
        Interest::everything(Some("g".into())),
    ];
    assert_eq!(
        local.announced().iter().cloned().collect::<Vec<_>>(),
        summary
    );
    assert_eq!(db.interests_of(THEM), Some(local.announced()));
    assert_eq!(
        db.interested_hubs(&Channel::parse("any/thing").unwrap()),
        [THEM]
    );
    local.unsubscribe(&p("t0"), None);
    local.unsubscribe(&p("t1"), None);
    for update in drain(&mut local, 2) {
        assert_eq!(db.apply(&update), Applied::New);
    }
    assert_eq!(
        local.announced().iter().cloned().collect::<Vec<_>>(),
        [grouped("q", "g"), plain("t2")]
    );
    assert_eq!(db.interests_of(THEM), Some(local.announced()));
}

#[test]
fn an_empty_set_is_one_part() {
    let local = LocalInterest::new(THEM, 100);
    let parts = local.full(10);
    assert_eq!(parts.len(), 1);
    assert_eq!(
        parts[0].full,
        Some(FullPart {
            after: None,
            last: true
        })
    );
    let mut db = InterestDb::new(ME, 100);
    assert_eq!(
        db.apply(&parts[0]),
        Applied::Stale,
        "version 0 is known: empty"
    );
}
