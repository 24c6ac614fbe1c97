//! [`NatsSession`]: one NATS client's connection to a hub, decided without I/O. Bytes and the
//! time go in; what to write comes out in a buffer, and what to do in [`NatsStep`]s: route a
//! publish, send a batch of subscription changes to the hub's table, update the connection's
//! [`SidBook`](super::SidBook), close.
//!
//! ```text
//!  bytes, now ─▶ receive ─┐
//!                         ├─▶ next(out) ─▶ NatsStep: Connected / Publish / Book / Changes / Close
//!  table's answer ─▶ on_applied(out)      (INFO, +OK, PONG, -ERR written to `out`, in order)
//!  now ─▶ on_tick ─▶ Tick: Quiet / Ping / Close
//! ```
//!
//! A client's operations take effect in the order it sent them, as on nats-server: a SUB is
//! in force for the PUB that follows it, and a PONG answers only once every SUB before its
//! PING is. Subscription changes are gathered into one batch for the table; the first
//! operation after them that is not a subscription change waits (nothing more is read) until
//! the table has applied the batch.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use super::auth::{Credentials, NatsGate, NatsPermissions};
use super::connect::ConnectOptions;
use super::encoded::Reader;
use super::mapping::{publish_to_channel, PublishError};
use super::subject_cache::SubjectCache;
use super::{
    subject_to_pattern, write_err, write_info, write_ok, write_pong, ClientOp, ClientParser, Info,
    SubjectError,
};
use crate::protocol::{Publish, MAX_GROUP_BYTES};
use crate::pubsub::{Change, Channel, Declined, Wanted};

/// The bounds and timers of a NATS connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NatsLimits {
    /// The longest control line, and the largest payload.
    pub parser: ClientParser,
    /// A connection quiet for this long is sent a PING.
    pub ping_interval: Duration,
    /// PINGs unanswered before the connection is stale.
    pub max_pings_out: u32,
    /// Time allowed for CONNECT when the hub requires credentials.
    pub auth_timeout: Duration,
}

/// A change to the connection's [`SidBook`](super::SidBook), which deliveries read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookChange {
    /// A new subscription.
    Add {
        /// The hub's sid.
        sid: u64,
        /// The client's sid.
        text: String,
    },
    /// A subscription ended.
    Remove {
        /// The hub's sid.
        sid: u64,
    },
    /// A subscription ends after `max` messages in all. If it has had them, the driver
    /// removes it and calls [`NatsSession::ended`].
    Limit {
        /// The hub's sid.
        sid: u64,
        /// Its maximum.
        max: u64,
    },
}

/// What the driver does.
#[derive(Debug)]
pub enum NatsStep {
    /// CONNECT was accepted: deliveries are written as `reader` reads them.
    Connected {
        /// What the client reads.
        reader: Reader,
        /// Its name, for logs.
        name: Option<String>,
    },
    /// Check these credentials (the gate is [`checked_by_driver`](NatsGate::checked_by_driver))
    /// and answer with [`admitted`](NatsSession::admitted). Nothing more is read meanwhile.
    Authenticate(crate::auth::Credentials),
    /// Route this publish now.
    Publish(Publish),
    /// Apply this to the connection's book now.
    Book(BookChange),
    /// Send these changes to the hub's table; call [`on_applied`](NatsSession::on_applied)
    /// with its answer. Nothing more is read meanwhile.
    Changes(Vec<Change>),
    /// Close once what is written has gone out.
    Close(String),
}

/// What the keepalive asks of the driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tick {
    /// Nothing.
    Quiet,
    /// Write `PING` ([`write_ping`](super::write_ping)), ahead of queued messages.
    Ping,
    /// Close, after `-ERR` with this text (written to `out`).
    Close(String),
}

/// Where the client is.
#[derive(Debug)]
enum Phase {
    /// No CONNECT yet.
    Opened,
    /// CONNECT read; its credentials are being checked by the driver.
    Authenticating { options: ConnectOptions },
    /// CONNECT accepted (or, with no credentials required, operations before it).
    Connected {
        options: ConnectOptions,
        permissions: Arc<dyn NatsPermissions>,
    },
    /// Closing: nothing more is read.
    Closed,
}

/// What a client that is not connected may do: nothing. (Operations are carried out only
/// once it is; this stands in for permissions it does not have.)
#[derive(Debug)]
struct DenyEverything;

impl NatsPermissions for DenyEverything {
    fn may_publish(&self, _: &Channel) -> bool {
        false
    }

    fn may_subscribe(&self, _: &crate::pubsub::Pattern) -> bool {
        false
    }
}

/// One NATS client's connection state.
#[derive(Debug)]
pub struct NatsSession {
    limits: NatsLimits,
    info: Info,
    gate: Arc<dyn NatsGate>,
    phase: Phase,
    inbound: BytesMut,
    /// The client's sids and the hub's numbers for them, both ways.
    sids: HashMap<String, u64>,
    texts: HashMap<u64, String>,
    next_sid: u64,
    /// Subscription changes gathered for the next batch.
    changes: Vec<Change>,
    /// An operation read while changes were gathered: it waits for the batch.
    held: Option<ClientOp>,
    /// A batch is at the table: nothing more is read until it is answered.
    waiting: bool,
    opened: Instant,
    heard: Instant,
    pings_out: u32,
    /// PINGs read and not yet answered: a PONG goes out once everything read with it has
    /// been carried out (subscriptions at the table included), as nats-server answers only
    /// after it has processed the whole read. Clients put a flush's PING ahead of a SUB not
    /// yet sent (nats-py does) and expect the SUB in place at the PONG: it is, when both come
    /// in one read (a SUB in a later read comes after the PONG, as on nats-server).
    pongs_owed: usize,
    /// Who a TLS client certificate says the client is ([`identified`](Self::identified)).
    identity: Option<Arc<dyn NatsPermissions>>,
    /// The channels of the subjects it publishes to.
    subjects: SubjectCache,
    /// The subject and reply of the last PUB read in place, kept to be written over, and
    /// the subject's channel.
    pub_subject: String,
    pub_reply: Option<String>,
    pub_channel: Option<Channel>,
}

impl NatsSession {
    /// A new connection; `info` is what it is greeted with ([`greet`](Self::greet)).
    pub fn new(limits: NatsLimits, info: Info, gate: Arc<dyn NatsGate>, now: Instant) -> Self {
        NatsSession {
            limits,
            info,
            gate,
            phase: Phase::Opened,
            inbound: BytesMut::new(),
            sids: HashMap::new(),
            texts: HashMap::new(),
            next_sid: 1,
            changes: Vec::new(),
            held: None,
            waiting: false,
            opened: now,
            heard: now,
            pings_out: 0,
            pongs_owed: 0,
            identity: None,
            subjects: SubjectCache::default(),
            pub_subject: String::new(),
            pub_reply: None,
            pub_channel: None,
        }
    }

    /// Writes the INFO a client is greeted with.
    pub fn greet(&self, out: &mut BytesMut) {
        let mut info = self.info.clone();
        info.auth_required = self.gate.auth_required();
        info.max_payload = self.limits.parser.max_payload;
        write_info(out, &info);
    }

    /// Bytes from the client.
    pub fn receive(&mut self, bytes: &[u8], now: Instant) {
        self.heard = now;
        self.pings_out = 0;
        if !matches!(self.phase, Phase::Closed) {
            self.inbound.extend_from_slice(bytes);
        }
    }

    /// Whether reading should pause: a batch is at the table, credentials are being
    /// checked, or the connection is closing.
    pub fn is_paused(&self) -> bool {
        self.waiting || matches!(self.phase, Phase::Closed | Phase::Authenticating { .. })
    }

    /// The client's TLS certificate names a user with these permissions: its CONNECT is
    /// admitted as that user, whatever credentials it carries.
    pub fn identified(&mut self, permissions: Arc<dyn NatsPermissions>) {
        self.identity = Some(permissions);
    }

    /// Bytes received and not yet read as operations.
    pub fn unread(&self) -> usize {
        self.inbound.len()
    }

    /// The next thing to do, with what to write in `out`; `None` when it needs more bytes or
    /// waits for the table.
    pub fn next(&mut self, out: &mut BytesMut) -> Option<NatsStep> {
        loop {
            if self.is_paused() {
                return None;
            }
            if self.held.is_none() && self.changes.is_empty() {
                if let Some(step) = self.next_plain_pub(out) {
                    match step {
                        Some(step) => return Some(step),
                        None => continue,
                    }
                }
            }
            let op = match self.held.take() {
                Some(op) => op,
                None => match self.limits.parser.next(&mut self.inbound) {
                    Ok(Some(op)) => op,
                    Ok(None) => return self.flush().or_else(|| self.pay_pongs(out)),
                    Err(e) => return Some(self.close(out, e.nats_text(), e.to_string())),
                },
            };
            let is_change = matches!(op, ClientOp::Sub { .. } | ClientOp::Unsub { .. });
            if !is_change && !self.changes.is_empty() {
                self.held = Some(op);
                return self.flush();
            }
            if let Some(step) = self.on_op(op, out) {
                return Some(step);
            }
        }
    }

    /// The operation nearly every message is, a plain PUB from a connected client, read in
    /// place ([`ClientParser::next_plain_pub`]) and carried out as [`on_op`](Self::on_op)
    /// would; `None` if the next operation is anything else (or not whole yet).
    fn next_plain_pub(&mut self, out: &mut BytesMut) -> Option<Option<NatsStep>> {
        let Phase::Connected { options, .. } = &self.phase else {
            return None;
        };
        let verbose = options.verbose;
        let read = self.limits.parser.next_plain_pub(
            &mut self.inbound,
            &mut self.pub_subject,
            &mut self.pub_reply,
        )?;
        let (subject, reply) = (std::mem::take(&mut self.pub_subject), self.pub_reply.take());
        // A stream to one subject maps it once.
        let channel = match (&self.pub_channel, read.same_subject) {
            (Some(channel), true) => Ok(channel.clone()),
            _ => {
                let channel = self.subjects.channel(&subject);
                self.pub_channel = channel.as_ref().ok().cloned();
                channel
            }
        };
        let step = self.on_pub(&subject, channel, reply.as_deref(), None, read.payload, out);
        (self.pub_subject, self.pub_reply) = (subject, reply);
        if verbose && step.is_ok() {
            write_ok(out);
        }
        Some(step.ok().flatten())
    }

    /// Answers the PINGs read so far (everything read before them is carried out).
    fn pay_pongs(&mut self, out: &mut BytesMut) -> Option<NatsStep> {
        for _ in 0..std::mem::take(&mut self.pongs_owed) {
            write_pong(out);
        }
        None
    }

    /// The gathered changes as a batch, if there are any.
    fn flush(&mut self) -> Option<NatsStep> {
        if self.changes.is_empty() {
            return None;
        }
        self.waiting = true;
        Some(NatsStep::Changes(std::mem::take(&mut self.changes)))
    }

    fn close(&mut self, out: &mut BytesMut, text: &str, reason: String) -> NatsStep {
        // What was read before the error was carried out: its PINGs are answered.
        self.pay_pongs(out);
        write_err(out, text);
        self.phase = Phase::Closed;
        self.held = None;
        self.inbound = BytesMut::new();
        NatsStep::Close(reason)
    }

    fn on_op(&mut self, op: ClientOp, out: &mut BytesMut) -> Option<NatsStep> {
        if let ClientOp::Connect(json) = &op {
            return Some(self.on_connect(json, out));
        }
        let verbose = match &self.phase {
            Phase::Connected { options, .. } => options.verbose,
            Phase::Closed | Phase::Authenticating { .. } => return None,
            Phase::Opened if self.gate.auth_required() => {
                let reason = "an operation before CONNECT".to_owned();
                return Some(self.close(out, "Authorization Violation", reason));
            }
            Phase::Opened => {
                // No credentials needed: NATS's defaults until a CONNECT says otherwise.
                let Some(permissions) = self.gate.admit(Credentials::default()) else {
                    let reason = "refused without credentials".to_owned();
                    return Some(self.close(out, "Authorization Violation", reason));
                };
                let options = ConnectOptions::default();
                self.phase = Phase::Connected {
                    options,
                    permissions,
                };
                false
            }
        };
        let step = match op {
            ClientOp::Connect(_) => unreachable!("handled above"),
            ClientOp::Ping => {
                self.pongs_owed += 1;
                return None;
            }
            ClientOp::Pong => return None,
            ClientOp::Pub {
                subject,
                reply,
                headers,
                payload,
            } => {
                let channel = self.subjects.channel(&subject);
                self.on_pub(&subject, channel, reply.as_deref(), headers, payload, out)
            }
            ClientOp::Sub {
                subject,
                queue,
                sid,
            } => self.on_sub(&subject, queue, sid, out),
            ClientOp::Unsub { sid, max } => self.on_unsub(&sid, max),
        };
        if verbose && !matches!(step, Err(())) {
            write_ok(out);
        }
        step.ok().flatten()
    }

    fn on_connect(&mut self, json: &[u8], out: &mut BytesMut) -> NatsStep {
        let options = match ConnectOptions::parse(json) {
            Ok(options) => options,
            Err(e) => return self.close(out, &e.to_string(), e.to_string()),
        };
        if let Some(permissions) = self.identity.clone() {
            return self.admit(options, permissions, out);
        }
        if self.gate.checked_by_driver() {
            let credentials = crate::auth::Credentials {
                user: options.user.clone(),
                password: options.pass.clone(),
                token: options.auth_token.clone(),
            };
            self.phase = Phase::Authenticating { options };
            return NatsStep::Authenticate(credentials);
        }
        let credentials = Credentials {
            user: options.user.as_deref(),
            pass: options.pass.as_deref(),
            token: options.auth_token.as_deref(),
        };
        let Some(permissions) = self.gate.admit(credentials) else {
            let reason = format!("credentials refused (user {:?})", options.user);
            return self.close(out, "Authorization Violation", reason);
        };
        self.admit(options, permissions, out)
    }

    /// The driver's check of the credentials it was asked about: the client's permissions,
    /// or `None` (refused: `-ERR 'Authorization Violation'` and close). Reading resumes.
    pub fn admitted(
        &mut self,
        permissions: Option<Arc<dyn NatsPermissions>>,
        out: &mut BytesMut,
    ) -> NatsStep {
        let phase = std::mem::replace(&mut self.phase, Phase::Opened);
        let Phase::Authenticating { options } = phase else {
            self.phase = phase;
            let reason = "an answer to a check nobody asked for".to_owned();
            return self.close(out, "Authorization Violation", reason);
        };
        match permissions {
            Some(permissions) => self.admit(options, permissions, out),
            None => {
                let reason = format!("credentials refused (user {:?})", options.user);
                self.close(out, "Authorization Violation", reason)
            }
        }
    }

    fn admit(
        &mut self,
        options: ConnectOptions,
        permissions: Arc<dyn NatsPermissions>,
        out: &mut BytesMut,
    ) -> NatsStep {
        if options.verbose {
            write_ok(out);
        }
        let step = NatsStep::Connected {
            reader: Reader {
                headers: options.headers,
                no_responders: options.no_responders,
            },
            name: options.name.clone(),
        };
        self.phase = Phase::Connected {
            options,
            permissions,
        };
        step
    }

    /// A PUB or HPUB: `Err(())` when refused (with its `-ERR` written).
    fn on_pub(
        &mut self,
        subject: &str,
        channel: Result<Channel, SubjectError>,
        reply: Option<&str>,
        headers: Option<Bytes>,
        payload: Bytes,
        out: &mut BytesMut,
    ) -> Result<Option<NatsStep>, ()> {
        let echo = match &self.phase {
            Phase::Connected { options, .. } => options.echo,
            _ => true,
        };
        let channel = channel.map_err(PublishError::from);
        let publish = match channel
            .and_then(|c| publish_to_channel(c, reply, headers.as_deref(), payload, echo))
        {
            Ok(publish) => publish,
            Err(e) => {
                write_err(out, e.nats_text());
                return Err(());
            }
        };
        if !self.permissions().may_publish(&publish.channel) {
            write_err(
                out,
                &format!("Permissions Violation for Publish to \"{subject}\""),
            );
            return Err(());
        }
        Ok(Some(NatsStep::Publish(publish)))
    }

    /// What the connected client may do (operations are carried out only once connected).
    fn permissions(&self) -> &dyn NatsPermissions {
        match &self.phase {
            Phase::Connected { permissions, .. } => &**permissions,
            _ => &DenyEverything,
        }
    }

    fn on_sub(
        &mut self,
        subject: &str,
        queue: Option<String>,
        text: String,
        out: &mut BytesMut,
    ) -> Result<Option<NatsStep>, ()> {
        let pattern = match subject_to_pattern(subject) {
            Ok(pattern) => pattern,
            Err(e) => {
                write_err(out, e.nats_text());
                return Err(());
            }
        };
        if let Some(queue) = &queue {
            if queue.len() > MAX_GROUP_BYTES || queue.chars().any(char::is_control) {
                write_err(out, "Invalid Queue Name");
                return Err(());
            }
        }
        if !self.permissions().may_subscribe(&pattern) {
            let text = format!("Permissions Violation for Subscription to \"{subject}\"");
            write_err(out, &text);
            return Err(());
        }
        if self.sids.contains_key(&text) {
            // As nats-server: a SUB under a sid in use is ignored.
            return Ok(None);
        }
        let sid = self.next_sid;
        self.next_sid += 1;
        self.sids.insert(text.clone(), sid);
        self.texts.insert(sid, text.clone());
        self.changes.push(Change::Subscribe(Wanted {
            sid,
            pattern,
            group: queue,
            // NATS has no retained messages: replays would reach it as hubwire frames.
            replay: false,
        }));
        Ok(Some(NatsStep::Book(BookChange::Add { sid, text })))
    }

    fn on_unsub(&mut self, text: &str, max: Option<u64>) -> Result<Option<NatsStep>, ()> {
        let Some(&sid) = self.sids.get(text) else {
            // As nats-server: an unknown sid is not an error.
            return Ok(None);
        };
        match max {
            Some(max) if max > 0 => Ok(Some(NatsStep::Book(BookChange::Limit { sid, max }))),
            _ => {
                self.forget(sid);
                Ok(Some(NatsStep::Book(BookChange::Remove { sid })))
            }
        }
    }

    /// Drops the client's sid of `sid` and gathers its unsubscription.
    fn forget(&mut self, sid: u64) {
        if let Some(text) = self.texts.remove(&sid) {
            self.sids.remove(&text);
            self.changes.push(Change::Unsubscribe(sid));
        }
    }

    /// Subscription `sid` has had its last message (its book entry is gone): it is
    /// unsubscribed at the hub with the next batch.
    pub fn ended(&mut self, sid: u64) {
        self.forget(sid);
    }

    /// The table applied the batch: `-ERR` for each subscription it declined (their sids are
    /// answered, to be removed from the book). Reading resumes.
    pub fn on_applied(&mut self, declined: Vec<Declined>, out: &mut BytesMut) -> Vec<u64> {
        self.waiting = false;
        let mut gone = Vec::with_capacity(declined.len());
        for declined in declined {
            if let Some(text) = self.texts.remove(&declined.sid) {
                self.sids.remove(&text);
                write_err(out, "Maximum Subscriptions Exceeded");
                gone.push(declined.sid);
            }
        }
        gone
    }

    /// The timers at `now`: the CONNECT deadline where credentials are required, and the
    /// keepalive (a PING after each quiet interval; stale once too many go unanswered).
    pub fn on_tick(&mut self, now: Instant, out: &mut BytesMut) -> Tick {
        match self.phase {
            Phase::Closed => return Tick::Quiet,
            Phase::Opened
                if self.gate.auth_required()
                    && now.saturating_duration_since(self.opened) >= self.limits.auth_timeout =>
            {
                self.close(out, "Authentication Timeout", "no CONNECT in time".into());
                return Tick::Close("no CONNECT in time".into());
            }
            _ => {}
        }
        let quiet = now.saturating_duration_since(self.heard);
        if quiet < self.limits.ping_interval * (self.pings_out + 1) {
            return Tick::Quiet;
        }
        if self.pings_out >= self.limits.max_pings_out {
            let reason = format!("no answer to {} PINGs in {quiet:?}", self.pings_out);
            self.close(out, "Stale Connection", reason.clone());
            return Tick::Close(reason);
        }
        self.pings_out += 1;
        Tick::Ping
    }

    /// Subscriptions the client holds.
    pub fn subscriptions(&self) -> usize {
        self.sids.len()
    }
}
