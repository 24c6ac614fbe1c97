//! Supervision: a supervisor actor starts its children, sees every way they end (a panic, a
//! failed start, a stop without saying it finished), restarts them by strategy and policy after
//! a back-off, and gives up, stopping its children and escalating, when restarts come too fast.
//!
//! ```text
//! Server (root supervisor "server")
//! ├── supervisor "listeners.tcp"    one_for_one
//! │   ├── listener tcp://127.0.0.1:7400
//! │   └── listener tcp://[::1]:7400
//! └── supervisor "listeners.unix"   one_for_one
//!     └── listener unix:///run/app.sock
//! ```
//!
//! A child runs its actix context as a task of its own, so a panic is seen as a panicked task
//! (never a silent disappearance) and killing it is aborting the task. Callers reach a child
//! through a [`ChildHandle`], which always points at the current incarnation.
//! `docs/runtime-semantics.md` says what a restart keeps and drops.

mod child;
mod handle;
#[allow(clippy::module_inception)]
mod supervisor;

pub use child::{actor_child, stop_now, ChildSpec, ExitReporter, StopChild};
pub use handle::{ChildHandle, Undelivered};
pub use supervisor::{FailChild, GaveUp, Now, Supervisor, SupervisorOptions};
