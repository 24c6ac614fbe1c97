//! [`StallWatch`]: decides, tick by tick, when a peer that owes too much has been over its
//! bound long enough to be closed. Time is passed in, so the rule is tested without a clock.

use std::time::{Duration, Instant};

/// What a tick found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backlog {
    /// Under the bound.
    Under,
    /// Over the bound since `since` (the reader is held back meanwhile).
    Over {
        /// The first tick that found it over, in this stretch.
        since: Instant,
    },
    /// Over the bound for the whole stall timeout: close the peer.
    Stalled,
}

/// One connection's record of its outbound backlog over time.
#[derive(Debug, Clone, Default)]
pub struct StallWatch {
    over_since: Option<Instant>,
    /// The backlog the last tick reported (for gauges summed over connections).
    reported: usize,
}

impl StallWatch {
    /// Records the backlog seen at `now` against `limit`; a stretch over it that has lasted
    /// `timeout` is [`Backlog::Stalled`].
    pub fn tick(
        &mut self,
        now: Instant,
        backlog: usize,
        limit: usize,
        timeout: Duration,
    ) -> Backlog {
        if backlog <= limit {
            self.over_since = None;
            return Backlog::Under;
        }
        let since = *self.over_since.get_or_insert(now);
        if now.saturating_duration_since(since) >= timeout {
            Backlog::Stalled
        } else {
            Backlog::Over { since }
        }
    }

    /// Whether the last tick found the backlog over the bound.
    pub fn is_over(&self) -> bool {
        self.over_since.is_some()
    }

    /// The change since the last report of `backlog` (to add to a gauge), remembering it.
    pub fn report(&mut self, backlog: usize) -> i64 {
        let delta = backlog as i64 - self.reported as i64;
        self.reported = backlog;
        delta
    }

    /// Forgets the connection: the change that takes its share out of a gauge, and whether it
    /// was over the bound.
    pub fn forget(&mut self) -> (i64, bool) {
        let was_over = self.over_since.take().is_some();
        (self.report(0), was_over)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_stretch_over_the_bound_as_long_as_the_timeout_stalls() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut watch = StallWatch::default();
        assert_eq!(
            watch.tick(t0, 10, 10, s),
            Backlog::Under,
            "at the bound is not over"
        );
        assert_eq!(watch.tick(t0, 11, 10, s), Backlog::Over { since: t0 });
        assert!(watch.is_over());
        assert_eq!(
            watch.tick(t0 + s / 2, 11, 10, s),
            Backlog::Over { since: t0 }
        );
        // Coming back under starts the count again.
        assert_eq!(watch.tick(t0 + s / 2, 5, 10, s), Backlog::Under);
        let t1 = t0 + s;
        assert_eq!(watch.tick(t1, 20, 10, s), Backlog::Over { since: t1 });
        assert_eq!(
            watch.tick(t1 + s - Duration::from_millis(1), 20, 10, s),
            Backlog::Over { since: t1 }
        );
        assert_eq!(watch.tick(t1 + s, 20, 10, s), Backlog::Stalled);
    }

    #[test]
    fn reports_add_up_to_the_last_backlog_and_forgetting_takes_it_back() {
        let mut watch = StallWatch::default();
        let mut gauge = 0;
        for backlog in [100, 40, 4000, 0, 7] {
            gauge += watch.report(backlog);
            assert_eq!(gauge, backlog as i64);
        }
        watch.tick(Instant::now(), 11, 10, Duration::from_secs(1));
        let (delta, was_over) = watch.forget();
        assert_eq!(gauge + delta, 0);
        assert!(was_over);
    }
}
