//! [`Jitter`]: the source of randomness a policy draws from, injected so tests are exact.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of uniform random numbers in `[0, 1)`.
///
/// Policies never reach for a global generator: the caller passes one in, so a test seeds
/// [`SplitMix64`] and gets the same delays every run, and each actor can own its own source
/// without sharing a lock.
pub trait Jitter {
    /// The next number, uniform in `[0, 1)`. Policies clamp anything outside that range (and
    /// treat NaN as 0), so a faulty source skews delays but never makes them panic.
    fn unit(&mut self) -> f64;
}

impl<J: Jitter + ?Sized> Jitter for &mut J {
    fn unit(&mut self) -> f64 {
        (**self).unit()
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny, fast generator that passes BigCrush; good
/// enough to spread retries, not for anything secret.
///
/// ```
/// use hubwire_core::backoff::{Jitter, SplitMix64};
///
/// let mut a = SplitMix64::new(7);
/// let mut b = SplitMix64::new(7);
/// assert_eq!(a.unit(), b.unit()); // same seed, same numbers
/// ```
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    /// Advanced by a fixed odd constant on every draw; the output is a mix of it.
    state: u64,
}

impl SplitMix64 {
    /// A generator that yields the same sequence for the same seed (tests, replays).
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// A generator seeded from the process's random hash keys and the clock, so that spokes
    /// started together on different machines (or in one process) draw different delays.
    pub fn from_entropy() -> Self {
        let mut hasher = RandomState::new().build_hasher();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|since| since.as_nanos())
            .unwrap_or_default();
        hasher.write_u128(nanos);
        SplitMix64::new(hasher.finish())
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl Default for SplitMix64 {
    /// Seeded from entropy: the right choice outside tests.
    fn default() -> Self {
        SplitMix64::from_entropy()
    }
}

impl Jitter for SplitMix64 {
    fn unit(&mut self) -> f64 {
        // The top 53 bits fill an f64 mantissa exactly: uniform over [0, 1) in steps of 2^-53.
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// A draw from `jitter` forced into `[0, 1)`, so the curve arithmetic can rely on it.
pub(super) fn draw(jitter: &mut dyn Jitter) -> f64 {
    const BELOW_ONE: f64 = 1.0 - f64::EPSILON / 2.0;
    let unit = jitter.unit();
    if unit.is_nan() {
        0.0
    } else {
        unit.clamp(0.0, BELOW_ONE)
    }
}
