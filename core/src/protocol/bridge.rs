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
//! any order. Every envelope is an array of its fields, written and read with the codec in
//! `wire/`; a BRIDGE_MESSAGE ends with a whole PUBLISH payload, so a forwarder writes the
//! publish as it was read.

use bytes::{BufMut, Bytes, BytesMut};

use super::envelope::Envelope;
use super::wire::{self, read_whole, Form, Reader, WireError};
use super::{kind, ProtocolError, Publish};
use crate::bridge::{FullPart, HubId, Interest, InterestUpdate, LinkState};
use crate::pubsub::Pattern;

/// Bytes of a link nonce.
pub const NONCE_BYTES: usize = 16;

/// A link nonce: fresh random bytes for every link attempt.
pub type Nonce = [u8; NONCE_BYTES];

/// BRIDGE_HELLO (dialer to listener, first bridge frame): `[hub, nonce, name]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BridgeHello {
    /// The dialing hub's id.
    pub hub: HubId,
    /// The dialer's nonce (`bin` 16).
    pub nonce: Nonce,
    /// How the dialing hub names itself (its first listen address), for the listener's
    /// figures: stable across the dialer's restarts, unlike its id.
    pub name: String,
}

impl Envelope for BridgeHello {
    const KIND: u16 = kind::BRIDGE_HELLO;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        out.put_u8(0x93);
        wire::put_uint(out, self.hub.0);
        wire::put_bin(out, &self.nonce)?;
        wire::put_str(out, &self.name)
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        read_whole(Self::KIND, payload, |rd| {
            rd.array_of(3)?;
            Ok(BridgeHello {
                hub: HubId(rd.uint()?),
                nonce: read_nonce(rd)?,
                name: rd.text(Form::StrOrBin)?.to_owned(),
            })
        })
    }

    fn payload_size_hint(&self) -> usize {
        30 + wire::str_len(self.name.len())
    }
}

/// BRIDGE_CHALLENGE (listener to dialer): `[hub, nonce]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BridgeChallenge {
    /// The listening hub's id.
    pub hub: HubId,
    /// The listener's nonce (`bin` 16).
    pub nonce: Nonce,
}

impl Envelope for BridgeChallenge {
    const KIND: u16 = kind::BRIDGE_CHALLENGE;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        out.put_u8(0x92);
        wire::put_uint(out, self.hub.0);
        wire::put_bin(out, &self.nonce)
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        read_whole(Self::KIND, payload, |rd| {
            rd.array_of(2)?;
            Ok(BridgeChallenge {
                hub: HubId(rd.uint()?),
                nonce: read_nonce(rd)?,
            })
        })
    }

    fn payload_size_hint(&self) -> usize {
        30
    }
}

/// A nonce: a `bin` of exactly [`NONCE_BYTES`].
fn read_nonce(rd: &mut Reader<'_>) -> Result<Nonce, WireError> {
    let bytes = rd.bytes(Form::Bin)?;
    Nonce::try_from(bytes).map_err(|_| WireError::BinLength {
        expected: NONCE_BYTES,
        got: bytes.len(),
    })
}

/// BRIDGE_PROOF (both ways, dialer first): `[mac]`, the HMAC-SHA256 of the link's nonces and
/// ids under the shared secret (see `crate::bridge::auth`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BridgeProof {
    /// The MAC (`bin` 32; read at any length, which then fails verification).
    pub mac: Vec<u8>,
}

impl Envelope for BridgeProof {
    const KIND: u16 = kind::BRIDGE_PROOF;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        out.put_u8(0x91);
        wire::put_bin(out, &self.mac)
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        read_whole(Self::KIND, payload, |rd| {
            rd.array_of(1)?;
            let mac = rd.bytes(Form::Bin)?.to_vec();
            Ok(BridgeProof { mac })
        })
    }

    fn payload_size_hint(&self) -> usize {
        1 + wire::bin_header_len(self.mac.len()) + self.mac.len()
    }
}

/// BRIDGE_RESYNC: "send me the whole interest of `origin`" (after an update that did not
/// follow on from what the sender had). `[origin]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BridgeResync {
    /// The hub whose interest is asked for.
    pub origin: HubId,
}

impl Envelope for BridgeResync {
    const KIND: u16 = kind::BRIDGE_RESYNC;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        out.put_u8(0x91);
        wire::put_uint(out, self.origin.0);
        Ok(())
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        read_whole(Self::KIND, payload, |rd| {
            rd.array_of(1)?;
            Ok(BridgeResync {
                origin: HubId(rd.uint()?),
            })
        })
    }

    fn payload_size_hint(&self) -> usize {
        10
    }
}

/// BRIDGE_LINK_STATE: `[origin, seq, neighbors]`.
impl Envelope for LinkState {
    const KIND: u16 = kind::BRIDGE_LINK_STATE;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        out.put_u8(0x93);
        wire::put_uint(out, self.origin.0);
        wire::put_uint(out, self.seq);
        wire::put_array_len(out, self.neighbors.len())?;
        for hub in &self.neighbors {
            wire::put_uint(out, hub.0);
        }
        Ok(())
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        read_whole(Self::KIND, payload, |rd| {
            rd.array_of(3)?;
            let origin = HubId(rd.uint()?);
            let seq = rd.uint()?;
            let count = rd.array_len()?;
            let mut neighbors = Vec::with_capacity(count);
            for _ in 0..count {
                neighbors.push(HubId(rd.uint()?));
            }
            Ok(LinkState {
                origin,
                seq,
                neighbors,
            })
        })
    }

    fn payload_size_hint(&self) -> usize {
        24 + 9 * self.neighbors.len()
    }
}

/// BRIDGE_INTEREST: `[origin, from_seq, to_seq, add, remove, full]`, each interest
/// `[pattern, group | nil]`, `full` nil or `[after: interest | nil, last: bool]`.
impl Envelope for InterestUpdate {
    const KIND: u16 = kind::BRIDGE_INTEREST;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        out.put_u8(0x96);
        wire::put_uint(out, self.origin.0);
        wire::put_uint(out, self.from_seq);
        wire::put_uint(out, self.to_seq);
        for list in [&self.add, &self.remove] {
            wire::put_array_len(out, list.len())?;
            for interest in list {
                put_interest(out, interest)?;
            }
        }
        match &self.full {
            None => out.put_u8(wire::NIL),
            Some(part) => {
                out.put_u8(0x92);
                match &part.after {
                    None => out.put_u8(wire::NIL),
                    Some(after) => put_interest(out, after)?,
                }
                wire::put_bool(out, part.last);
            }
        }
        Ok(())
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        read_whole(Self::KIND, payload, |rd| {
            rd.array_of(6)?;
            let origin = HubId(rd.uint()?);
            let from_seq = rd.uint()?;
            let to_seq = rd.uint()?;
            let add = read_interests(rd)?;
            let remove = read_interests(rd)?;
            let full = if rd.nil() {
                None
            } else {
                rd.array_of(2)?;
                let after = if rd.nil() {
                    None
                } else {
                    Some(read_interest(rd)?)
                };
                Some(FullPart {
                    after,
                    last: rd.bool()?,
                })
            };
            Ok(InterestUpdate {
                origin,
                from_seq,
                to_seq,
                add,
                remove,
                full,
            })
        })
    }

    fn payload_size_hint(&self) -> usize {
        32 + 24 * (self.add.len() + self.remove.len())
    }
}

fn put_interest(out: &mut BytesMut, interest: &Interest) -> Result<(), ProtocolError> {
    out.put_u8(0x92);
    wire::put_str(out, &interest.pattern.to_string())?;
    wire::put_opt_str(out, interest.group.as_deref())
}

fn read_interest(rd: &mut Reader<'_>) -> Result<Interest, WireError> {
    rd.array_of(2)?;
    let pattern = Pattern::parse(rd.text(Form::StrOrBin)?)?;
    let group = rd.opt_text(Form::StrOrBin)?.map(str::to_owned);
    Ok(Interest { pattern, group })
}

fn read_interests(rd: &mut Reader<'_>) -> Result<Vec<Interest>, WireError> {
    let count = rd.array_len()?;
    // An interest takes at least 3 bytes (`92 a0 c0`).
    let mut interests = Vec::with_capacity(count.min(rd.remaining() / 3));
    for _ in 0..count {
        interests.push(read_interest(rd)?);
    }
    Ok(interests)
}

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
        // The head is read here; the rest must be exactly one PUBLISH payload.
        let mut rd = Reader::new(payload);
        let head = (|| {
            rd.array_of(5)?;
            let origin = HubId(rd.uint()?);
            let seq = rd.uint()?;
            let hops = rd.u8()?;
            let count = rd.array_len()?;
            // A pick takes at least 3 bytes (`92 a0 00`).
            let mut picks = Vec::with_capacity(count.min(rd.remaining() / 3));
            for _ in 0..count {
                rd.array_of(2)?;
                let group = rd.text(Form::Str)?.to_owned();
                picks.push((group, HubId(rd.uint()?)));
            }
            Ok((origin, seq, hops, picks))
        })();
        let (origin, seq, hops, picks) = head.map_err(|source| ProtocolError::Decode {
            kind: Self::KIND,
            source,
        })?;
        let at = payload.len() - rd.remaining();
        let publish = Publish::read_payload(&payload.slice(at..)).map_err(|e| match e {
            ProtocolError::Decode { source, .. } => ProtocolError::Decode {
                kind: Self::KIND,
                source,
            },
            ProtocolError::TrailingBytes { count, .. } => ProtocolError::TrailingBytes {
                kind: Self::KIND,
                count,
            },
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
    wire::put_uint(out, origin.0);
    wire::put_uint(out, seq);
    wire::put_uint(out, u64::from(hops));
    wire::put_array_len(out, picks.len())?;
    for (group, hub) in picks {
        out.put_u8(0x92);
        wire::put_str(out, group)?;
        wire::put_uint(out, hub.0);
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
