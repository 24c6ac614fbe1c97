//! [`BridgeEnd`]: a connection on a hub that a peer hub dialed to make a bridge link, decided
//! without I/O. The dialer says BRIDGE_HELLO, is challenged, proves it knows the shared secret
//! and gets this hub's proof (`docs/protocol.md`, section 11); then the link is registered,
//! frames that come meanwhile wait, and from then on every frame is the link's.
//!
//! Randomness and time come in as arguments (the challenge's nonce, `now`), and the live link
//! is the driver's type `L`, so the whole sequence is tested without sockets or actors.

use std::time::{Duration, Instant};

use crate::bridge::auth::{LinkParties, Role};
use crate::bridge::HubId;
use crate::protocol::{
    kind, BridgeChallenge, BridgeHello, BridgeProof, Envelope, ErrorCode, Frame, Nonce,
};

/// How long the listener waits for the dialer's proof.
pub const ADMISSION_TIMEOUT: Duration = Duration::from_secs(5);
/// How often a live link is pinged.
pub const LINK_PING_EVERY: Duration = Duration::from_secs(2);

/// What this hub needs to admit a bridge: who it is and the shared secret.
#[derive(Clone, Copy)]
pub struct BridgeKeys<'a> {
    /// This hub.
    pub me: HubId,
    /// The bridge secret.
    pub secret: &'a [u8],
}

impl std::fmt::Debug for BridgeKeys<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BridgeKeys")
            .field("me", &self.me)
            .finish_non_exhaustive()
    }
}

/// What the driver does with a frame of a (would-be) bridge connection.
#[derive(Debug)]
pub enum BridgeStep {
    /// Nothing now (the frame waits for the link's registration).
    Nothing,
    /// Send this challenge and wait for the proof.
    Challenge(BridgeChallenge),
    /// Admitted: send this proof and register the link with the dialer as `peer`, named `name`;
    /// then hand the link to [`BridgeEnd::linked`].
    Register {
        /// This hub's proof.
        proof: BridgeProof,
        /// The dialing hub.
        peer: HubId,
        /// How it names itself.
        name: String,
    },
    /// The link's frame: for the live link.
    Link(Frame),
    /// Refuse with this error about the connection, and close.
    Refuse(ErrorCode, String),
}

/// What the timer asks of the driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BridgeTick {
    /// Nothing.
    Nothing,
    /// Time for the live link's keepalive.
    Keepalive,
    /// The dialer did not finish admission in time: refuse and close.
    Refuse(ErrorCode, String),
}

#[derive(Debug)]
enum State<L> {
    /// Not a bridge (yet).
    None,
    /// Challenged at the instant given; waiting for the proof.
    Challenged {
        parties: LinkParties,
        name: String,
        since: Instant,
    },
    /// Admitted; the table is registering the link. Frames that come meanwhile wait.
    Registering(Vec<Frame>),
    /// A live link, last pinged at the instant given.
    Linked(L, Instant),
    /// Refused or ended.
    Over,
}

/// One connection's part in bridging, from BRIDGE_HELLO to a live link `L`.
#[derive(Debug)]
pub struct BridgeEnd<L> {
    state: State<L>,
}

impl<L> Default for BridgeEnd<L> {
    fn default() -> Self {
        BridgeEnd { state: State::None }
    }
}

impl<L> BridgeEnd<L> {
    /// Whether the connection is (becoming) a bridge link: then every frame is the bridge's.
    pub fn is_engaged(&self) -> bool {
        !matches!(self.state, State::None)
    }

    /// The live link, if there is one.
    pub fn link_mut(&mut self) -> Option<&mut L> {
        match &mut self.state {
            State::Linked(link, _) => Some(link),
            _ => None,
        }
    }

    /// A frame at `now`. `keys` is `None` on a hub without a bridge secret; `nonce` is a fresh
    /// random nonce, used if this frame is the one that gets challenged.
    pub fn on_frame(
        &mut self,
        frame: Frame,
        keys: Option<BridgeKeys<'_>>,
        nonce: Nonce,
        now: Instant,
    ) -> BridgeStep {
        // Taken out, so that whatever refuses leaves it over.
        match std::mem::replace(&mut self.state, State::Over) {
            State::None if frame.kind == kind::BRIDGE_HELLO => {
                self.on_hello(&frame, keys, nonce, now)
            }
            State::None => {
                let message = format!("{} before BRIDGE_HELLO", kind::name(frame.kind));
                BridgeStep::Refuse(ErrorCode::Protocol, message)
            }
            State::Challenged { parties, name, .. } if frame.kind == kind::BRIDGE_PROOF => {
                self.on_proof(&frame, keys, parties, name)
            }
            State::Challenged { .. } => {
                let message = format!("{} instead of BRIDGE_PROOF", kind::name(frame.kind));
                BridgeStep::Refuse(ErrorCode::Protocol, message)
            }
            State::Registering(mut early) => {
                early.push(frame);
                self.state = State::Registering(early);
                BridgeStep::Nothing
            }
            State::Linked(link, pinged) => {
                self.state = State::Linked(link, pinged);
                BridgeStep::Link(frame)
            }
            State::Over => BridgeStep::Nothing,
        }
    }

    fn on_hello(
        &mut self,
        frame: &Frame,
        keys: Option<BridgeKeys<'_>>,
        nonce: Nonce,
        now: Instant,
    ) -> BridgeStep {
        let Some(keys) = keys else {
            let message = "this hub takes no bridges (it has no bridge_secret)";
            return BridgeStep::Refuse(ErrorCode::Denied, message.into());
        };
        let hello = match BridgeHello::from_frame(frame) {
            Ok(hello) => hello,
            Err(e) => return BridgeStep::Refuse(e.code(), e.to_string()),
        };
        if hello.hub == keys.me {
            let message = "a hub never bridges to itself";
            return BridgeStep::Refuse(ErrorCode::Denied, message.into());
        }
        self.state = State::Challenged {
            parties: LinkParties {
                dialer: (hello.hub, hello.nonce),
                listener: (keys.me, nonce),
            },
            name: hello.name,
            since: now,
        };
        BridgeStep::Challenge(BridgeChallenge {
            hub: keys.me,
            nonce,
        })
    }

    fn on_proof(
        &mut self,
        frame: &Frame,
        keys: Option<BridgeKeys<'_>>,
        parties: LinkParties,
        name: String,
    ) -> BridgeStep {
        let Some(keys) = keys else {
            return BridgeStep::Refuse(ErrorCode::Denied, "this hub takes no bridges".into());
        };
        let proof = match BridgeProof::from_frame(frame) {
            Ok(proof) => proof,
            Err(e) => return BridgeStep::Refuse(e.code(), e.to_string()),
        };
        if !parties.verify(keys.secret, Role::Dialer, &proof.mac) {
            let message = "bridge refused: wrong bridge secret";
            return BridgeStep::Refuse(ErrorCode::Denied, message.into());
        }
        self.state = State::Registering(Vec::new());
        BridgeStep::Register {
            proof: BridgeProof {
                mac: parties.proof(keys.secret, Role::Listener),
            },
            peer: parties.dialer.0,
            name,
        }
    }

    /// The table registered the link at `now`: it is live, and these frames, which came
    /// meanwhile, are its first (in order). Nothing if the connection is no longer waiting.
    pub fn linked(&mut self, link: L, now: Instant) -> Vec<Frame> {
        match std::mem::replace(&mut self.state, State::Over) {
            State::Registering(early) => {
                self.state = State::Linked(link, now);
                early
            }
            other => {
                self.state = other;
                Vec::new()
            }
        }
    }

    /// The time is `now`: a stalled admission is refused, a live link's keepalive is due every
    /// [`LINK_PING_EVERY`].
    pub fn on_tick(&mut self, now: Instant) -> BridgeTick {
        match &mut self.state {
            State::Challenged { since, .. }
                if now.saturating_duration_since(*since) >= ADMISSION_TIMEOUT =>
            {
                self.state = State::Over;
                let message = format!("no BRIDGE_PROOF within {ADMISSION_TIMEOUT:?}");
                BridgeTick::Refuse(ErrorCode::Timeout, message)
            }
            State::Linked(_, pinged)
                if now.saturating_duration_since(*pinged) >= LINK_PING_EVERY =>
            {
                *pinged = now;
                BridgeTick::Keepalive
            }
            _ => BridgeTick::Nothing,
        }
    }

    /// The connection ends: the live link, if there was one, for the driver to take down.
    pub fn end(&mut self) -> Option<L> {
        match std::mem::replace(&mut self.state, State::Over) {
            State::Linked(link, _) => Some(link),
            _ => None,
        }
    }
}
