//! Guards the bucket layout that the histogram's accuracy promise rests on.

use proptest::prelude::*;

use super::buckets::{bucket_bounds, bucket_index, bucket_midpoint, BUCKET_COUNT, SUB_BUCKETS};
use super::{MAX_RELATIVE_ERROR, MAX_TRACKED_MICROS};

#[test]
fn buckets_tile_the_tracked_range_without_gaps_or_overlaps() {
    assert_eq!(bucket_bounds(0).0, 0);
    for index in 1..BUCKET_COUNT {
        assert_eq!(
            bucket_bounds(index - 1).1 + 1,
            bucket_bounds(index).0,
            "gap or overlap before bucket {index}"
        );
    }
    assert_eq!(bucket_bounds(BUCKET_COUNT - 1).1, MAX_TRACKED_MICROS);
}

#[test]
fn every_midpoint_is_within_the_relative_error_of_its_bucket() {
    for index in 1..BUCKET_COUNT {
        let (low, high) = bucket_bounds(index);
        let mid = bucket_midpoint(index);
        assert!(
            (mid - low) as f64 <= low as f64 * MAX_RELATIVE_ERROR,
            "bucket {index}"
        );
        assert!(
            (high - mid) as f64 <= high as f64 * MAX_RELATIVE_ERROR,
            "bucket {index}"
        );
    }
}

#[test]
fn small_latencies_have_buckets_of_their_own() {
    for micros in 0..2 * SUB_BUCKETS {
        assert_eq!(bucket_bounds(bucket_index(micros)), (micros, micros));
    }
}

#[test]
fn latencies_past_the_tracked_range_land_in_the_last_bucket() {
    for micros in [MAX_TRACKED_MICROS, MAX_TRACKED_MICROS + 1, u64::MAX] {
        assert_eq!(bucket_index(micros), BUCKET_COUNT - 1);
    }
}

#[test]
fn powers_of_two_and_their_neighbours_land_in_buckets_holding_them() {
    for bit in 0..32 {
        let power = 1u64 << bit;
        for micros in [power - 1, power, power + 1] {
            let (low, high) = bucket_bounds(bucket_index(micros));
            assert!(
                low <= micros && micros <= high,
                "{micros} in [{low}, {high}]"
            );
        }
    }
}

proptest! {
    #[test]
    fn any_tracked_latency_lands_in_a_bucket_holding_it(micros in 0..=MAX_TRACKED_MICROS) {
        let (low, high) = bucket_bounds(bucket_index(micros));
        prop_assert!(low <= micros && micros <= high, "{} in [{}, {}]", micros, low, high);
    }
}
