//! Log-linear latency buckets: each power of two split into [`SUB_BUCKETS`] equal parts, so a
//! bucket's width is at most 1/16 of its lower bound and its midpoint is within
//! [`MAX_RELATIVE_ERROR`] of every value in it.
//!
//! ```text
//! index  0..=15   value 0..=15 exactly (width 1)
//! index 16..=31   value 16..=31 exactly (width 1)
//! index 32..=47   value 32..=63, width 2
//! index 48..=63   value 64..=127, width 4
//! ...             each further group of 16 doubles the width
//! index 463       value 4_160_749_568..=4_294_967_295 (the last, ~71.6 minutes)
//! ```

/// Bits of linear resolution within each power of two.
const SUB_BUCKET_BITS: u32 = 4;

/// Linear buckets per power of two.
pub(crate) const SUB_BUCKETS: u64 = 1 << SUB_BUCKET_BITS;

/// The largest latency, in microseconds, kept within [`MAX_RELATIVE_ERROR`]: 2^32 - 1 µs, about
/// 71.6 minutes. Larger values are counted in the last bucket (their percentiles are then only
/// bounded by the exact maximum, which is kept separately), and they still add exactly to the sum.
pub const MAX_TRACKED_MICROS: u64 = u32::MAX as u64;

/// The most a reported percentile differs from the exact one, relative to the exact value:
/// 1/32 (3.125 %). A bucket is at most 1/16 as wide as its lower bound and the midpoint is
/// reported, so the error is at most half a width. Values below 32 µs are exact.
pub const MAX_RELATIVE_ERROR: f64 = 1.0 / (2 * SUB_BUCKETS) as f64;

/// Buckets per histogram shard.
pub(crate) const BUCKET_COUNT: usize = bucket_index(MAX_TRACKED_MICROS) + 1;

/// The bucket counting `micros`; values past [`MAX_TRACKED_MICROS`] go to the last bucket.
pub(crate) const fn bucket_index(micros: u64) -> usize {
    let v = if micros > MAX_TRACKED_MICROS {
        MAX_TRACKED_MICROS
    } else {
        micros
    };
    if v < SUB_BUCKETS {
        return v as usize;
    }
    // `v >> shift` keeps the top SUB_BUCKET_BITS + 1 bits: 16..=31, the leading 1 and the
    // linear position within this power of two.
    let top_bit = 63 - v.leading_zeros();
    let shift = top_bit - SUB_BUCKET_BITS;
    (((shift + 1) as u64 * SUB_BUCKETS) + (v >> shift) - SUB_BUCKETS) as usize
}

/// The lowest and highest value (inclusive) counted in bucket `index`.
pub(crate) const fn bucket_bounds(index: usize) -> (u64, u64) {
    let index = index as u64;
    if index < SUB_BUCKETS {
        return (index, index);
    }
    let shift = index / SUB_BUCKETS - 1;
    let low = (SUB_BUCKETS + index % SUB_BUCKETS) << shift;
    (low, low + (1 << shift) - 1)
}

/// The value reported for anything in bucket `index`: its midpoint, rounded down.
pub(crate) const fn bucket_midpoint(index: usize) -> u64 {
    let (low, high) = bucket_bounds(index);
    low + (high - low) / 2
}
