//! The synchronisation primitives of the state that threads share on the outbound path (the
//! outbound buffer, the request ledger's reply queue, held wakes): std's in every build, and
//! loom's in the unit tests built with `--cfg hubwire_loom`, so that the models in `stream/loom_tests.rs` can explore every
//! interleaving of them (docs/concurrency.md).

#[cfg(all(test, hubwire_loom))]
pub(crate) use loom::{
    sync::atomic::{AtomicBool, AtomicUsize, Ordering},
    sync::{Mutex, MutexGuard},
    thread_local,
};
#[cfg(not(all(test, hubwire_loom)))]
pub(crate) use std::{
    sync::atomic::{AtomicBool, AtomicUsize, Ordering},
    sync::{Mutex, MutexGuard},
    thread_local,
};
