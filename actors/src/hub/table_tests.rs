//! The table actor: retained messages replayed to a new subscription are queued on its
//! connection before the snapshot that lets live messages reach it is published.

use std::sync::Arc;

use actix::Actor;
use bytes::Bytes;
use hubwire_core::protocol::Headers;
use hubwire_core::pubsub::{Change, Channel, HubTable, Pattern, Wanted};
use hubwire_core::stream::ReplyQueue;

use super::*;

#[actix::test]
async fn replayed_messages_are_queued_before_the_snapshot_is_published() {
    let (table, mut snapshots) = SubscriptionTable::new(HubTable::new(10, 1024, 100));
    let table = table.start();
    let channel = Channel::parse("rooms/a").unwrap();
    table
        .send(Retain {
            channel: channel.clone(),
            headers: Headers::new(),
            message: Bytes::from_static(b"21"),
        })
        .await
        .unwrap();
    let outbound = Arc::new(ReplyQueue::new(|| {}));
    snapshots.mark_unchanged();
    let batch = Changes {
        conn: 1,
        outbound: Some(outbound.clone()),
        changes: vec![Change::Subscribe(Wanted {
            sid: 1,
            pattern: Pattern::parse("rooms/*").unwrap(),
            group: None,
            replay: true,
        })],
    };
    let sent = table.send(batch);
    // The moment the snapshot changes, the replay is already queued.
    snapshots.changed().await.unwrap();
    assert!(
        outbound.outbound().lock().queued() > 0,
        "replay queued first"
    );
    assert!(sent.await.unwrap().is_empty());
    assert_eq!(snapshots.borrow().trie.matches(&channel).len(), 1);
}
