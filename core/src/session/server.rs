//! [`ServerSession`]: what a server does with each frame of a stream connection, and with the
//! passing of time, decided without I/O.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use crate::auth::{AuthFailure, Credentials};
use crate::compression::{self, Algorithm};
use crate::protocol::{
    kind, Auth, AuthOk, Cancel, Compress, Disconnect, Envelope, ErrorCode, ErrorFrame, Frame,
    Hello, Ping, PROTOCOL_VERSION,
};
use crate::stream::MIN_PEER_MAX_FRAME;

use super::phase::{refuse_while_stopping, Phase};

/// The limits a session announces and enforces.
#[derive(Debug, Clone)]
pub struct SessionLimits {
    /// Largest frame `length` this server accepts (announced in its CONN).
    pub max_frame: usize,
    /// Requests a peer may have in flight (announced in its CONN).
    pub max_in_flight: usize,
    /// Time a new connection has to send CONN.
    pub handshake_timeout: Duration,
    /// Quiet time, with nothing in flight, before the connection is closed.
    pub idle_timeout: Duration,
}

/// The families of frames this server serves beyond requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Serves {
    /// Pub/sub (and bridge admission): the server runs a hub.
    pub hub: bool,
}

/// How a connection ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    /// A last frame for the peer (an ERROR about the connection, or DISCONN), if any.
    pub last: Option<Bytes>,
    /// Why, for logs.
    pub reason: String,
}

/// What the driver does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Nothing.
    Nothing,
    /// The handshake is done: write `answer` (this server's CONN) and hold replies to the
    /// peer's `max_frame`.
    Welcome {
        /// This server's CONN frame.
        answer: Bytes,
        /// The largest frame `length` the peer accepts.
        peer_max_frame: usize,
    },
    /// Write this frame (an ERROR about a frame that was skipped).
    Send(Bytes),
    /// Write this error about a request, refused before any handler saw it.
    Refuse(ErrorFrame),
    /// A REQUEST, for the driver to admit and dispatch.
    Request(Frame),
    /// The peer gave up on the request with this id.
    Cancel(u64),
    /// A PING with this nonce, for the driver to answer (now, or after a barrier).
    Ping(u64),
    /// A pub/sub frame, for the hub.
    PubSub(Frame),
    /// A bridge frame, for the hub's bridges.
    Bridge(Frame),
    /// An AUTH: check these credentials and report with
    /// [`on_authenticated`](ServerSession::on_authenticated). Frames that come before the
    /// answer close the connection.
    Authenticate(Credentials),
    /// A COMPRESS right after CONN: write `answer` (this server's COMPRESS) and, if an
    /// algorithm was chosen, compress both directions from the byte offsets given.
    Compress {
        /// This server's COMPRESS frame, naming the algorithm chosen (or none).
        answer: Bytes,
        /// The algorithm and where each direction switches, if one was chosen.
        switch: Option<CompressionSwitch>,
    },
    /// Close the connection.
    Close(Close),
}

/// Where a connection's compression starts (protocol.md section 5, "Compression").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompressionSwitch {
    /// The algorithm chosen.
    pub algorithm: Algorithm,
    /// The peer's bytes are compressed from this offset of what it sent (the byte after its
    /// COMPRESS frame).
    pub read_from: u64,
    /// This server's bytes are compressed from this offset of what it writes (the byte after
    /// its COMPRESS answer: the driver writes nothing but the CONN and COMPRESS answers
    /// before it).
    pub write_from: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    AwaitingHello,
    Open,
    Closed,
}

/// Where the connection is with authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AuthState {
    /// Nothing owed: the server has no users, or the peer is authenticated.
    Settled,
    /// The server has users and the peer has not authenticated yet: only AUTH (and bridge
    /// admission, which has its own secret) is taken.
    Required,
    /// An AUTH is being checked; nothing else is taken before the answer.
    Checking,
}

/// One stream connection's protocol state on the server side.
#[derive(Debug, Clone)]
pub struct ServerSession {
    agent: String,
    limits: SessionLimits,
    serves: Serves,
    state: State,
    auth: AuthState,
    /// The last time the peer was heard from, or the connection was busy.
    last_activity: Instant,
    /// The server's phase, as last told.
    pub(super) phase: Phase,
    /// The peer has finished sending: close once the last reply is written.
    pub(super) read_closed: bool,
    /// The algorithms this server compresses with, in its order of preference (empty: off).
    compression: Vec<Algorithm>,
    /// Bytes of the frames read so far (where the peer's compression would start).
    bytes_in: u64,
    /// The length of this server's CONN, once sent.
    welcome_len: u64,
    /// The last frame was CONN: a COMPRESS may come now, and only now.
    just_welcomed: bool,
}

/// This server's answer to a CONN: its own CONN, or why it refuses the connection.
pub fn answer_hello(
    hello: &Hello,
    agent: &str,
    max_frame: usize,
    max_in_flight: usize,
) -> Result<Hello, (ErrorCode, String)> {
    if hello.version != PROTOCOL_VERSION {
        let message = format!(
            "this server speaks protocol version {PROTOCOL_VERSION} and the client sent version {}: use a client and server of the same protocol version",
            hello.version
        );
        return Err((ErrorCode::VersionMismatch, message));
    }
    if (hello.max_frame as usize) < MIN_PEER_MAX_FRAME {
        let message = format!(
            "CONN max_frame {} is under {MIN_PEER_MAX_FRAME}, the least a side may accept",
            hello.max_frame
        );
        return Err((ErrorCode::Protocol, message));
    }
    Ok(Hello {
        version: PROTOCOL_VERSION,
        agent: agent.to_owned(),
        max_frame: max_frame.min(u32::MAX as usize) as u32,
        max_in_flight: max_in_flight.min(u32::MAX as usize) as u32,
    })
}

/// The one answer to a frame of a kind this server does not serve (protocol.md section 2).
pub fn unknown_kind(kind: u16) -> ErrorFrame {
    ErrorFrame {
        id: None,
        code: ErrorCode::UnknownKind,
        message: format!(
            "frame kind {kind} ({}) is not served here",
            kind::name(kind)
        ),
    }
}

pub(super) fn encode(envelope: &impl Envelope) -> Bytes {
    let mut out = BytesMut::new();
    envelope
        .write_frame(&mut out)
        .expect("the session's own frames always encode");
    out.freeze()
}

fn error_about_connection(code: ErrorCode, message: String) -> Bytes {
    encode(&ErrorFrame {
        id: None,
        code,
        message,
    })
}

impl ServerSession {
    /// A connection accepted at `now`.
    pub fn new(agent: String, limits: SessionLimits, serves: Serves, now: Instant) -> Self {
        ServerSession {
            agent,
            limits,
            serves,
            state: State::AwaitingHello,
            auth: AuthState::Settled,
            last_activity: now,
            phase: Phase::Running,
            read_closed: false,
            compression: Vec::new(),
            bytes_in: 0,
            welcome_len: 0,
            just_welcomed: false,
        }
    }

    /// Offers compression with `algorithms`, in this server's order of preference, to a peer
    /// that asks for it with COMPRESS (none: the answer is always "none").
    pub fn allow_compression(&mut self, algorithms: Vec<Algorithm>) {
        self.compression = algorithms;
    }

    /// The server has users and this peer is not authenticated yet (its TLS certificate did
    /// not name one): it must send AUTH after CONN, within the handshake timeout.
    pub fn require_auth(&mut self) {
        self.auth = AuthState::Required;
    }

    /// Whether the peer still owes an authentication (or one is being checked).
    pub fn awaits_auth(&self) -> bool {
        self.auth != AuthState::Settled
    }

    /// The result of the check asked for by [`Step::Authenticate`]: `Ok` with the user's name
    /// (AUTH_OK is written), or the failure (ERROR 200 `denied`, then the close).
    pub fn on_authenticated(&mut self, result: Result<&str, &AuthFailure>) -> Step {
        if self.state != State::Open || self.auth != AuthState::Checking {
            return Step::Nothing;
        }
        match result {
            Ok(user) => {
                self.auth = AuthState::Settled;
                Step::Send(encode(&AuthOk {
                    user: user.to_owned(),
                }))
            }
            Err(failure) => {
                let last = error_about_connection(ErrorCode::Denied, failure.message());
                self.close(Some(last), format!("authentication failed: {failure}"))
            }
        }
    }

    /// Whether the handshake is done and the connection not closed.
    pub fn is_open(&self) -> bool {
        self.state == State::Open
    }

    /// Whether the session is over: nothing more comes of frames or ticks.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// How long the connection has been quiet at `now`.
    pub fn quiet(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.last_activity)
    }

    /// The connection was busy at `now` (requests in flight, replies written): it is not idle.
    pub fn touch(&mut self, now: Instant) {
        self.last_activity = now;
    }

    /// The session is over (the driver closed for a reason of its own): nothing more comes of
    /// frames or ticks.
    pub fn closed(&mut self) {
        self.state = State::Closed;
    }

    pub(super) fn closing(&mut self, last: Option<Bytes>, reason: String) -> Close {
        self.state = State::Closed;
        Close { last, reason }
    }

    fn close(&mut self, last: Option<Bytes>, reason: String) -> Step {
        Step::Close(self.closing(last, reason))
    }

    fn fail(&mut self, code: ErrorCode, message: String) -> Step {
        let last = error_about_connection(code, message.clone());
        self.close(Some(last), format!("{code}: {message}"))
    }

    /// One frame from the peer, read at `now`.
    pub fn on_frame(&mut self, frame: Frame, now: Instant) -> Step {
        self.last_activity = now;
        self.bytes_in += 6 + frame.payload.len() as u64;
        let just_welcomed = std::mem::take(&mut self.just_welcomed);
        if frame.kind == kind::COMPRESS && self.state == State::Open {
            return self.on_compress(&frame, just_welcomed);
        }
        match self.state {
            State::Closed => Step::Nothing,
            State::AwaitingHello => self.on_hello(frame),
            State::Open => self.on_open_frame(frame),
        }
    }

    fn on_hello(&mut self, frame: Frame) -> Step {
        if frame.kind != kind::CONN {
            let message = format!(
                "expected CONN as the first frame, got {} ({})",
                kind::name(frame.kind),
                frame.kind
            );
            return self.fail(ErrorCode::Protocol, message);
        }
        let hello = match Hello::from_frame(&frame) {
            Ok(hello) => hello,
            Err(e) => return self.fail(ErrorCode::Protocol, format!("bad CONN: {e}")),
        };
        let limits = &self.limits;
        match answer_hello(&hello, &self.agent, limits.max_frame, limits.max_in_flight) {
            Ok(answer) => {
                self.state = State::Open;
                let answer = encode(&answer);
                self.welcome_len = answer.len() as u64;
                self.just_welcomed = true;
                Step::Welcome {
                    answer,
                    peer_max_frame: hello.max_frame as usize,
                }
            }
            Err((code, message)) => self.fail(code, message),
        }
    }

    /// A COMPRESS: only as the frame right after CONN (before AUTH), where both sides know
    /// exactly where the compressed bytes start.
    fn on_compress(&mut self, frame: &Frame, just_welcomed: bool) -> Step {
        if !just_welcomed {
            let message = "COMPRESS must come right after CONN: compression is chosen once, \
                           before any other frame"
                .to_owned();
            return self.fail(ErrorCode::Protocol, message);
        }
        let offer = match Compress::from_frame(frame) {
            Ok(offer) => offer,
            Err(e) => return self.fail(e.code(), format!("bad COMPRESS: {e}")),
        };
        let chosen = compression::choose(&offer.algorithms, &self.compression);
        let answer = encode(&Compress {
            algorithms: chosen.iter().map(|a| a.name().to_owned()).collect(),
        });
        let switch = chosen.map(|algorithm| CompressionSwitch {
            algorithm,
            read_from: self.bytes_in,
            write_from: self.welcome_len + answer.len() as u64,
        });
        Step::Compress { answer, switch }
    }

    fn on_open_frame(&mut self, frame: Frame) -> Step {
        if frame.kind == kind::AUTH && self.auth != AuthState::Checking {
            return match Auth::from_frame(&frame) {
                Ok(auth) => {
                    self.auth = AuthState::Checking;
                    Step::Authenticate(auth.credentials)
                }
                Err(e) => self.fail(e.code(), format!("bad AUTH: {e}")),
            };
        }
        match self.auth {
            AuthState::Settled => {}
            _ if frame.kind == kind::DISCONN => {}
            AuthState::Checking => {
                let message = format!(
                    "{} came before the answer to AUTH: wait for AUTH_OK before sending more",
                    kind::name(frame.kind)
                );
                return self.fail(ErrorCode::Protocol, message);
            }
            // Bridge admission proves the bridge secret instead.
            AuthState::Required if kind::BRIDGE_ASSIGNED.contains(&frame.kind) => {}
            AuthState::Required => {
                return self.fail(ErrorCode::Denied, AuthFailure::Missing.message())
            }
        }
        let skipped =
            |code: ErrorCode, message: String| Step::Send(error_about_connection(code, message));
        match frame.kind {
            kind::REQUEST if self.phase != Phase::Running => refuse_while_stopping(&frame),
            kind::REQUEST => Step::Request(frame),
            kind::CANCEL => match Cancel::from_frame(&frame) {
                Ok(Cancel { id }) => Step::Cancel(id),
                Err(e) => skipped(e.code(), e.to_string()),
            },
            kind::PING => match Ping::from_frame(&frame) {
                Ok(Ping { nonce }) => Step::Ping(nonce),
                Err(e) => skipped(e.code(), e.to_string()),
            },
            kind::SUBSCRIBE | kind::UNSUBSCRIBE | kind::SUBSCRIPTIONS | kind::PUBLISH
                if self.serves.hub =>
            {
                Step::PubSub(frame)
            }
            k if kind::BRIDGE_ASSIGNED.contains(&k) && self.serves.hub => Step::Bridge(frame),
            kind::PONG | kind::ERROR => Step::Nothing,
            kind::DISCONN => {
                let reason = Disconnect::from_frame(&frame)
                    .map(|d| d.reason)
                    .unwrap_or_else(|e| format!("an unreadable DISCONN: {e}"));
                self.close(None, format!("the peer said goodbye: {reason}"))
            }
            kind::CONN => skipped(ErrorCode::Protocol, "CONN after the handshake".into()),
            other => Step::Send(encode(&unknown_kind(other))),
        }
    }

    /// The time is `now`; `busy` when requests are in flight or replies went out since the
    /// last tick (replies do not touch the clock otherwise). Closes a connection that sent no
    /// CONN within the handshake timeout, or that stayed idle for the idle timeout.
    pub fn on_tick(&mut self, now: Instant, busy: bool) -> Step {
        if busy {
            self.last_activity = now;
        }
        let quiet = self.quiet(now);
        match self.state {
            State::AwaitingHello if quiet >= self.limits.handshake_timeout => {
                let message = format!("no CONN frame within {:?}", self.limits.handshake_timeout);
                self.fail(ErrorCode::Timeout, message)
            }
            State::Open
                if self.auth == AuthState::Required && quiet >= self.limits.handshake_timeout =>
            {
                let message = format!(
                    "no AUTH within {:?}: this server has users",
                    self.limits.handshake_timeout
                );
                self.fail(ErrorCode::Denied, message)
            }
            State::Open if quiet >= self.limits.idle_timeout => {
                let reason = format!("idle for {:?}", self.limits.idle_timeout);
                let goodbye = encode(&Disconnect {
                    reason: reason.clone(),
                });
                self.close(Some(goodbye), reason)
            }
            _ => Step::Nothing,
        }
    }
}
