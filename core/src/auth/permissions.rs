//! [`Permissions`]: what one user may do. Everything is denied unless a pattern grants it;
//! the reply inboxes of the user's own pub/sub calls need no grant.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::matching::{covers, RoutePattern};
use crate::pubsub::{Channel, Pattern, PatternToken};

/// The config form of a user's permissions (`users.NAME.permissions`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionSpec {
    /// Route patterns the user may call (`dice.*`, `hubwire.stats`, `**`).
    #[serde(default)]
    pub call: Vec<String>,
    /// Channel patterns the user may publish to (`sensors/**`).
    #[serde(default)]
    pub publish: Vec<String>,
    /// Channel patterns the user may subscribe within (`sensors/*/temp`).
    #[serde(default)]
    pub subscribe: Vec<String>,
    /// Whether the user may use the mutating `hubwire.*` operator endpoints (log level, queue
    /// and sender changes, fault injection); they also need a `call` grant for the route.
    #[serde(default)]
    pub admin: bool,
}

/// A user's checked permissions.
#[derive(Clone, Debug, Default)]
pub struct Permissions {
    call: Vec<RoutePattern>,
    publish: Vec<Pattern>,
    subscribe: Vec<Pattern>,
    admin: bool,
}

/// What was denied, named for the error the peer gets (code 200 `denied`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Denied {
    /// A call to this route.
    Call(String),
    /// A mutating operator endpoint, for a user without `admin`.
    Admin(String),
    /// A publish to this channel.
    Publish(String),
    /// A subscription to this pattern.
    Subscribe(String),
}

impl Denied {
    /// The message for the peer, naming the user and what was denied.
    pub fn message(&self, user: &str) -> String {
        match self {
            Denied::Call(route) => {
                format!("user {user:?} may not call route {route:?} (permissions.call)")
            }
            Denied::Admin(route) => format!(
                "user {user:?} may not change state through {route:?}: operator endpoints are for users with permissions.admin"
            ),
            Denied::Publish(channel) => {
                format!("user {user:?} may not publish to channel {channel:?} (permissions.publish)")
            }
            Denied::Subscribe(pattern) => format!(
                "user {user:?} may not subscribe to {pattern:?} (permissions.subscribe)"
            ),
        }
    }
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Denied::Call(r) => write!(f, "call {r}"),
            Denied::Admin(r) => write!(f, "admin {r}"),
            Denied::Publish(c) => write!(f, "publish {c}"),
            Denied::Subscribe(p) => write!(f, "subscribe {p}"),
        }
    }
}

/// Whether `route` is an operator endpoint that changes state (given its request `body`, for
/// `hubwire.log.level`, which only reads unless it names a level).
pub fn is_mutating_operator_route(route: &str, body: &[u8]) -> bool {
    const CHANGES: [&str; 5] = ["pop", "requeue", "requeue_all", "clear", "pause"];
    if let Some(op) = route
        .strip_prefix("hubwire.queue.")
        .or_else(|| route.strip_prefix("hubwire.sender."))
    {
        return CHANGES.contains(&op);
    }
    if route.starts_with("hubwire.fault.") {
        return true;
    }
    if route == "hubwire.log.level" {
        #[derive(Deserialize)]
        struct Probe {
            #[serde(default)]
            level: Option<serde::de::IgnoredAny>,
        }
        // A body that does not read is refused by the endpoint itself; count it as a change
        // so that it never slips past the check.
        return match rmp_serde::from_slice::<Option<Probe>>(body) {
            Ok(probe) => probe.and_then(|p| p.level).is_some(),
            Err(_) => !body.is_empty(),
        };
    }
    false
}

/// The protocol's reply inboxes (`_inbox/<32 hex digits>/...`, protocol.md 10.5).
const INBOX: &str = "_inbox";

fn is_inbox_token(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The token of a reply-inbox channel (`_inbox/<token>/...`), if `channel` is one.
pub fn inbox_token(channel: &Channel) -> Option<&str> {
    let mut tokens = channel.tokens();
    (tokens.next() == Some(INBOX))
        .then(|| tokens.next())
        .flatten()
        .filter(|t| is_inbox_token(t))
}

/// The token of a caller's own inbox subscription (`_inbox/<token>/*`), if `pattern` is one.
pub fn own_inbox_token(pattern: &Pattern) -> Option<&str> {
    match pattern.tokens() {
        [PatternToken::Literal(inbox), PatternToken::Literal(token), PatternToken::Star]
            if &**inbox == INBOX && is_inbox_token(token) =>
        {
            Some(token)
        }
        _ => None,
    }
}

impl Permissions {
    /// Checks a config form; the error names the pattern that does not parse.
    pub fn from_spec(spec: &PermissionSpec) -> Result<Permissions, String> {
        let call = spec
            .call
            .iter()
            .map(|p| p.parse::<RoutePattern>())
            .collect::<Result<_, _>>()?;
        let channels = |list: &[String], key: &str| -> Result<Vec<Pattern>, String> {
            list.iter()
                .map(|p| Pattern::parse(p).map_err(|e| format!("{key} pattern {p:?}: {e}")))
                .collect()
        };
        Ok(Permissions {
            call,
            publish: channels(&spec.publish, "publish")?,
            subscribe: channels(&spec.subscribe, "subscribe")?,
            admin: spec.admin,
        })
    }

    /// Everything allowed: for servers without users, and admins of every kind.
    pub fn all() -> Permissions {
        let everything = Pattern::parse("**").expect("** is a pattern");
        Permissions {
            call: vec!["**".parse().expect("** is a route pattern")],
            publish: vec![everything.clone()],
            subscribe: vec![everything],
            admin: true,
        }
    }

    /// Whether the user may call `route` at all (a call grant).
    pub fn may_call(&self, route: &str) -> bool {
        self.call.iter().any(|p| p.matches(route))
    }

    /// The check a server makes on a REQUEST: a call grant, and `admin` for a mutating
    /// operator endpoint.
    pub fn check_call(&self, route: &str, body: &[u8]) -> Result<(), Denied> {
        if !self.may_call(route) {
            return Err(Denied::Call(route.to_owned()));
        }
        if !self.admin && is_mutating_operator_route(route, body) {
            return Err(Denied::Admin(route.to_owned()));
        }
        Ok(())
    }

    /// Whether the user may use mutating operator endpoints.
    pub fn is_admin(&self) -> bool {
        self.admin
    }

    /// The check on a PUBLISH to `channel`. `answer` is a PUBLISH carrying ACK, REPLY or
    /// ERROR: answering a call on a reply inbox needs no grant (whoever got the call may
    /// answer it), anything else on an inbox does, unless it is the publisher's own inbox
    /// (the server checks that against the connection's inbox subscriptions, see
    /// [`own_inbox_token`]).
    pub fn check_publish(&self, channel: &Channel, answer: bool) -> Result<(), Denied> {
        let on_inbox = inbox_token(channel).is_some();
        if (answer && on_inbox) || self.publish.iter().any(|p| p.matches(channel)) {
            return Ok(());
        }
        Err(Denied::Publish(channel.as_str().to_owned()))
    }

    /// The check on a subscription to `pattern`: one granted pattern must cover it (every
    /// channel it matches), or it is the caller's own reply inbox, `_inbox/<token>/*`, whose
    /// 128-bit token only the caller knows.
    pub fn check_subscribe(&self, pattern: &Pattern) -> Result<(), Denied> {
        if own_inbox_token(pattern).is_some()
            || self
                .subscribe
                .iter()
                .any(|granted| covers(granted.tokens(), pattern.tokens()))
        {
            return Ok(());
        }
        Err(Denied::Subscribe(pattern.to_string()))
    }
}
