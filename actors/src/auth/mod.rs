//! Authentication on a server: the [`AuthGate`] actor checks credentials off the I/O threads,
//! a bounded number at a time, and slows down addresses that keep failing; connections hold
//! an [`Authenticator`] (the users and the gate) and check every request, publish and
//! subscription against the user's permissions (`hubwire_core::auth`).
//!
//! ```text
//! Connection ──Check──▶ AuthGate ─(wait the address's delay)─▶ blocking pool: argon2
//!      ▲                   │  records the outcome (FailureThrottle, auth.* figures)
//!      └──── the user, or why not ◀──┘
//! ```

mod gate;

pub use gate::{AuthGate, Authenticator, Check, MAX_CHECKS_AT_ONCE};
