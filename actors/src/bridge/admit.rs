//! Admission of a bridge link: the dialer's side of the handshake (`docs/protocol.md`,
//! section 11) as one async step. The listener's side is the session's
//! [`BridgeEnd`](hubwire_core::session::BridgeEnd), which a connection drives frame by frame.

use std::collections::VecDeque;

use futures::StreamExt;
use hubwire_core::bridge::auth::{LinkParties, Role};
use hubwire_core::bridge::HubId;
use hubwire_core::protocol::{
    kind, BridgeChallenge, BridgeHello, BridgeProof, Envelope, ErrorFrame, Frame, Nonce,
};
use hubwire_core::spoke::link::{self, LinkReader};
use hubwire_core::spoke::{SpokeError, SpokeOptions};
use hubwire_core::stream::FrameBatches;
use hubwire_core::Address;

use super::forward::Bridges;

/// How long each side waits for the other's next admission frame.
pub use hubwire_core::session::ADMISSION_TIMEOUT;

/// Why a link was not made.
#[derive(Debug, thiserror::Error)]
pub enum AdmitError {
    /// The other hub could not be reached or spoke no protocol.
    #[error("{0}")]
    Connect(#[from] SpokeError),
    /// The other hub refused the link (wrong or missing secret, no bridges there, ...).
    #[error("the hub at {address} refused the bridge: {message}")]
    Refused {
        /// The other hub.
        address: Address,
        /// What it said.
        message: String,
    },
    /// The address leads back to this very hub.
    #[error("{0} is this hub itself: a hub never bridges to itself")]
    ToItself(Address),
    /// The other hub could not prove it knows the secret.
    #[error("the hub at {0} did not prove it knows the bridge secret")]
    Unproven(Address),
    /// The other hub broke the admission sequence.
    #[error("the hub at {address} broke the bridge admission: {why}")]
    Protocol {
        /// The other hub.
        address: Address,
        /// What went wrong.
        why: String,
    },
}

impl AdmitError {
    /// Whether trying again later can help (a link to itself never will).
    pub fn is_retryable(&self) -> bool {
        !matches!(self, AdmitError::ToItself(_))
    }
}

/// A dialed link that passed admission.
pub struct Admitted {
    /// The hub at the other end.
    pub peer: HubId,
    /// The write side.
    pub writer: link::LinkWriter,
    /// The read side.
    pub frames: FrameBatches<LinkReader>,
    /// Frames read with the last admission frame, to handle first.
    pub early: VecDeque<Frame>,
}

impl std::fmt::Debug for Admitted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admitted")
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

/// A fresh nonce from the operating system's random source.
pub fn fresh_nonce() -> Nonce {
    *uuid::Uuid::new_v4().as_bytes()
}

/// Dials `address` and runs the dialer's side of admission.
pub async fn dial(
    address: &Address,
    bridges: &Bridges,
    options: &SpokeOptions,
) -> Result<Admitted, AdmitError> {
    let (writer, mut frames, _hello) = link::connect(address, options).await?.split();
    let mut early = VecDeque::new();
    let protocol = |why: String| AdmitError::Protocol {
        address: address.clone(),
        why,
    };
    let nonce = fresh_nonce();
    let hello = BridgeHello {
        hub: bridges.me(),
        nonce,
        name: bridges.name().to_owned(),
    };
    writer
        .outbound
        .lock()
        .push_envelope(&hello)
        .map_err(|e| protocol(e.to_string()))?;
    let challenge = next_frame(&mut frames, &mut early, address).await?;
    let challenge = BridgeChallenge::from_frame(&challenge).map_err(|e| protocol(e.to_string()))?;
    if challenge.hub == bridges.me() {
        return Err(AdmitError::ToItself(address.clone()));
    }
    let parties = LinkParties {
        dialer: (bridges.me(), nonce),
        listener: (challenge.hub, challenge.nonce),
    };
    let secret = bridges.secret().expose();
    let proof = BridgeProof {
        mac: parties.proof(secret, Role::Dialer),
    };
    writer
        .outbound
        .lock()
        .push_envelope(&proof)
        .map_err(|e| protocol(e.to_string()))?;
    let answer = next_frame(&mut frames, &mut early, address).await?;
    let answer = BridgeProof::from_frame(&answer).map_err(|e| protocol(e.to_string()))?;
    if !parties.verify(secret, Role::Listener, &answer.mac) {
        return Err(AdmitError::Unproven(address.clone()));
    }
    Ok(Admitted {
        peer: challenge.hub,
        writer,
        frames,
        early,
    })
}

/// The next frame of admission (an ERROR is the other hub's refusal), within the timeout;
/// frames read with it wait in `early`.
async fn next_frame(
    frames: &mut FrameBatches<LinkReader>,
    early: &mut VecDeque<Frame>,
    address: &Address,
) -> Result<Frame, AdmitError> {
    let protocol = |why: String| AdmitError::Protocol {
        address: address.clone(),
        why,
    };
    if early.is_empty() {
        let batch = tokio::time::timeout(ADMISSION_TIMEOUT, frames.next())
            .await
            .map_err(|_| protocol(format!("no answer within {ADMISSION_TIMEOUT:?}")))?
            .ok_or_else(|| protocol("the connection closed".into()))?
            .map_err(|e| protocol(e.to_string()))?;
        early.extend(batch);
    }
    let frame = early.pop_front().expect("a batch holds a frame");
    if frame.kind == kind::ERROR {
        let message = ErrorFrame::from_frame(&frame)
            .map(|e| e.message)
            .unwrap_or_else(|e| e.to_string());
        return Err(AdmitError::Refused {
            address: address.clone(),
            message,
        });
    }
    Ok(frame)
}
