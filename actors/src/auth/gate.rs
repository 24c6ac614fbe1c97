//! [`AuthGate`]: the one actor that owns the failure throttle and runs password checks.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use actix::{Actor, Addr, AsyncContext, Context, Handler, Message};
use hubwire_core::auth::{AuthFailure, Credentials, FailureThrottle, ThrottleLimits, User, Users};
use hubwire_core::stats::{Counter, Gauge, StatsRegistry};
use tokio::sync::{oneshot, Semaphore};

/// Password checks (argon2, 19 MiB and tens of milliseconds each with the default
/// parameters) run at once at most; more wait their turn.
pub const MAX_CHECKS_AT_ONCE: usize = 2;

/// A connection's request to check `credentials`; the answer comes on `reply`.
#[derive(Debug)]
pub struct Check {
    /// The peer's address, whose failures are counted and slowed down (`None` for Unix
    /// sockets and in-process peers, which are not slowed down).
    pub ip: Option<IpAddr>,
    /// What the peer presented.
    pub credentials: Credentials,
    /// Where the outcome goes.
    pub reply: oneshot::Sender<Result<Arc<User>, AuthFailure>>,
}

impl Message for Check {
    type Result = ();
}

/// A check finished (sent by the check's task back to the gate).
struct Checked {
    ip: Option<IpAddr>,
    result: Result<Arc<User>, AuthFailure>,
    reply: oneshot::Sender<Result<Arc<User>, AuthFailure>>,
}

impl Message for Checked {
    type Result = ();
}

/// What the gate counts (`auth.*` in `hubwire.stats`).
#[derive(Clone, Debug)]
struct AuthStats {
    registry: StatsRegistry,
    succeeded: Counter,
    delayed: Counter,
    throttled_addresses: Gauge,
}

/// Checks credentials, slows down failing addresses, counts outcomes.
#[derive(Debug)]
pub struct AuthGate {
    users: Arc<Users>,
    throttle: FailureThrottle,
    permits: Arc<Semaphore>,
    stats: AuthStats,
}

impl AuthGate {
    /// A gate over `users`, counting into `registry`.
    pub fn new(users: Arc<Users>, limits: ThrottleLimits, registry: &StatsRegistry) -> Self {
        AuthGate {
            users,
            throttle: FailureThrottle::new(limits),
            permits: Arc::new(Semaphore::new(MAX_CHECKS_AT_ONCE)),
            stats: AuthStats {
                registry: registry.clone(),
                succeeded: registry.counter("auth.succeeded", &[]),
                delayed: registry.counter("auth.delayed", &[]),
                throttled_addresses: registry.gauge("auth.throttled_addresses", &[]),
            },
        }
    }
}

impl Actor for AuthGate {
    type Context = Context<Self>;
}

impl Handler<Check> for AuthGate {
    type Result = ();

    fn handle(&mut self, check: Check, ctx: &mut Context<Self>) {
        let wait = check
            .ip
            .map(|ip| self.throttle.wait(ip, Instant::now()))
            .unwrap_or_default();
        if !wait.is_zero() {
            self.stats.delayed.inc();
        }
        let users = self.users.clone();
        let permits = self.permits.clone();
        let me = ctx.address();
        let Check {
            ip,
            credentials,
            reply,
        } = check;
        actix::spawn(async move {
            tokio::time::sleep(wait).await;
            let Ok(_permit) = permits.acquire_owned().await else {
                return;
            };
            let checked =
                tokio::task::spawn_blocking(move || users.authenticate(&credentials)).await;
            // A check that panicked counts as a failure, never as a pass.
            let result = checked.unwrap_or(Err(AuthFailure::Missing));
            me.do_send(Checked { ip, result, reply });
        });
    }
}

impl Handler<Checked> for AuthGate {
    type Result = ();

    fn handle(&mut self, checked: Checked, _: &mut Context<Self>) {
        match (&checked.result, checked.ip) {
            (Ok(_), ip) => {
                self.stats.succeeded.inc();
                if let Some(ip) = ip {
                    self.throttle.succeeded(ip);
                }
            }
            (Err(failure), ip) => {
                let reason = failure.reason();
                self.stats
                    .registry
                    .counter("auth.failures", &[("reason", reason)])
                    .inc();
                if let Some(ip) = ip {
                    let delay = self.throttle.failed(ip, Instant::now());
                    tracing::warn!(%ip, %failure, ?delay, "authentication failed; the address's next attempt waits");
                }
            }
        }
        self.stats
            .throttled_addresses
            .set(self.throttle.len() as i64);
        let _ = checked.reply.send(checked.result);
    }
}

/// What a server's connections need to authenticate and authorise: the users, and the gate
/// that checks passwords. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Authenticator {
    /// The users (for TLS identities, looked up without the gate).
    pub users: Arc<Users>,
    /// The gate.
    pub gate: Addr<AuthGate>,
}

impl Authenticator {
    /// Starts a gate in the current actix system.
    pub fn start(users: Users, limits: ThrottleLimits, registry: &StatsRegistry) -> Self {
        let users = Arc::new(users);
        let gate = AuthGate::new(users.clone(), limits, registry).start();
        Authenticator { users, gate }
    }
}
