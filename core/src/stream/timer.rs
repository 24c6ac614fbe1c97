//! One thread for the timers of connections (call deadlines, idle checks), so that the I/O
//! threads' event loops carry none.
//!
//! An event loop with a timer pending sleeps with a timeout, which costs a kernel timer armed and
//! cancelled on every sleep, and a pass over the timer wheel on every wake-up: on a busy
//! connection that is every request. Timers that rarely fire (a call's deadline, an idle check
//! once a second) are cheaper on a thread of their own, which wakes only when one does.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::Handle;
use tokio::task::JoinHandle;

static TIMERS: OnceLock<Handle> = OnceLock::new();

/// The timer thread's runtime, started on first use; it lives as long as the process.
fn timers() -> &'static Handle {
    TIMERS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime for the timer thread");
        let handle = runtime.handle().clone();
        std::thread::Builder::new()
            .name("hubwire-timers".into())
            .spawn(move || runtime.block_on(std::future::pending::<()>()))
            .expect("the timer thread starts");
        handle
    })
}

/// Runs `future`, which waits on timers and does little else, on the timer thread.
pub fn spawn_timer<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    timers().spawn(future)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[tokio::test]
    async fn a_timer_fires_on_the_timer_thread() {
        let started = Instant::now();
        let name = spawn_timer(async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            std::thread::current().name().map(str::to_owned)
        })
        .await
        .unwrap();
        assert_eq!(name.as_deref(), Some("hubwire-timers"));
        assert!(started.elapsed() >= Duration::from_millis(20));
    }
}
