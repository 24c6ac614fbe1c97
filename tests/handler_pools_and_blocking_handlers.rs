//! Guards handler pools (requests balanced over several actors) and blocking handlers (on their
//! own threads, bounded by hubwire, never stalling the network, a panicked worker replaced).

mod support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use hubwire::prelude::*;
use support::*;

route!(
    /// Answers with the instance that served it, after holding its mailbox for the given ms.
    WhoHolds = "pool.who", u64 => u32
);
route!(
    /// Blocks for the given ms on a worker thread; answers with the worker's instance number.
    BlockingWho = "blocking.who", u64 => u32
);
route!(
    /// Panics on a worker thread.
    BlockingPanic = "blocking.panic", () => u32
);

struct Member {
    instance: u32,
}

impl Actor for Member {
    type Context = Context<Self>;
}

impl Serve<WhoHolds> for Member {
    fn serve(&mut self, ms: u64, ctx: &mut Context<Self>) -> Reply<u32> {
        use hubwire::actix::AsyncContext;
        ctx.wait(hubwire::actix::fut::wrap_future(tokio::time::sleep(
            Duration::from_millis(ms),
        )));
        Reply::ok(self.instance)
    }
}
serve!(Member: WhoHolds);

struct Worker {
    instance: u32,
}

impl Actor for Worker {
    type Context = SyncContext<Self>;
}

impl ServeBlocking<BlockingWho> for Worker {
    fn serve(&mut self, ms: u64, _: &mut SyncContext<Self>) -> Result<u32, HandlerError> {
        std::thread::sleep(Duration::from_millis(ms));
        Ok(self.instance)
    }
}

impl ServeBlocking<BlockingPanic> for Worker {
    fn serve(&mut self, _: (), _: &mut SyncContext<Self>) -> Result<u32, HandlerError> {
        panic!("worker {} broke", self.instance)
    }
}
serve_blocking!(Worker: BlockingWho, BlockingPanic);

/// A factory argument that numbers the instances it makes, from `first`.
fn numbered(first: u32) -> impl Fn() -> u32 + Send + Sync + 'static {
    let next = AtomicU32::new(first);
    move || next.fetch_add(1, Ordering::SeqCst)
}

fn start(config: Config, threads: usize) -> TestServer {
    let (member, worker, panicker) = (numbered(0), numbered(0), numbered(100));
    TestServer::start(config, move |b| {
        all_test_routes(b)
            .route_pool(WhoHolds, 4, move || Member { instance: member() })
            .route_blocking(BlockingWho, threads, move || Worker { instance: worker() })
            .route_blocking(BlockingPanic, 1, move || Worker {
                instance: panicker(),
            })
    })
    .expect("starts")
}

/// A pool's requests are spread over its members: calls that each hold one member busy are
/// taken by different members.
#[tokio::test]
async fn a_pool_balances_requests_over_its_members() {
    let server = start(loopback_config(), 2);
    let client = Client::new(server.tcp());
    let calls = (0..8).map(|_| {
        let client = client.clone();
        async move { client.call::<WhoHolds>(&100).await.unwrap() }
    });
    let served: HashSet<u32> = recv_or_fail("8 calls", futures::future::join_all(calls))
        .await
        .into_iter()
        .collect();
    assert_eq!(served.len(), 4, "every member served: {served:?}");
}

/// Blocking handlers run on their own threads: while every worker is blocked, other routes on
/// the same server keep answering.
#[tokio::test]
async fn blocking_handlers_never_stall_the_network() {
    let server = start(loopback_config(), 2);
    let client = Client::new(server.tcp());
    let blocked: Vec<_> = (0..2)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.call::<BlockingWho>(&1_500).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let m = Message {
        message: "not stalled".into(),
    };
    assert_eq!(client.call::<Echo>(&m).await.unwrap(), m);
    assert!(
        blocked.iter().all(|b| !b.is_finished()),
        "the echo answered while both workers were still blocked"
    );
    let workers: HashSet<u32> = futures::future::join_all(blocked)
        .await
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .collect();
    assert_eq!(workers.len(), 2, "both threads worked: {workers:?}");
}

/// Past `max_in_flight_per_route`, blocking requests are answered busy; every call is answered.
#[tokio::test]
async fn blocking_requests_over_the_bound_get_busy() {
    let config = Config {
        max_in_flight_per_route: 2,
        ..loopback_config()
    };
    let server = start(config, 1);
    let client = Client::new(server.tcp());
    let calls = (0..6).map(|_| {
        let client = client.clone();
        async move { client.call::<BlockingWho>(&200).await }
    });
    let results = recv_or_fail("6 calls", futures::future::join_all(calls)).await;
    let busy = results
        .iter()
        .filter(|r| matches!(r, Err(e) if e.code() == Some(ErrorCode::Busy)))
        .count();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!((ok, busy), (2, 4), "{results:?}");
    // The permits came back: the route takes work again.
    assert!(client.call::<BlockingWho>(&1).await.is_ok());
}

/// A blocking handler that panics answers handler-failure, is counted, and its worker is
/// replaced by a fresh instance: the pool never loses capacity.
#[tokio::test]
async fn a_panicked_blocking_worker_is_replaced() {
    let server = start(loopback_config(), 2);
    let client = Client::new(server.tcp());
    let mut instances = HashSet::new();
    for _ in 0..3 {
        let err = client.call::<BlockingPanic>(&()).await.unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::HandlerFailure));
        let text = err.to_string();
        assert!(text.contains("broke"), "{text}");
        instances.insert(text);
    }
    // The route has one worker thread; each panic was met by a fresh instance.
    assert_eq!(instances.len(), 3, "{instances:?}");
    assert_eq!(server.stats("blocking.panic").panicked, 3);
}
