//! [`hold_wakes`]: wake each outbound writer once per read, not once per frame appended.
//!
//! A connection handles every frame of a read in one go. Without this, each frame it routes to
//! another stream (a subscriber, a bridge link) takes that stream's idle writer's waker and
//! wakes it at once: the writer, on another thread, wakes, writes one frame, goes idle and is
//! woken again by the next frame, so a read of a thousand publishes costs a thousand
//! cross-thread wake-ups and as many small writes. Held until the read is handled, each
//! writer is woken once and writes everything the read gave it in one pass.

use std::cell::RefCell;
use std::task::Waker;

use crate::sync::thread_local;

#[cfg(not(all(test, hubwire_loom)))]
thread_local! {
    /// The wakes held back on this thread, while a [`hold_wakes`] runs.
    static HELD: RefCell<Option<Vec<Waker>>> = const { RefCell::new(None) };
}

// loom's threads share one OS thread: each needs loom's thread-local (which has no `const`).
#[cfg(all(test, hubwire_loom))]
thread_local! {
    static HELD: RefCell<Option<Vec<Waker>>> = RefCell::new(None);
}

/// Runs `work` with every outbound writer wake on this thread held back until it returns (or
/// unwinds), then wakes each writer. Nested calls hold into the outermost one.
pub fn hold_wakes<R>(work: impl FnOnce() -> R) -> R {
    let outermost = HELD.with(|held| {
        let mut held = held.borrow_mut();
        held.is_none().then(|| *held = Some(Vec::new()))
    });
    let _release = outermost.map(|()| Release);
    work()
}

/// Wakes `waker` now, or when the [`hold_wakes`] running on this thread returns.
pub(crate) fn wake(waker: Waker) {
    let now = HELD.with(|held| match &mut *held.borrow_mut() {
        Some(held) => {
            held.push(waker);
            None
        }
        None => Some(waker),
    });
    if let Some(waker) = now {
        waker.wake();
    }
}

/// Wakes what was held when the outermost [`hold_wakes`] ends.
struct Release;

impl Drop for Release {
    fn drop(&mut self) {
        let held = HELD
            .with(|held| held.borrow_mut().take())
            .unwrap_or_default();
        for waker in held {
            waker.wake();
        }
    }
}

#[cfg(all(test, not(hubwire_loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Counting(AtomicUsize);

    impl Wake for Counting {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn wakes_wait_for_the_outermost_hold_and_run_when_it_ends() {
        let count = Arc::new(Counting(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        hold_wakes(|| {
            wake(waker.clone());
            hold_wakes(|| wake(waker.clone()));
            assert_eq!(count.0.load(Ordering::SeqCst), 0, "held inside");
        });
        assert_eq!(count.0.load(Ordering::SeqCst), 2, "released at the end");
        wake(waker);
        assert_eq!(count.0.load(Ordering::SeqCst), 3, "not held outside");
    }

    #[test]
    fn a_panic_inside_still_releases_the_wakes() {
        let count = Arc::new(Counting(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            hold_wakes(|| {
                wake(waker.clone());
                panic!("a handler failed");
            })
        }));
        assert!(result.is_err());
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        wake(waker);
        assert_eq!(count.0.load(Ordering::SeqCst), 2, "the hold is over");
    }
}
