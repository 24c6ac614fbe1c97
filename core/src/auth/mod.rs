//! Who a peer is, and what it may do: users with argon2 password hashes, tokens and TLS
//! identities ([`Users`]), their permissions over routes and channels ([`Permissions`]), and
//! the slowing down of addresses that keep failing ([`FailureThrottle`]). Plain code: the
//! connection drivers in `hubwire-actors`, and any other front-end (a NATS-protocol listener,
//! say), call the same hook:
//!
//! ```
//! use hubwire_core::auth::{Credentials, Users, UserSpec};
//! let users = Users::from_specs([("reader".to_owned(), UserSpec {
//!     token_sha256: Some(hubwire_core::auth::token_sha256("s3cret-token")),
//!     ..UserSpec::default()
//! })]).unwrap();
//! let user = users.authenticate(&Credentials::token("s3cret-token")).unwrap();
//! assert_eq!(user.name(), "reader");
//! assert!(!user.permissions().may_call("dice.roll")); // nothing unless granted
//! ```
//!
//! - `credentials.rs`: [`Credentials`], what a client presents (user + password, or a token).
//! - `users.rs`: [`UserSpec`] (the config form, plain-text passwords refused) and [`Users`],
//!   the checked table with [`Users::authenticate`] and [`Users::by_tls_identity`].
//! - `permissions.rs`: [`Permissions`] and [`Denied`]: routes, publish, subscribe, admin.
//! - `matching.rs`: pattern matching over tokens, for dotted routes and slashed channels, and
//!   the "one pattern covers another" test that subscribe permissions need.
//! - `throttle.rs`: [`FailureThrottle`], a growing delay per failing address, bounded in memory.

mod credentials;
mod matching;
mod permissions;
mod throttle;
mod users;

#[cfg(test)]
mod matching_props;
#[cfg(test)]
mod tests;

pub use credentials::{split_userinfo, Credentials};
pub use matching::{covers, route_pattern, RoutePattern};
pub use permissions::{
    inbox_token, is_mutating_operator_route, own_inbox_token, Denied, PermissionSpec, Permissions,
};
pub use throttle::{FailureThrottle, ThrottleLimits};
pub use users::{
    hash_password, hash_password_with, new_token, token_sha256, AuthFailure, User, UserSpec, Users,
    UsersError,
};
