//! The hook between a NATS client's credentials and the hub's users: [`NatsGate`] admits or
//! refuses a CONNECT and answers what the admitted client may do ([`NatsPermissions`]). A hub
//! with no users uses [`OpenGate`]: everyone is admitted and may do everything. The users and
//! permissions of `docs/security.md` plug in here as [`UsersGate`](super::UsersGate).

use std::fmt::Debug;
use std::sync::Arc;

use crate::pubsub::{Channel, Pattern};

/// What a client presented in its CONNECT.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Credentials<'a> {
    /// `user`.
    pub user: Option<&'a str>,
    /// `pass`.
    pub pass: Option<&'a str>,
    /// `auth_token`.
    pub token: Option<&'a str>,
}

/// Admits NATS clients.
pub trait NatsGate: Debug + Send + Sync {
    /// Whether a client must present credentials (sent in INFO as `auth_required`; a client
    /// that sends anything before CONNECT is refused).
    fn auth_required(&self) -> bool;

    /// Whether the driver checks credentials itself, off the I/O thread (the hub's users,
    /// whose password hashes take tens of milliseconds): the session then asks for the check
    /// with [`NatsStep::Authenticate`](super::NatsStep::Authenticate) instead of calling
    /// [`admit`](Self::admit), and takes the outcome in
    /// [`NatsSession::admitted`](super::NatsSession::admitted).
    fn checked_by_driver(&self) -> bool {
        false
    }

    /// The permissions of the client that presented `credentials`, or `None`: refused, with
    /// `-ERR 'Authorization Violation'`.
    fn admit(&self, credentials: Credentials<'_>) -> Option<Arc<dyn NatsPermissions>>;
}

/// What an admitted client may do. A denied publish or subscription is answered
/// `-ERR 'Permissions Violation for ...'`; the connection stays open.
pub trait NatsPermissions: Debug + Send + Sync {
    /// Whether it may publish to `channel`.
    fn may_publish(&self, channel: &Channel) -> bool;

    /// Whether it may subscribe to `pattern`.
    fn may_subscribe(&self, pattern: &Pattern) -> bool;
}

/// A hub without users: every client is admitted, whatever it presents, and may do everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenGate;

/// Every publish and subscription allowed.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowEverything;

impl NatsPermissions for AllowEverything {
    fn may_publish(&self, _: &Channel) -> bool {
        true
    }

    fn may_subscribe(&self, _: &Pattern) -> bool {
        true
    }
}

impl NatsGate for OpenGate {
    fn auth_required(&self) -> bool {
        false
    }

    fn admit(&self, _: Credentials<'_>) -> Option<Arc<dyn NatsPermissions>> {
        Some(Arc::new(AllowEverything))
    }
}
