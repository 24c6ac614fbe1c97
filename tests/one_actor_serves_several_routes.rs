//! Guards `routes`: one actor instance serves several routes and keeps one state for them all,
//! while each `route` registration makes an actor of its own.

mod support;

use hubwire::prelude::*;
use support::*;

route!(pub Add = "counter.add", u64 => u64);
route!(pub Total = "counter.total", () => u64);

/// Adds what `counter.add` brings; `counter.total` reads the sum.
#[derive(Default)]
struct Counter {
    total: u64,
}
impl Actor for Counter {
    type Context = Context<Self>;
}
impl Serve<Add> for Counter {
    fn serve(&mut self, n: u64, _: &mut Context<Self>) -> Reply<u64> {
        self.total += n;
        Reply::ok(self.total)
    }
}
impl Serve<Total> for Counter {
    fn serve(&mut self, _: (), _: &mut Context<Self>) -> Reply<u64> {
        Reply::ok(self.total)
    }
}
serve!(Counter: Add, Total);

async fn add_then_total(server: &TestServer) -> u64 {
    let client = Client::new(server.tcp());
    for n in [2, 3] {
        recv_or_fail("add", client.call::<Add>(&n)).await.unwrap();
    }
    recv_or_fail("total", client.call::<Total>(&()))
        .await
        .unwrap()
}

/// Routes registered together reach the same instance: the total sees what was added.
#[tokio::test]
async fn routes_registered_together_share_one_actor() {
    let server = TestServer::start(loopback_config(), |b| {
        b.routes((Add, Total), Counter::default)
    })
    .unwrap();
    assert_eq!(add_then_total(&server).await, 5);
    assert_eq!(server.stats("counter.add").succeeded, 2);
    assert_eq!(server.stats("counter.total").succeeded, 1);
}

/// Routes registered one by one each get their own instance, with its own state.
#[tokio::test]
async fn routes_registered_apart_have_their_own_actors() {
    let server = TestServer::start(loopback_config(), |b| {
        b.route(Add, Counter::default)
            .route(Total, Counter::default)
    })
    .unwrap();
    assert_eq!(add_then_total(&server).await, 0);
}

/// A key in a set that is also registered alone is refused at start.
#[tokio::test]
async fn a_key_in_a_set_registered_twice_fails_the_start() {
    let err = TestServer::start(loopback_config(), |b| {
        b.routes((Add, Total), Counter::default)
            .route(Total, Counter::default)
    })
    .err()
    .expect("start fails");
    assert!(err.contains("counter.total"), "{err}");
}
