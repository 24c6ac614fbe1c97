//! Stream plumbing shared by the client and the server's connection actors: work per read
//! (every whole frame of a read handed on as one batch) and write per pass (everything queued
//! written at once).

mod batches;
mod writer;

pub use batches::{FrameBatches, MAX_BATCH_FRAMES};
pub use writer::write_queued;
