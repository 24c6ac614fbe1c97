//! Checks the fuzz targets share. Each target in `fuzz_targets/` feeds bytes to one family of
//! decoders; what they have in common lives here so every target checks the same way.
//!
//! # Layout
//! - `envelope`: decode, then encode and decode again, and the value must not change.
//! - `chunked`: an `AsyncRead` that hands its bytes out in pieces the fuzzer chooses.
//! - `json`: JSON values compared with floats allowed their last-digit drift.

mod chunked;
mod envelope;
mod json;

pub use chunked::Chunked;
pub use envelope::{check_error, round_trip};
pub use json::assert_same_json;

/// The largest frame the targets accept: what a hub accepts by default (1 MiB).
pub const MAX_FRAME: usize = hubwire_core::config::DEFAULT_MAX_FRAME;
