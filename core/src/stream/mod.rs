//! Stream plumbing shared by the client and the server's connection actors: work per read
//! (every whole frame of a read handed on as one batch), write per pass (everything queued
//! written at once, from one outbound buffer per stream), and the connections' timers kept off
//! the I/O threads.

pub mod activity;
mod batches;
mod gate;
mod handshake;
mod held_wakes;
mod ids;
mod ledger;
mod outbound;
mod stall;
mod timer;
mod trim;

#[cfg(test)]
mod handshake_tests;
#[cfg(all(test, hubwire_loom))]
mod loom_tests;

pub use batches::{FrameBatch, FrameBatches, MAX_BATCH_FRAMES};
pub use gate::{ReadGate, ReadPause};
pub use handshake::{
    exchange_hello, exchange_hello_as, handshake, read_one_frame, HandshakeError, HandshakeOffer,
    Handshaken,
};
pub use held_wakes::hold_wakes;
pub use ids::{BuildIdHasher, IdHasher, IdMap, IdSet};
pub use ledger::{Refused, ReplyQueue, RequestLedger, MIN_PEER_MAX_FRAME};
pub use outbound::{Outbound, OutboundGuard};
pub use stall::{Backlog, StallWatch};
pub use timer::spawn_timer;
pub use trim::{return_free_memory, FreeMemory, TRIM_AFTER_CLOSES};
