//! Restart intensity over a true sliding window: at most `max_restarts` in any window of
//! `within`, as in Erlang/OTP (whose default is 1 restart in 5 seconds).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// How many restarts a supervisor allows in how long before it gives up and escalates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intensity {
    /// Restarts allowed within the window.
    pub max_restarts: u32,
    /// The window, in milliseconds in JSON.
    #[serde(rename = "within_ms", with = "millis")]
    pub within: Duration,
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

impl Default for Intensity {
    /// 3 restarts in any 5 seconds: a little more forgiving than OTP's 1 in 5 s, because a
    /// network listener's failures (a port briefly taken) often clear on the second try.
    fn default() -> Self {
        Intensity {
            max_restarts: 3,
            within: Duration::from_secs(5),
        }
    }
}

/// The restarts of the last window, oldest first.
#[derive(Clone, Debug, Default)]
pub struct RestartWindow {
    restarts: VecDeque<Instant>,
}

impl RestartWindow {
    /// No restarts yet.
    pub fn new() -> Self {
        RestartWindow::default()
    }

    /// Records a restart at `now`; returns `false` when it would be one too many within the
    /// window (the supervisor must give up instead of restarting).
    pub fn allow(&mut self, intensity: Intensity, now: Instant) -> bool {
        while let Some(&oldest) = self.restarts.front() {
            if now.saturating_duration_since(oldest) >= intensity.within {
                self.restarts.pop_front();
            } else {
                break;
            }
        }
        if self.restarts.len() as u32 >= intensity.max_restarts {
            return false;
        }
        self.restarts.push_back(now);
        true
    }

    /// Restarts counted in the current window.
    pub fn len(&self) -> usize {
        self.restarts.len()
    }

    /// Whether no restart is counted.
    pub fn is_empty(&self) -> bool {
        self.restarts.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn three_in_a_second() -> Intensity {
        Intensity {
            max_restarts: 3,
            within: Duration::from_secs(1),
        }
    }

    #[test]
    fn the_window_slides_rather_than_resetting_at_fixed_ticks() {
        let t0 = Instant::now();
        let mut w = RestartWindow::new();
        let i = three_in_a_second();
        assert!(w.allow(i, t0));
        assert!(w.allow(i, t0 + 600 * MS));
        assert!(w.allow(i, t0 + 900 * MS));
        // A fourth within any 1 s of the first three is refused...
        assert!(!w.allow(i, t0 + 950 * MS));
        // ...and at 1000 ms the first has left the window, so one more fits,
        assert!(w.allow(i, t0 + 1000 * MS));
        // but not two: 600, 900 and 1000 are all within the last second at 1100 ms.
        assert!(!w.allow(i, t0 + 1100 * MS));
        // A fixed window reset every second would have allowed 1100; a sliding one does not
        // until 600 ms has left it.
        assert!(w.allow(i, t0 + 1600 * MS));
    }

    #[test]
    fn zero_restarts_means_never_restart() {
        let mut w = RestartWindow::new();
        let none = Intensity {
            max_restarts: 0,
            within: Duration::from_secs(5),
        };
        assert!(!w.allow(none, Instant::now()));
    }

    #[test]
    fn intensity_reads_from_json_in_milliseconds() {
        let i: Intensity =
            serde_json::from_str(r#"{"max_restarts": 2, "within_ms": 500}"#).unwrap();
        assert_eq!(i.within, Duration::from_millis(500));
        assert_eq!(
            serde_json::to_value(Intensity::default()).unwrap()["within_ms"],
            5000
        );
    }

    proptest::proptest! {
        /// However restarts are spaced, no window of `within` ever holds more than allowed.
        #[test]
        fn no_window_ever_holds_more_than_allowed(
            gaps in proptest::collection::vec(0u64..400, 1..200),
            max in 0u32..6,
        ) {
            let i = Intensity { max_restarts: max, within: Duration::from_millis(1000) };
            let t0 = Instant::now();
            let mut w = RestartWindow::new();
            let mut accepted: Vec<u64> = Vec::new();
            let mut t = 0;
            for gap in gaps {
                t += gap;
                if w.allow(i, t0 + Duration::from_millis(t)) {
                    accepted.push(t);
                }
            }
            for (k, &start) in accepted.iter().enumerate() {
                let in_window = accepted[k..].iter().take_while(|&&x| x < start + 1000).count();
                proptest::prop_assert!(in_window as u32 <= max);
            }
        }
    }
}
