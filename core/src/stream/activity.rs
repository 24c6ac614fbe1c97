//! Reads seen on this thread, for an I/O thread's idle spin (`io_spin_us`): a thread that keeps
//! polling its sockets for a while after its last read is awake when the next message comes,
//! which spares the wake-up of a sleeping CPU. On a virtual machine whose idle vCPUs halt at
//! once, that wake-up can cost more than the message itself.
//!
//! The readers ([`FrameBatches`](super::FrameBatches), the NATS listener's) count their reads
//! here; the spin itself runs on the I/O threads (`hubwire_actors`), and [`SpinWindow`] says
//! when it stops.

use std::cell::{Cell, RefCell};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

thread_local! {
    static READS: Cell<u64> = const { Cell::new(0) };
    static WATCHER: RefCell<Option<Waker>> = const { RefCell::new(None) };
}

/// Counts a read that brought bytes on this thread, and wakes this thread's spin if it waits.
pub fn note_read() {
    READS.with(|reads| reads.set(reads.get().wrapping_add(1)));
    if let Some(waker) = WATCHER.with(|w| w.borrow_mut().take()) {
        waker.wake();
    }
}

/// The reads counted on this thread so far.
pub fn reads() -> u64 {
    READS.with(Cell::get)
}

/// Ready once this thread has counted more reads than `seen`; otherwise `cx` is woken by the
/// next one (one waiter per thread: a later call replaces the earlier waker).
pub fn poll_read_after(seen: u64, cx: &mut Context<'_>) -> Poll<()> {
    if reads() != seen {
        return Poll::Ready(());
    }
    WATCHER.with(|w| *w.borrow_mut() = Some(cx.waker().clone()));
    Poll::Pending
}

/// How long a spin goes on: until `window` has passed without a read.
#[derive(Debug, Clone)]
pub struct SpinWindow {
    window: Duration,
    reads: u64,
    last_read: Instant,
}

impl SpinWindow {
    /// A spin that starts at `now`, with `reads` counted so far (the read that woke it).
    pub fn start(window: Duration, reads: u64, now: Instant) -> SpinWindow {
        SpinWindow {
            window,
            reads,
            last_read: now,
        }
    }

    /// Takes the thread's read count at `now`: true while the spin should go on.
    pub fn keep_spinning(&mut self, reads: u64, now: Instant) -> bool {
        if reads != self.reads {
            self.reads = reads;
            self.last_read = now;
        }
        now.saturating_duration_since(self.last_read) < self.window
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_zero_window_never_spins() {
        let t0 = Instant::now();
        let mut spin = SpinWindow::start(Duration::ZERO, 5, t0);
        assert!(!spin.keep_spinning(5, t0));
        assert!(!spin.keep_spinning(6, t0 + MS));
    }

    #[test]
    fn reads_keep_the_spin_going_and_it_stops_a_window_after_the_last() {
        let t0 = Instant::now();
        let mut spin = SpinWindow::start(2 * MS, 0, t0);
        assert!(spin.keep_spinning(0, t0 + MS));
        assert!(spin.keep_spinning(1, t0 + 2 * MS), "a read at 2 ms");
        assert!(spin.keep_spinning(1, t0 + 3 * MS));
        assert!(
            !spin.keep_spinning(1, t0 + 4 * MS),
            "2 ms after the last read"
        );
    }

    proptest! {
        /// Against a model: the spin goes on exactly while less than the window has passed
        /// since the last change of the read count (or the start).
        #[test]
        fn stops_exactly_a_window_after_the_last_read(
            window_us in 0u64..500,
            steps in proptest::collection::vec((any::<bool>(), 0u64..300), 0..40),
        ) {
            let t0 = Instant::now();
            let window = Duration::from_micros(window_us);
            let mut spin = SpinWindow::start(window, 0, t0);
            let (mut reads, mut now, mut last) = (0u64, t0, t0);
            for (read, step_us) in steps {
                now += Duration::from_micros(step_us);
                if read {
                    reads += 1;
                    last = now;
                }
                prop_assert_eq!(spin.keep_spinning(reads, now), now - last < window);
            }
        }
    }

    struct CountWakes(AtomicUsize);
    impl Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn a_read_wakes_the_waiting_spin_once() {
        let wakes = Arc::new(CountWakes(AtomicUsize::new(0)));
        let waker = Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);
        let seen = reads();
        assert!(poll_read_after(seen, &mut cx).is_pending());
        note_read();
        note_read();
        assert_eq!(
            wakes.0.load(Ordering::Relaxed),
            1,
            "woken by the first read only"
        );
        assert!(poll_read_after(seen, &mut cx).is_ready());
    }

    #[test]
    fn reads_are_counted_per_thread() {
        let here = reads();
        std::thread::spawn(note_read).join().unwrap();
        assert_eq!(reads(), here);
        note_read();
        assert_eq!(reads(), here + 1);
    }
}
