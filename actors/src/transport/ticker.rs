//! A connection's periodic check, ticked from the timer thread: a timer on the connection's
//! I/O thread would cost every sleep of its event loop a kernel timer.

use std::time::Duration;

use actix::{Actor, Handler, Message, WeakAddr};
use hubwire_core::stream::spawn_timer;
use tokio::task::JoinHandle;

/// Sends `message()` to `actor` every `period` (the first after one period) until the actor
/// is gone.
pub(crate) fn tick_every<A, M>(
    actor: WeakAddr<A>,
    period: Duration,
    message: fn() -> M,
) -> JoinHandle<()>
where
    A: Actor<Context = actix::Context<A>> + Handler<M>,
    M: Message<Result = ()> + Send + 'static,
{
    spawn_timer(async move {
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let Some(actor) = actor.upgrade() else {
                break;
            };
            actor.do_send(message());
        }
    })
}
