//! Per-thread shards: each thread records into its own cache line, and reads merge them all.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Shards per series. Threads beyond this many share shards, which stays correct (the shards
/// are atomics) and only brings back some contention; hubwire runs about one thread per core.
pub(crate) const SHARD_COUNT: usize = 16;

/// Bytes a value is aligned to so two shards never share a cache line. 128 rather than 64
/// because x86 prefetches cache lines in adjacent pairs and Apple silicon has 128-byte lines.
const CACHE_LINE_BYTES: usize = 128;

/// A value alone on its cache line(s), so writes to a neighbour do not invalidate it.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct CachePadded<T>(pub(crate) T);

// `repr(align)` takes a literal; this keeps the constant and the attribute in step.
const _: () = assert!(std::mem::align_of::<CachePadded<u8>>() == CACHE_LINE_BYTES);

/// Hands out shard indices round-robin, one per thread on its first recording.
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static THREAD_SHARD: usize = NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARD_COUNT;
}

/// The shard this thread records into; the same for the life of the thread.
pub(crate) fn thread_shard() -> usize {
    // `try_with` fails only while the thread's locals are being torn down; any shard is
    // correct then, since every shard is an atomic.
    THREAD_SHARD.try_with(|i| *i).unwrap_or(0)
}

/// One `T` per shard, each on its own cache line.
#[derive(Debug)]
pub(crate) struct Shards<T> {
    shards: Box<[CachePadded<T>; SHARD_COUNT]>,
}

impl<T: Default> Shards<T> {
    /// Every shard at `T::default()`.
    pub(crate) fn new() -> Self {
        Shards {
            shards: Box::new(std::array::from_fn(|_| CachePadded::default())),
        }
    }
}

impl<T> Shards<T> {
    /// The calling thread's shard.
    pub(crate) fn local(&self) -> &T {
        &self.shards[thread_shard()].0
    }

    /// Every shard, for merging on read.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.shards.iter().map(|padded| &padded.0)
    }
}
