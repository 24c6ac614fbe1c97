//! Property tests: an interest database fed a hub's updates in order holds exactly what the
//! hub announced after every update, duplicates are stale, a lost update is a gap that a full
//! set repairs, and whenever the database calls a set known, it is the right one.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;
use crate::pubsub::Pattern;

const ME: HubId = HubId(1);
const THEM: HubId = HubId(2);
const PATTERNS: [&str; 5] = ["a", "b", "a/*", "**", "c/**"];
const GROUPS: [Option<&str>; 3] = [None, Some("g"), Some("h")];

#[derive(Debug, Clone)]
enum Op {
    Subscribe(usize, usize),
    Unsubscribe(usize, usize),
    /// Take updates of at most this many items and deliver them.
    Take(usize),
    /// Take one update and lose it.
    Lose,
    /// Deliver an earlier update again.
    Replay(prop::sample::Index),
    /// Send the full set in parts of this size.
    Full(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..PATTERNS.len(), 0..GROUPS.len()).prop_map(|(p, g)| Op::Subscribe(p, g)),
        3 => (0..PATTERNS.len(), 0..GROUPS.len()).prop_map(|(p, g)| Op::Unsubscribe(p, g)),
        3 => (1..4_usize).prop_map(Op::Take),
        1 => Just(Op::Lose),
        1 => any::<prop::sample::Index>().prop_map(Op::Replay),
        1 => (1..4_usize).prop_map(Op::Full),
    ]
}

/// What the hub should announce once every change is taken.
fn wanted(counts: &BTreeMap<Interest, usize>, max: usize) -> BTreeSet<Interest> {
    if counts.len() <= max {
        return counts.keys().cloned().collect();
    }
    counts
        .keys()
        .map(|i| Interest::everything(i.group.clone()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_database_follows_the_announced_set(
        ops in prop::collection::vec(op(), 1..60),
        max in 3..8_usize,
    ) {
        let mut local = LocalInterest::new(THEM, max);
        let mut db = InterestDb::new(ME, max);
        let mut counts: BTreeMap<Interest, usize> = BTreeMap::new();
        let mut sent: Vec<InterestUpdate> = Vec::new();
        let mut lost = false;
        for op in ops {
            match op {
                Op::Subscribe(p, g) => {
                    let pattern = Pattern::parse(PATTERNS[p]).unwrap();
                    local.subscribe(&pattern, GROUPS[g]);
                    *counts.entry(Interest { pattern, group: GROUPS[g].map(str::to_owned) }).or_default() += 1;
                }
                Op::Unsubscribe(p, g) => {
                    let pattern = Pattern::parse(PATTERNS[p]).unwrap();
                    let key = Interest { pattern: pattern.clone(), group: GROUPS[g].map(str::to_owned) };
                    let had = counts.get(&key).copied().unwrap_or(0);
                    prop_assert_eq!(local.unsubscribe(&pattern, GROUPS[g]), had > 0);
                    match had {
                        0 => {}
                        1 => { counts.remove(&key); }
                        _ => { *counts.get_mut(&key).unwrap() -= 1; }
                    }
                }
                Op::Take(size) => {
                    while let Some(update) = local.take_update(size) {
                        prop_assert!(update.add.len() + update.remove.len() <= size);
                        let applied = db.apply(&update);
                        if lost {
                            prop_assert_eq!(applied, Applied::Gap);
                        } else {
                            prop_assert_eq!(applied, Applied::New);
                            prop_assert_eq!(db.interests_of(THEM), Some(local.announced()), "never overflows in between");
                        }
                        sent.push(update);
                    }
                }
                Op::Lose => {
                    if local.take_update(2).is_some() {
                        lost = true;
                    }
                }
                Op::Replay(at) => {
                    if !sent.is_empty() {
                        let update = &sent[at.index(sent.len())];
                        let applied = db.apply(update);
                        prop_assert!(applied == Applied::Stale || (lost && applied == Applied::Gap), "{:?}", applied);
                    }
                }
                Op::Full(size) => {
                    for part in local.full(size) {
                        let applied = db.apply(&part);
                        prop_assert!(applied == Applied::New || applied == Applied::Stale);
                    }
                    lost = false;
                    prop_assert_eq!(db.interests_of(THEM), Some(local.announced()));
                }
            }
            if let Some(known) = db.interests_of(THEM) {
                prop_assert!(lost || known == local.announced());
                prop_assert!(!lost || db.seq_of(THEM) < Some(local.seq()));
            }
        }
        while let Some(update) = local.take_update(3) {
            db.apply(&update);
        }
        for part in local.full(2) {
            db.apply(&part);
        }
        prop_assert_eq!(local.announced(), &wanted(&counts, max));
        prop_assert_eq!(db.interests_of(THEM), Some(local.announced()));
    }

    #[test]
    fn mixed_parts_never_make_a_wrong_set(
        items in prop::collection::btree_set((0..PATTERNS.len(), 0..GROUPS.len()), 0..12),
        sizes in (1..5_usize, 1..5_usize),
        picks in prop::collection::vec(any::<bool>(), 0..40),
    ) {
        let mut local = LocalInterest::new(THEM, 100);
        for &(p, g) in &items {
            local.subscribe(&Pattern::parse(PATTERNS[p]).unwrap(), GROUPS[g]);
        }
        while local.take_update(5).is_some() {}
        let mut db = InterestDb::new(ME, 100);
        let (mut left, mut right) = (local.full(sizes.0).into_iter(), local.full(sizes.1).into_iter());
        let mut picks = picks.into_iter();
        loop {
            let part = match picks.next() {
                Some(true) => left.next().or_else(|| right.next()),
                _ => right.next().or_else(|| left.next()),
            };
            let Some(part) = part else { break };
            let applied = db.apply(&part);
            prop_assert!(!matches!(applied, Applied::Invalid(_)));
            if let Some(known) = db.interests_of(THEM) {
                prop_assert_eq!(known, local.announced());
            }
        }
        for part in local.full(1) {
            db.apply(&part);
        }
        prop_assert_eq!(db.interests_of(THEM), Some(local.announced()));
    }
}
