//! Maps and sets keyed by request ids, with a hasher to match.
//!
//! Request ids are `u64`s chosen by the peer (the reference client counts up from 1), looked up
//! on every request and reply. SipHash, the standard library's default, guards against peers
//! that pick keys to collide; these tables are per connection and bounded by its in-flight cap,
//! so a peer that did so would only slow its own connection. One multiplication (the Fx hash
//! of rustc) spreads sequential ids over the table's buckets and control bytes.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A hasher for `u64` request ids: one multiplication by an odd constant.
#[derive(Clone, Copy, Debug, Default)]
pub struct IdHasher(u64);

/// The Fx hash multiplier (from rustc's `FxHasher`).
const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only reached for keys other than `u64`; fold the bytes in, eight at a time.
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(SEED);
    }
}

/// Builds [`IdHasher`]s.
pub type BuildIdHasher = BuildHasherDefault<IdHasher>;
/// A map keyed by request id.
pub type IdMap<V> = HashMap<u64, V, BuildIdHasher>;
/// A set of request ids.
pub type IdSet = HashSet<u64, BuildIdHasher>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn sequential_ids_spread_over_high_and_low_bits() {
        let build = BuildIdHasher::default();
        let hashes: Vec<u64> = (1..=64u64).map(|id| build.hash_one(id)).collect();
        let low: IdSet = hashes.iter().map(|h| h & 63).collect();
        let high: IdSet = hashes.iter().map(|h| h >> 57).collect();
        assert!(low.len() > 32 && high.len() > 32, "{low:?} {high:?}");
        let mut set = IdSet::default();
        assert!(set.insert(7) && !set.insert(7) && set.contains(&7));
    }
}
