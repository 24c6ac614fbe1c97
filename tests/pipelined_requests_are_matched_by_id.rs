//! Guards pipelining: many requests in flight on one connection, replies matched by id in any
//! order, and the per-connection in-flight cap answered with busy.

mod support;

use std::time::Duration;

use hubwire::prelude::*;
use hubwire::protocol::{kind, Envelope, ErrorFrame, Headers, Request, Response};
use support::*;

/// Concurrent calls on one client share one connection; each gets its own reply even though
/// later calls finish first.
#[tokio::test]
async fn concurrent_calls_on_one_connection_get_their_own_replies_out_of_order() {
    let server = TestServer::with_test_routes(loopback_config());
    let client = Client::new(server.tcp());
    let delays: Vec<u64> = (0..40).map(|i| 200 - i * 5).collect();
    let calls = delays.iter().map(|&ms| {
        let client = client.clone();
        async move { (ms, client.call::<Delay>(&ms).await) }
    });
    let results = recv_or_fail("40 calls", futures::future::join_all(calls)).await;
    for (sent, got) in results {
        assert_eq!(got.unwrap(), sent);
    }
}

/// On the wire, replies come back in completion order, not request order, matched by id.
#[tokio::test]
async fn replies_arrive_in_completion_order_with_their_ids() {
    let server = TestServer::with_test_routes(loopback_config());
    let mut raw = Raw::handshake(&server.tcp()).await;
    for (id, ms) in [(1u64, 300u64), (2, 10)] {
        let body = hubwire_core::encode_body(&ms).unwrap();
        raw.send_envelope(&Request {
            id,
            route: "test.delay".into(),
            headers: Headers::new(),
            body,
        })
        .await;
    }
    let first = Response::from_frame(&raw.recv().await.unwrap()).unwrap();
    let second = Response::from_frame(&raw.recv().await.unwrap()).unwrap();
    assert_eq!((first.id, second.id), (2, 1));
}

/// Requests beyond the per-connection cap are answered busy at once; the others complete.
#[tokio::test]
async fn requests_over_the_in_flight_cap_get_busy() {
    let config = Config {
        max_in_flight_per_connection: 4,
        ..loopback_config()
    };
    let server = TestServer::with_test_routes(config);
    let mut raw = Raw::handshake(&server.tcp()).await;
    let body = hubwire_core::encode_body(&300u64).unwrap();
    for id in 1..=6u64 {
        raw.send_envelope(&Request {
            id,
            route: "test.delay".into(),
            headers: Headers::new(),
            body: body.clone(),
        })
        .await;
    }
    let mut busy = Vec::new();
    let mut done = Vec::new();
    for _ in 0..6 {
        let frame = raw.recv().await.expect("six answers");
        match frame.kind {
            kind::ERROR => {
                let e = ErrorFrame::from_frame(&frame).unwrap();
                assert_eq!(e.code, ErrorCode::Busy);
                busy.push(e.id.unwrap());
            }
            kind::RESPONSE => done.push(Response::from_frame(&frame).unwrap().id),
            other => panic!("unexpected kind {other}"),
        }
    }
    busy.sort_unstable();
    done.sort_unstable();
    assert_eq!(busy, vec![5, 6]);
    assert_eq!(done, vec![1, 2, 3, 4]);
}

/// A route whose handler has too many requests waiting answers busy instead of queueing forever.
#[tokio::test]
async fn a_route_over_its_queue_bound_gets_busy() {
    let config = Config {
        max_in_flight_per_route: 2,
        ..loopback_config()
    };
    let server = TestServer::with_test_routes(config);
    let client = Client::new(server.tcp());
    let calls = (0..12).map(|_| {
        let client = client.clone();
        async move { client.call::<Block>(&100).await }
    });
    let results = recv_or_fail("12 calls", futures::future::join_all(calls)).await;
    let busy = results
        .iter()
        .filter(|r| matches!(r, Err(e) if e.code() == Some(ErrorCode::Busy)))
        .count();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert!(busy > 0, "some calls are refused busy");
    assert!(ok >= 2, "the queued calls complete");
    assert_eq!(busy + ok, 12, "every call is answered: {results:?}");
    assert_eq!(server.stats("test.block").busy as usize, busy);
}

/// A cancelled request's reply is not sent.
#[tokio::test]
async fn a_cancelled_request_gets_no_reply() {
    let server = TestServer::with_test_routes(loopback_config());
    let mut raw = Raw::handshake(&server.tcp()).await;
    let slow = hubwire_core::encode_body(&200u64).unwrap();
    raw.send_envelope(&Request {
        id: 1,
        route: "test.delay".into(),
        headers: Headers::new(),
        body: slow,
    })
    .await;
    raw.send_envelope(&hubwire::protocol::Cancel { id: 1 })
        .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let quick = hubwire_core::encode_body(&Message {
        message: "after".into(),
    })
    .unwrap();
    raw.send_envelope(&Request {
        id: 2,
        route: "test.echo".into(),
        headers: Headers::new(),
        body: quick,
    })
    .await;
    let reply = Response::from_frame(&raw.recv().await.unwrap()).unwrap();
    assert_eq!(reply.id, 2);
    // Give the cancelled request time to finish; its reply must not appear before this one.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let quick = hubwire_core::encode_body(&Message {
        message: "last".into(),
    })
    .unwrap();
    raw.send_envelope(&Request {
        id: 3,
        route: "test.echo".into(),
        headers: Headers::new(),
        body: quick,
    })
    .await;
    let reply = Response::from_frame(&raw.recv().await.unwrap()).unwrap();
    assert_eq!(reply.id, 3, "the cancelled request's reply was dropped");
}
