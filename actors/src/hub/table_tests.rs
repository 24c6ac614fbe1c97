//! The subscription table: snapshots follow changes, retained messages replay, and the table
//! returns to its baseline after thousands of connects and disconnects.

use actix::Actor;
use bytes::Bytes;
use hubwire_core::pubsub::{Channel, Pattern};

use super::*;

fn pattern(s: &str) -> Pattern {
    Pattern::parse(s).unwrap()
}

fn channel(s: &str) -> Channel {
    Channel::parse(s).unwrap()
}

#[actix::test]
async fn snapshots_follow_subscriptions_and_connections_take_theirs_along() {
    let (table, snapshots) = SubscriptionTable::new(10, 1024);
    let table = table.start();
    table
        .send(Subscribe {
            conn: 1,
            sid: 7,
            pattern: pattern("rooms/*/temp"),
            group: None,
        })
        .await
        .unwrap();
    table
        .send(Subscribe {
            conn: 2,
            sid: 1,
            pattern: pattern("rooms/**"),
            group: None,
        })
        .await
        .unwrap();
    let matched = snapshots.borrow().trie.matches(&channel("rooms/a/temp"));
    assert_eq!(
        &*matched,
        [
            Subscriber {
                conn: 1,
                sid: 7,
                group: NO_GROUP
            },
            Subscriber {
                conn: 2,
                sid: 1,
                group: NO_GROUP
            }
        ]
    );
    table.send(Disconnected(2)).await.unwrap();
    let matched = snapshots.borrow().trie.matches(&channel("rooms/a/temp"));
    assert_eq!(
        &*matched,
        [Subscriber {
            conn: 1,
            sid: 7,
            group: NO_GROUP
        }]
    );
    // A sid in use is replaced, not added.
    table
        .send(Subscribe {
            conn: 1,
            sid: 7,
            pattern: pattern("halls/*"),
            group: None,
        })
        .await
        .unwrap();
    assert!(snapshots
        .borrow()
        .trie
        .matches(&channel("rooms/a/temp"))
        .is_empty());
    table.send(Unsubscribe { conn: 1, sid: 7 }).await.unwrap();
    assert_eq!(table.send(Figures).await.unwrap().subscriptions, 0);
}

#[actix::test]
async fn retained_messages_replay_to_new_matching_subscriptions() {
    let (table, _) = SubscriptionTable::new(10, 1024);
    let table = table.start();
    for (ch, body) in [
        ("rooms/a/temp", "21"),
        ("rooms/b/temp", "19"),
        ("halls/c", "x"),
    ] {
        table
            .send(Retain {
                channel: channel(ch),
                message: Bytes::from(body),
            })
            .await
            .unwrap();
    }
    let replay = table
        .send(ReplaceAll {
            conn: 3,
            subscriptions: vec![(1, pattern("rooms/*/temp"), None)],
        })
        .await
        .unwrap();
    let channels: Vec<String> = replay.iter().map(|(_, c, _)| c.to_string()).collect();
    assert_eq!(channels, ["rooms/a/temp", "rooms/b/temp"]);
    // An empty retained message clears the channel.
    table
        .send(Retain {
            channel: channel("rooms/a/temp"),
            message: Bytes::new(),
        })
        .await
        .unwrap();
    let replay = table
        .send(Subscribe {
            conn: 4,
            sid: 1,
            pattern: pattern("rooms/**"),
            group: None,
        })
        .await
        .unwrap();
    assert_eq!(replay.len(), 1);
}

#[actix::test]
async fn the_table_returns_to_its_baseline_after_thousands_of_connections() {
    let (table, snapshots) = SubscriptionTable::new(10, 1024);
    let table = table.start();
    let baseline = table.send(Figures).await.unwrap();
    for conn in 0..3000u64 {
        let subscriptions = (0..3)
            .map(|sid| {
                let group = (sid == 2).then(|| format!("g{}", conn % 5));
                (sid, pattern(&format!("c{}/*/s{sid}/**", conn % 97)), group)
            })
            .collect();
        table
            .send(ReplaceAll {
                conn,
                subscriptions,
            })
            .await
            .unwrap();
        if conn % 2 == 0 {
            table.send(Unsubscribe { conn, sid: 0 }).await.unwrap();
        }
        if conn >= 10 {
            table.send(Disconnected(conn - 10)).await.unwrap();
        }
    }
    for conn in 2990..3000 {
        table.send(Disconnected(conn)).await.unwrap();
    }
    let after = table.send(Figures).await.unwrap();
    assert_eq!(after, baseline);
    assert_eq!(after.nodes, 1, "only the root");
    assert!(snapshots.borrow().trie.is_empty());
}
