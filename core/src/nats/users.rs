//! The hub's users (`docs/security.md`) on the NATS listener: [`UsersGate`] requires
//! credentials and leaves their check to the driver (argon2 hashes take tens of milliseconds:
//! they are checked off the I/O thread, by the server's auth gate), and [`UserPermissions`]
//! holds an admitted client to its user's grants, with NATS's reply inboxes allowed.

use std::sync::Arc;

use super::auth::{Credentials, NatsGate, NatsPermissions};
use crate::auth::{inbox_token, User};
use crate::pubsub::{Channel, Pattern, PatternToken};

/// The first token of the reply inboxes NATS clients make (`_INBOX.<nuid>...`).
pub const NATS_INBOX: &str = "_INBOX";

/// The shortest inbox token taken as a client's own: a NUID's 22 letters and digits (about
/// 131 bits), which nobody else can guess.
pub const MIN_INBOX_TOKEN: usize = 22;

/// A hub with users: every client must present credentials in its CONNECT, checked by the
/// driver ([`NatsGate::checked_by_driver`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct UsersGate;

impl NatsGate for UsersGate {
    fn auth_required(&self) -> bool {
        true
    }

    fn checked_by_driver(&self) -> bool {
        true
    }

    fn admit(&self, _: Credentials<'_>) -> Option<Arc<dyn NatsPermissions>> {
        // The driver checks; a session asking here has nobody to admit.
        None
    }
}

/// What a NATS client admitted as `user` may do: what the user's permissions grant, plus
/// the reply inboxes requests and answers need:
///
/// - subscribing to an inbox of its own, `_INBOX.<token>`, `_INBOX.<token>.*` or
///   `_INBOX.<token>.>` with a token of at least [`MIN_INBOX_TOKEN`] letters and digits;
/// - publishing into any reply inbox (a NATS `_INBOX.<token>...` or a hubwire caller's
///   `_inbox.<32 hex>...`): whoever received a request may answer it, as on hubwire's own
///   transports.
#[derive(Debug, Clone)]
pub struct UserPermissions {
    user: Arc<User>,
}

impl UserPermissions {
    /// `user`'s permissions.
    pub fn new(user: Arc<User>) -> Self {
        UserPermissions { user }
    }

    /// The user.
    pub fn user(&self) -> &User {
        &self.user
    }
}

impl NatsPermissions for UserPermissions {
    fn may_publish(&self, channel: &Channel) -> bool {
        is_reply_inbox(channel)
            || self
                .user
                .permissions()
                .check_publish(channel, false)
                .is_ok()
    }

    fn may_subscribe(&self, pattern: &Pattern) -> bool {
        is_own_nats_inbox(pattern) || self.user.permissions().check_subscribe(pattern).is_ok()
    }
}

fn is_inbox_token(token: &str) -> bool {
    token.len() >= MIN_INBOX_TOKEN && token.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Whether `channel` is in a reply inbox: NATS's `_INBOX/<token>/...` or hubwire's.
pub fn is_reply_inbox(channel: &Channel) -> bool {
    if inbox_token(channel).is_some() {
        return true;
    }
    let mut tokens = channel.tokens();
    tokens.next() == Some(NATS_INBOX) && tokens.next().is_some_and(is_inbox_token)
}

/// Whether `pattern` is a NATS client's own inbox subscription: `_INBOX/<token>`, with `*`
/// or `*/**` (NATS's `>`) after it or nothing.
pub fn is_own_nats_inbox(pattern: &Pattern) -> bool {
    match pattern.tokens() {
        [PatternToken::Literal(inbox), PatternToken::Literal(token), rest @ ..]
            if &**inbox == NATS_INBOX && is_inbox_token(token) =>
        {
            matches!(
                rest,
                [] | [PatternToken::Star] | [PatternToken::Star, PatternToken::DoubleStar]
            )
        }
        _ => false,
    }
}
