//! The bridge envelopes: what two hubs say over a bridge link (normative text:
//! `docs/protocol.md`, section 11).
//!
//! A link starts like any stream (CONN both ways), then the dialing hub introduces itself and
//! both prove they know the shared secret without sending it:
//!
//! ```text
//! dialer                                   listener
//!   BRIDGE_HELLO [hub, nonce_d, name]  ─▶
//!                                      ◀─  BRIDGE_CHALLENGE [hub, nonce_l]
//!   BRIDGE_PROOF [mac_d]               ─▶  (checks; ERROR denied and close if wrong)
//!                                      ◀─  BRIDGE_PROOF [mac_l]
//! ```
//!
//! After that, both sides send link-state adverts, interest updates and forwarded messages, in
//! any order. Every field but the forwarded publish is plain MessagePack (structs as arrays).

use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};

use super::envelope::{plain_envelope, read_exact, write_msgpack, Envelope};
use super::pubsub_wire::{put_array_len, put_str, put_uint, Reader};
use super::{kind, ProtocolError, Publish};
use crate::bridge::{HubId, InterestUpdate, LinkState};

/// Bytes of a link nonce.
pub const NONCE_BYTES: usize = 16;

/// A link nonce: fresh random bytes for every link attempt.
pub type Nonce = [u8; NONCE_BYTES];

/// BRIDGE_HELLO (dialer to listener, first bridge frame): `[hub, nonce, name]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeHello {
    /// The dialing hub's id.
    pub hub: HubId,
    /// The dialer's nonce (`bin` 16).
    #[serde(with = "serde_bytes")]
    pub nonce: Nonce,
    /// How the dialing hub names itself (its first listen address), for the listener's
    /// figures: stable across the dialer's restarts, unlike its id.
    pub name: String,
}

/// BRIDGE_CHALLENGE (listener to dialer): `[hub, nonce]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeChallenge {
    /// The listening hub's id.
    pub hub: HubId,
    /// The listener's nonce (`bin` 16).
    #[serde(with = "serde_bytes")]
    pub nonce: Nonce,
}

/// BRIDGE_PROOF (both ways, dialer first): `[mac]`, the HMAC-SHA256 of the link's nonces and
/// ids under the shared secret (see `crate::bridge::auth`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeProof {
    /// The MAC (`bin` 32).
    #[serde(with = "serde_bytes")]
    pub mac: Vec<u8>,
}

/// BRIDGE_RESYNC: "send me the whole interest of `origin`" (after an update that did not
/// follow on from what the sender had).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeResync {
    /// The hub whose interest is asked for.
    pub origin: HubId,
}

plain_envelope!(BridgeHello, kind::BRIDGE_HELLO, |h: &BridgeHello| 32
    + h.name.len());
plain_envelope!(BridgeChallenge, kind::BRIDGE_CHALLENGE, |_| 32);
plain_envelope!(BridgeProof, kind::BRIDGE_PROOF, |p: &BridgeProof| 4 + p
    .mac
    .len());
plain_envelope!(LinkState, kind::BRIDGE_LINK_STATE, |l: &LinkState| 16
    + 9 * l.neighbors.len());
plain_envelope!(
    InterestUpdate,
    kind::BRIDGE_INTEREST,
    |u: &InterestUpdate| 32 + 24 * (u.add.len() + u.remove.len())
);
plain_envelope!(BridgeResync, kind::BRIDGE_RESYNC);

/// BRIDGE_MESSAGE: a publish on its way between hubs, `[origin, seq, hops, picks, publish]`
/// where `publish` is a PUBLISH payload (a 5-array). `seq` counts the origin's forwarded
/// messages from 1; `hops` counts the links crossed so far; `picks` (an array of
/// `[group, hub]`) names, for each queue group the origin could not serve with a member of
/// its own, the one hub whose member gets it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BridgeMessage {
    /// The hub where it was published.
    pub origin: HubId,
    /// The origin's sequence number for it.
    pub seq: u64,
    /// Links crossed so far (a message past [`MAX_HOPS`] is dropped: a loop's last backstop).
    pub hops: u8,
    /// The hub chosen for each queue group the origin did not serve itself.
    pub picks: Vec<(String, HubId)>,
    /// What was published.
    pub publish: Publish,
}

/// The most links a message crosses.
pub const MAX_HOPS: u8 = 32;

impl Envelope for BridgeMessage {
    const KIND: u16 = kind::BRIDGE_MESSAGE;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        write_bridge_message(
            self.origin,
            self.seq,
            self.hops,
            &self.picks,
            &self.publish,
            out,
        )
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        let decode = |source| ProtocolError::Decode {
            kind: Self::KIND,
            source,
        };
        let mut rd = Reader::new(payload);
        rd.array_of(5).map_err(decode)?;
        let origin = HubId(rd.uint().map_err(decode)?);
        let seq = rd.uint().map_err(decode)?;
        let hops = u8::try_from(rd.uint().map_err(decode)?).unwrap_or(u8::MAX);
        let count = rd.array_len().map_err(decode)?;
        let mut picks = Vec::with_capacity(count.min(64) as usize);
        for _ in 0..count {
            rd.array_of(2).map_err(decode)?;
            let group = rd.str().map_err(decode)?.to_owned();
            picks.push((group, HubId(rd.uint().map_err(decode)?)));
        }
        let at = payload.len() - rd.remaining();
        let publish = Publish::read_payload(&payload.slice(at..)).map_err(|e| match e {
            ProtocolError::Decode { source, .. } => decode(source),
            other => other,
        })?;
        Ok(BridgeMessage {
            origin,
            seq,
            hops,
            picks,
            publish,
        })
    }

    fn payload_size_hint(&self) -> usize {
        32 + 24 * self.picks.len() + self.publish.payload_size_hint()
    }
}

/// Appends a BRIDGE_MESSAGE's payload for `publish` without copying it into a
/// [`BridgeMessage`] first.
pub fn write_bridge_message(
    origin: HubId,
    seq: u64,
    hops: u8,
    picks: &[(String, HubId)],
    publish: &Publish,
    out: &mut BytesMut,
) -> Result<(), ProtocolError> {
    out.reserve(32 + 24 * picks.len() + publish.payload_size_hint());
    out.put_u8(0x95);
    put_uint(out, origin.0)?;
    put_uint(out, seq)?;
    put_uint(out, u64::from(hops))?;
    put_array_len(out, picks.len())?;
    for (group, hub) in picks {
        out.put_u8(0x92);
        put_str(out, group)?;
        put_uint(out, hub.0)?;
    }
    publish.write_payload(out)
}

/// Appends the whole BRIDGE_MESSAGE frame for `publish` to `out` (see
/// [`write_bridge_message`]), for a forwarder that encodes into a buffer it reuses.
pub fn write_bridge_frame(
    origin: HubId,
    seq: u64,
    hops: u8,
    picks: &[(String, HubId)],
    publish: &Publish,
    out: &mut BytesMut,
) -> Result<(), ProtocolError> {
    let start = out.len();
    out.put_u32(0);
    out.put_u16(kind::BRIDGE_MESSAGE);
    if let Err(e) = write_bridge_message(origin, seq, hops, picks, publish, out) {
        out.truncate(start);
        return Err(e);
    }
    let length = (out.len() - start - super::LENGTH_BYTES) as u32;
    out[start..start + super::LENGTH_BYTES].copy_from_slice(&length.to_be_bytes());
    Ok(())
}
