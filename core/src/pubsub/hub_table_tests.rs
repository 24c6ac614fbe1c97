//! The hub table: snapshots follow changes, retained messages replay with their headers,
//! the bound on subscriptions per connection holds, batches are linear, and the table agrees
//! with a naive model under any sequence of changes and returns to its baseline.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use proptest::prelude::*;

use super::*;
use crate::protocol::Headers;

fn pattern(s: &str) -> Pattern {
    Pattern::parse(s).unwrap()
}

fn channel(s: &str) -> Channel {
    Channel::parse(s).unwrap()
}

fn wanted(sid: Sid, p: &str) -> Wanted {
    Wanted {
        sid,
        pattern: pattern(p),
        group: None,
        replay: true,
    }
}

fn matched(table: &HubTable, on: &str) -> Vec<(ConnId, Sid)> {
    let snapshot = table.snapshot();
    let mut all: Vec<_> = snapshot
        .trie
        .matches(&channel(on))
        .iter()
        .map(|s| (s.conn, s.sid))
        .collect();
    all.sort_unstable();
    all
}

#[test]
fn snapshots_follow_changes_and_a_sid_in_use_is_replaced() {
    let mut table = HubTable::new(10, 1024, 100);
    table.apply(1, vec![Change::Subscribe(wanted(7, "rooms/*/temp"))]);
    table.apply(2, vec![Change::Subscribe(wanted(1, "rooms/**"))]);
    assert_eq!(matched(&table, "rooms/a/temp"), [(1, 7), (2, 1)]);
    assert!(table.drop_conn(2));
    assert_eq!(matched(&table, "rooms/a/temp"), [(1, 7)]);
    let applied = table.apply(1, vec![Change::Subscribe(wanted(7, "halls/*"))]);
    assert!(applied.changed);
    assert!(matched(&table, "rooms/a/temp").is_empty());
    assert_eq!(matched(&table, "halls/x"), [(1, 7)]);
    table.apply(1, vec![Change::Unsubscribe(7)]);
    assert_eq!(table.figures().subscriptions, 0);
    assert!(!table.apply(1, vec![Change::Unsubscribe(7)]).changed);
}

#[test]
fn retained_messages_replay_with_their_headers_to_new_subscriptions_only() {
    let mut table = HubTable::new(10, 1024, 100);
    let mut headers = Headers::new();
    headers.insert("content-type", "text/plain");
    table.retain(channel("rooms/a/temp"), headers.clone(), Bytes::from("21"));
    table.retain(channel("rooms/b/temp"), Headers::new(), Bytes::from("19"));
    table.retain(channel("halls/c"), Headers::new(), Bytes::from("x"));
    let applied = table.apply(3, vec![Change::ReplaceAll(vec![wanted(1, "rooms/*/temp")])]);
    let got: Vec<_> = applied
        .replay
        .iter()
        .map(|r| (r.sid, r.channel.to_string(), r.body.clone()))
        .collect();
    assert_eq!(
        got,
        [
            (1, "rooms/a/temp".into(), Bytes::from("21")),
            (1, "rooms/b/temp".into(), Bytes::from("19"))
        ]
    );
    assert_eq!(applied.replay[0].headers, headers, "headers kept");
    // An empty body clears; NO_RETAINED and queue groups get no replay.
    table.retain(channel("rooms/a/temp"), Headers::new(), Bytes::new());
    let quiet = Wanted {
        replay: false,
        ..wanted(2, "rooms/**")
    };
    let grouped = Wanted {
        group: Some("g".into()),
        ..wanted(3, "rooms/**")
    };
    let applied = table.apply(
        4,
        vec![
            Change::Subscribe(wanted(1, "rooms/**")),
            Change::Subscribe(quiet),
            Change::Subscribe(grouped),
        ],
    );
    assert_eq!(applied.replay.len(), 1);
    assert_eq!(applied.replay[0].sid, 1);
}

#[test]
fn subscriptions_past_the_bound_are_declined_and_replacing_one_is_not() {
    let mut table = HubTable::new(10, 1024, 2);
    let applied = table.apply(
        1,
        vec![
            Change::Subscribe(wanted(1, "a")),
            Change::Subscribe(wanted(2, "b")),
            Change::Subscribe(wanted(3, "c")),
            Change::Subscribe(wanted(2, "bb")),
        ],
    );
    assert_eq!(applied.declined.len(), 1);
    assert_eq!(applied.declined[0].sid, 3);
    assert!(applied.declined[0].reason.contains("holds 2 subscriptions"));
    assert_eq!(matched(&table, "bb"), [(1, 2)]);
    assert!(matched(&table, "c").is_empty());
    // Another connection has a bound of its own.
    assert!(table
        .apply(2, vec![Change::Subscribe(wanted(1, "c"))])
        .declined
        .is_empty());
}

#[test]
fn twenty_five_thousand_subscriptions_apply_in_one_batch() {
    let mut table = HubTable::new(10, 1024, 100_000);
    let batch = (0..25_000)
        .map(|i| Change::Subscribe(wanted(i, &format!("load/{i}/x"))))
        .collect();
    let applied = table.apply(1, batch);
    assert!(applied.changed && applied.declined.is_empty());
    assert_eq!(matched(&table, "load/24999/x"), [(1, 24_999)]);
    assert_eq!(table.figures().subscriptions, 25_000);
}

#[test]
fn the_table_returns_to_its_baseline_after_thousands_of_connections() {
    let mut table = HubTable::new(10, 1024, 100);
    table.track_interest();
    let baseline = table.figures();
    for conn in 0..3000u64 {
        let list = (0..3)
            .map(|sid| Wanted {
                group: (sid == 2).then(|| format!("g{}", conn % 5)),
                ..wanted(sid, &format!("c{}/*/s{sid}/**", conn % 97))
            })
            .collect();
        table.apply(conn, vec![Change::ReplaceAll(list)]);
        if conn % 2 == 0 {
            table.apply(conn, vec![Change::Unsubscribe(0)]);
        }
        if conn >= 10 {
            table.drop_conn(conn - 10);
        }
    }
    for conn in 2990..3000 {
        table.drop_conn(conn);
    }
    let after = table.figures();
    assert_eq!(after, baseline);
    assert_eq!(after.nodes, 1, "only the root");
    let interest = table.take_interest();
    assert_eq!(interest.add.len(), interest.remove.len());
}

/// A change for the model test.
#[derive(Debug, Clone)]
enum Op {
    Sub(ConnId, Sid, usize, Option<u8>),
    Unsub(ConnId, Sid),
    Replace(ConnId, Vec<(Sid, usize, Option<u8>)>),
    Drop(ConnId),
}

const PATTERNS: [&str; 5] = ["a", "a/*", "a/**", "*/b", "**"];
const CHANNELS: [&str; 4] = ["a", "a/b", "a/b/c", "x/b"];
const BOUND: usize = 3;

fn op() -> impl Strategy<Value = Op> {
    let entry = (0..4u64, 0..PATTERNS.len(), prop::option::of(0..2u8));
    prop_oneof![
        (
            1..4u64,
            0..4u64,
            0..PATTERNS.len(),
            prop::option::of(0..2u8)
        )
            .prop_map(|(c, s, p, g)| Op::Sub(c, s, p, g)),
        (1..4u64, 0..4u64).prop_map(|(c, s)| Op::Unsub(c, s)),
        (1..4u64, prop::collection::vec(entry, 0..5)).prop_map(|(c, l)| Op::Replace(c, l)),
        (1..4u64).prop_map(Op::Drop),
    ]
}

/// The naive model: a map of (conn, sid) to (pattern index, group), with the same bound.
type Model = BTreeMap<(ConnId, Sid), (usize, Option<u8>)>;

fn model_add(model: &mut Model, conn: ConnId, sid: Sid, p: usize, g: Option<u8>) {
    model.remove(&(conn, sid));
    if model.keys().filter(|(c, _)| *c == conn).count() < BOUND {
        model.insert((conn, sid), (p, g));
    }
}

fn want(sid: Sid, p: usize, g: Option<u8>) -> Wanted {
    Wanted {
        group: g.map(|g| format!("g{g}")),
        ..wanted(sid, PATTERNS[p])
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_table_agrees_with_a_naive_model(ops in prop::collection::vec(op(), 0..40)) {
        let mut table = HubTable::new(10, 1024, BOUND);
        let mut model = Model::new();
        for op in ops {
            match op {
                Op::Sub(c, s, p, g) => {
                    table.apply(c, vec![Change::Subscribe(want(s, p, g))]);
                    model_add(&mut model, c, s, p, g);
                }
                Op::Unsub(c, s) => {
                    table.apply(c, vec![Change::Unsubscribe(s)]);
                    model.remove(&(c, s));
                }
                Op::Replace(c, list) => {
                    let wanted = list.iter().map(|&(s, p, g)| want(s, p, g)).collect();
                    table.apply(c, vec![Change::ReplaceAll(wanted)]);
                    model.retain(|(mc, _), _| *mc != c);
                    for (s, p, g) in list {
                        model_add(&mut model, c, s, p, g);
                    }
                }
                Op::Drop(c) => {
                    table.drop_conn(c);
                    model.retain(|(mc, _), _| *mc != c);
                }
            }
            for on in CHANNELS {
                let expected: Vec<_> = model
                    .iter()
                    .filter(|(_, (p, _))| pattern(PATTERNS[*p]).matches(&channel(on)))
                    .map(|(key, _)| *key)
                    .collect();
                prop_assert_eq!(matched(&table, on), expected, "on {}", on);
            }
            let figures = table.figures();
            prop_assert_eq!(figures.subscriptions, model.len());
            let groups: BTreeSet<_> = model.values().filter_map(|(_, g)| *g).collect();
            prop_assert_eq!(figures.groups, groups.len());
            let conns: BTreeSet<_> = model.keys().map(|(c, _)| *c).collect();
            prop_assert_eq!(figures.connections, conns.len());
        }
    }
}
