//! Guards that an application refuses to start with an in-memory work queue named like one of
//! its queued routes (docs/work-queue.md): the operator's endpoints name queues by name alone,
//! so one of the two would be out of their reach.

mod support;

use hubwire::prelude::*;
use hubwire::work::{DispatcherOptions, WorkQueue};
use hubwire::ServerBuilder;
use hubwire_actors::queue::StoreHandle;
use hubwire_core::store::MemoryStore;
use support::loopback_config;

route!(Render = "jobs.render", String => ());

struct Renderer;
impl Actor for Renderer {
    type Context = Context<Self>;
}
impl Serve<Render> for Renderer {
    fn serve(&mut self, _: String, _: &mut Context<Self>) -> Reply<()> {
        Reply::ok(())
    }
}
serve!(Renderer: Render);

/// An app with the queued route `jobs.render` and an in-memory work queue called `queue`.
fn app(queue: &'static str) -> App {
    App::new("clash")
        .queued(QueuedRoute::<Render, Renderer>::new(|| Renderer))
        .work(move |_| {
            DispatcherOptions::new("tcp://127.0.0.1:0".parse().unwrap())
                .queue(WorkQueue::in_memory(queue))
        })
}

#[actix::test]
async fn a_work_queue_named_like_a_queued_route_is_refused() {
    let store = StoreHandle::start(Box::new(MemoryStore::new())).unwrap();
    let builder = ServerBuilder::new(loopback_config());
    let err = app("jobs.render")
        .apply_with_store(builder, Some(&store))
        .expect_err("the clash is refused");
    let text = err.to_string();
    assert!(
        text.contains("\"jobs.render\"") && text.contains("queued route"),
        "{text}"
    );

    let builder = ServerBuilder::new(loopback_config());
    app("jobs.thumbnails")
        .apply_with_store(builder, Some(&store))
        .expect("distinct names are fine");
}
