//! Guards that `handler_pools` in the configuration sets how many handler instances (and
//! blocking threads) an application's pooled routes get.

mod support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use hubwire::prelude::*;
use support::*;

route!(Pooled = "pool.member", () => ());
route!(Blocking = "pool.blocking", () => ());

struct Member;
impl Actor for Member {
    type Context = Context<Self>;
}
impl Serve<Pooled> for Member {
    fn serve(&mut self, _: (), _: &mut Context<Self>) -> Reply<()> {
        Reply::ok(())
    }
}
serve!(Member: Pooled);

struct Worker;
impl Actor for Worker {
    type Context = SyncContext<Self>;
}
impl ServeBlocking<Blocking> for Worker {
    fn serve(&mut self, _: (), _: &mut SyncContext<Self>) -> Result<(), HandlerError> {
        Ok(())
    }
}
serve_blocking!(Worker: Blocking);

/// The configured sizes win over the ones in the code, and a route not named keeps its own.
#[tokio::test]
async fn configured_pool_sizes_override_the_code() {
    let members = Arc::new(AtomicU32::new(0));
    let workers = Arc::new(AtomicU32::new(0));
    let (m, w) = (members.clone(), workers.clone());
    let app = App::new("pools")
        .route_pool(Pooled, 1, move || {
            m.fetch_add(1, Ordering::SeqCst);
            Member
        })
        .route_blocking(Blocking, 1, move || {
            w.fetch_add(1, Ordering::SeqCst);
            Worker
        });
    let config = Config {
        handler_pools: BTreeMap::from([
            ("pool.member".to_owned(), 3),
            ("pool.blocking".to_owned(), 2),
        ]),
        ..loopback_config()
    };
    let server = TestServer::start(config, move |b| app.apply(b)).expect("starts");
    let client = Client::new(server.tcp());
    // Calls make sure every instance has been constructed before counting.
    for _ in 0..6 {
        client.call::<Pooled>(&()).await.unwrap();
        client.call::<Blocking>(&()).await.unwrap();
    }
    assert_eq!(members.load(Ordering::SeqCst), 3);
    assert_eq!(workers.load(Ordering::SeqCst), 2);
}
