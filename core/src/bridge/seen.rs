//! [`SeenSet`]: which recent messages of each origin this hub has had.

use std::collections::HashMap;

use super::{HubId, SEEN_WINDOW};

const WORDS: usize = (SEEN_WINDOW / 64) as usize;

/// A backstop against duplicates while routes converge: per origin, the highest message
/// sequence number seen and a sliding window of the [`SEEN_WINDOW`] numbers below it (an
/// anti-replay window). A number below the window counts as seen, so a message can never come
/// round twice, however late. Memory is bounded by the number of origins; drop the ones no
/// longer in the link-state database with [`retain`](Self::retain).
///
/// ```
/// use hubwire_core::bridge::{HubId, SeenSet};
///
/// let mut seen = SeenSet::default();
/// assert!(seen.first_time(HubId(1), 5));
/// assert!(!seen.first_time(HubId(1), 5));
/// assert!(seen.first_time(HubId(1), 3)); // late, but inside the window
/// assert!(seen.first_time(HubId(1), 2000));
/// assert!(!seen.first_time(HubId(1), 4)); // below the window: counts as seen
/// ```
#[derive(Debug, Default)]
pub struct SeenSet {
    origins: HashMap<HubId, Window>,
}

#[derive(Debug)]
struct Window {
    highest: u64,
    /// Bit `seq % SEEN_WINDOW` says whether `seq` was seen, for `seq` in the window.
    bits: [u64; WORDS],
}

impl Window {
    fn bit(seq: u64) -> (usize, u64) {
        let at = seq % SEEN_WINDOW;
        ((at / 64) as usize, 1 << (at % 64))
    }

    fn test_and_set(&mut self, seq: u64) -> bool {
        let (word, mask) = Window::bit(seq);
        let was = self.bits[word] & mask != 0;
        self.bits[word] |= mask;
        was
    }

    fn clear(&mut self, seq: u64) {
        let (word, mask) = Window::bit(seq);
        self.bits[word] &= !mask;
    }
}

impl SeenSet {
    /// Whether message `seq` of `origin` is new here: `true` once, `false` for a repeat or
    /// for a number [`SEEN_WINDOW`] or more below the highest seen.
    pub fn first_time(&mut self, origin: HubId, seq: u64) -> bool {
        let window = self.origins.entry(origin).or_insert_with(|| Window {
            highest: seq,
            bits: [0; WORDS],
        });
        if seq > window.highest {
            if seq - window.highest >= SEEN_WINDOW {
                window.bits = [0; WORDS];
            } else {
                for skipped in window.highest + 1..=seq {
                    window.clear(skipped);
                }
            }
            window.highest = seq;
        } else if window.highest - seq >= SEEN_WINDOW {
            return false;
        }
        !window.test_and_set(seq)
    }

    /// Forgets the origins for which `keep` says no.
    pub fn retain(&mut self, mut keep: impl FnMut(HubId) -> bool) {
        self.origins.retain(|&origin, _| keep(origin));
    }

    /// How many origins are remembered.
    pub fn len(&self) -> usize {
        self.origins.len()
    }

    /// Whether no origin is remembered.
    pub fn is_empty(&self) -> bool {
        self.origins.is_empty()
    }
}
