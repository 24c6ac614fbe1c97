//! The pub/sub envelopes: SUBSCRIBE, UNSUBSCRIBE, SUBSCRIPTIONS, PUBLISH, MESSAGE and REFUSED
//! (normative text: `docs/protocol.md`, section 10).
//!
//! A spoke tells its hub what it subscribes to (each subscription under an id the spoke chose)
//! and publishes; the hub answers with MESSAGE frames, one per publish per subscriber
//! connection, naming every subscription of that connection the channel matched, and with
//! REFUSED when it cannot apply what a spoke sent (an invalid pattern, say). The connection stays
//! open after a REFUSED.
//!
//! A MESSAGE is `[sids, channel, flags, reply_to, headers, body]`: everything after the sid list
//! is the same for every subscriber of one publish, so a hub encodes it once into a
//! [`MessageTail`] and writes only the frame header and the sid list per connection:
//!
//! ```
//! use bytes::{Bytes, BytesMut};
//! use hubwire_core::protocol::{Envelope, Headers, Message, MessageFlags, MessageTail, Publish};
//! use hubwire_core::pubsub::Channel;
//!
//! let publish = Publish {
//!     channel: Channel::parse("sensors/kitchen/temp").unwrap(),
//!     flags: MessageFlags::NONE,
//!     reply_to: None,
//!     headers: Headers::new(),
//!     body: Bytes::from_static(b"\xcb\x40\x35\x00\x00\x00\x00\x00\x00"),
//! };
//! let tail = MessageTail::for_publish(&publish).unwrap(); // once per publish
//! let mut out = BytesMut::new();
//! tail.write_frame(&[3, 9], &mut out).unwrap(); // once per subscriber connection
//! let message = Message::read_payload(&out.freeze().slice(6..)).unwrap();
//! assert_eq!(message.sids, [3, 9]);
//! assert_eq!(message.body, publish.body);
//! ```

use bytes::{BufMut, Bytes, BytesMut};

use super::envelope::Envelope;
use super::wire::{self, read_whole, Form, Reader, WireError};
use super::{kind, ErrorCode, ProtocolError};
use crate::pubsub::{ChannelError, Pattern, PatternError};

/// The longest queue-group name accepted, in bytes.
pub const MAX_GROUP_BYTES: usize = 128;

/// What is wrong with a field of a pub/sub frame that was otherwise read whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidField {
    /// The subscription pattern is not a valid pattern.
    #[error("invalid pattern: {0}")]
    Pattern(PatternError),
    /// The channel is not one a message can be published to.
    #[error("invalid channel: {0}")]
    Channel(ChannelError),
    /// The reply-to channel is not one a message can be published to.
    #[error("invalid reply-to channel: {0}")]
    ReplyTo(ChannelError),
    /// The queue-group name is empty, too long or holds a control character.
    #[error("invalid queue group: {0}")]
    Group(&'static str),
    /// The flags have a bit the kind does not define, or a combination that means nothing.
    #[error("invalid flags {flags:#04x}: {why}")]
    Flags {
        /// The flags as sent.
        flags: u64,
        /// Which rule they break.
        why: &'static str,
    },
    /// A list of subscription ids breaks its rule (empty, unordered or repeated).
    #[error("invalid subscription ids: {0}")]
    Sids(&'static str),
}

impl InvalidField {
    /// The code a REFUSED frame about this carries: 300 `invalid-body` for a value that fails
    /// validation (pattern, channel, group), 100 `protocol` for a malformed frame.
    pub fn code(&self) -> ErrorCode {
        match self {
            InvalidField::Pattern(_)
            | InvalidField::Channel(_)
            | InvalidField::ReplyTo(_)
            | InvalidField::Group(_) => ErrorCode::InvalidBody,
            InvalidField::Flags { .. } | InvalidField::Sids(_) => ErrorCode::Protocol,
        }
    }
}

pub(super) fn invalid(kind: u16, sid: Option<u64>, field: InvalidField) -> ProtocolError {
    ProtocolError::Invalid { kind, sid, field }
}

/// The options of one subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct SubscriptionFlags(u8);

impl SubscriptionFlags {
    /// No option.
    pub const NONE: SubscriptionFlags = SubscriptionFlags(0);
    /// Do not replay retained messages to this subscription when it is made.
    pub const NO_RETAINED: SubscriptionFlags = SubscriptionFlags(0x01);

    /// The number sent on the wire.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: SubscriptionFlags) -> bool {
        self.0 & other.0 == other.0
    }

    fn check(bits: u64) -> Result<SubscriptionFlags, InvalidField> {
        if bits & !u64::from(SubscriptionFlags::NO_RETAINED.0) != 0 {
            return Err(InvalidField::Flags {
                flags: bits,
                why: "a bit SUBSCRIBE does not define is set",
            });
        }
        Ok(SubscriptionFlags(bits as u8))
    }
}

fn check_group(group: &str) -> Result<(), InvalidField> {
    if group.is_empty() {
        return Err(InvalidField::Group("empty (send nil for no group)"));
    }
    if group.len() > MAX_GROUP_BYTES {
        return Err(InvalidField::Group("longer than 128 bytes"));
    }
    if group.chars().any(char::is_control) {
        return Err(InvalidField::Group("holds a control character"));
    }
    Ok(())
}

/// SUBSCRIBE (spoke to hub), and one entry of SUBSCRIPTIONS: `[sid, pattern, group, flags]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscribe {
    /// Chosen by the spoke, unique among its subscriptions; MESSAGE frames name it.
    pub sid: u64,
    /// What the subscription matches (written in canonical form).
    pub pattern: Pattern,
    /// A queue group: each message goes to one member of the group, not to all of them.
    pub group: Option<String>,
    /// Options.
    pub flags: SubscriptionFlags,
}

impl Subscribe {
    /// A plain subscription: no group, no option.
    pub fn new(sid: u64, pattern: Pattern) -> Subscribe {
        Subscribe {
            sid,
            pattern,
            group: None,
            flags: SubscriptionFlags::NONE,
        }
    }

    fn write(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        out.put_u8(0x94);
        wire::put_uint(out, self.sid);
        wire::put_str(out, &self.pattern.to_string())?;
        wire::put_opt_str(out, self.group.as_deref())?;
        wire::put_uint(out, u64::from(self.flags.0));
        Ok(())
    }

    /// Reads one entry: `Err` for a malformed entry, `Ok(Err)` for a well-formed one whose
    /// pattern, group or flags are refused (with its sid).
    fn read(rd: &mut Reader<'_>) -> Result<Result<Subscribe, (u64, InvalidField)>, WireError> {
        rd.array_of(4)?;
        let sid = rd.uint()?;
        let pattern = rd.text(Form::Str)?;
        let group = rd.opt_text(Form::Str)?;
        let flags = rd.uint()?;
        let checked = (|| {
            let pattern = Pattern::parse(pattern).map_err(InvalidField::Pattern)?;
            if let Some(group) = group {
                check_group(group)?;
            }
            let flags = SubscriptionFlags::check(flags)?;
            Ok(Subscribe {
                sid,
                pattern,
                group: group.map(str::to_owned),
                flags,
            })
        })();
        Ok(checked.map_err(|field| (sid, field)))
    }
}

impl Envelope for Subscribe {
    const KIND: u16 = kind::SUBSCRIBE;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        self.write(out)
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        let entry = read_whole(Self::KIND, payload, Subscribe::read)?;
        entry.map_err(|(sid, field)| invalid(Self::KIND, Some(sid), field))
    }

    fn payload_size_hint(&self) -> usize {
        32 + self.group.as_ref().map_or(0, String::len)
    }
}

/// UNSUBSCRIBE (spoke to hub): `[sid]`. An unknown sid is ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unsubscribe {
    /// The subscription to end.
    pub sid: u64,
}

impl Envelope for Unsubscribe {
    const KIND: u16 = kind::UNSUBSCRIBE;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        out.put_u8(0x91);
        wire::put_uint(out, self.sid);
        Ok(())
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        let sid = read_whole(Self::KIND, payload, |rd| {
            rd.array_of(1)?;
            rd.uint()
        })?;
        Ok(Unsubscribe { sid })
    }

    fn payload_size_hint(&self) -> usize {
        10
    }
}

/// SUBSCRIPTIONS (spoke to hub): `[[subscribe, ...]]`, the spoke's whole list, which replaces
/// whatever the hub had for the connection. Sent after every connect.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Subscriptions {
    /// Every subscription, sids unique.
    pub subscriptions: Vec<Subscribe>,
}

impl Subscriptions {
    /// Reads a SUBSCRIPTIONS payload, keeping apart the entries whose pattern, group or flags
    /// are refused (each error names its sid), so a hub applies the others: each entry stands
    /// or falls on its own, like a SUBSCRIBE. A malformed frame or a repeated sid is an error
    /// for the whole frame.
    pub fn read_each(
        payload: &Bytes,
    ) -> Result<(Subscriptions, Vec<ProtocolError>), ProtocolError> {
        let kind = kind::SUBSCRIPTIONS;
        let entries = read_whole(kind, payload, |rd| {
            rd.array_of(1)?;
            let count = rd.array_len()?;
            // An entry takes at least 5 bytes: never reserve beyond what the payload can hold.
            let mut entries = Vec::with_capacity(count.min(rd.remaining() / 5));
            for _ in 0..count {
                entries.push(Subscribe::read(rd)?);
            }
            Ok(entries)
        })?;
        let mut sids: Vec<u64> = entries
            .iter()
            .map(|e| match e {
                Ok(s) => s.sid,
                Err((sid, _)) => *sid,
            })
            .collect();
        sids.sort_unstable();
        if let Some(pair) = sids.windows(2).find(|w| w[0] == w[1]) {
            let field = InvalidField::Sids("a sid appears twice in the list");
            return Err(invalid(kind, Some(pair[0]), field));
        }
        let mut subscriptions = Vec::with_capacity(entries.len());
        let mut refused = Vec::new();
        for entry in entries {
            match entry {
                Ok(s) => subscriptions.push(s),
                Err((sid, field)) => refused.push(invalid(kind, Some(sid), field)),
            }
        }
        Ok((Subscriptions { subscriptions }, refused))
    }
}

impl Envelope for Subscriptions {
    const KIND: u16 = kind::SUBSCRIPTIONS;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        out.put_u8(0x91);
        wire::put_array_len(out, self.subscriptions.len())?;
        for s in &self.subscriptions {
            s.write(out)?;
        }
        Ok(())
    }

    /// Strict: the first refused entry fails the whole frame (see [`Subscriptions::read_each`]).
    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        let (subscriptions, mut refused) = Subscriptions::read_each(payload)?;
        match refused.is_empty() {
            true => Ok(subscriptions),
            false => Err(refused.swap_remove(0)),
        }
    }

    fn payload_size_hint(&self) -> usize {
        8 + 32 * self.subscriptions.len()
    }
}

/// REFUSED (hub to spoke): the hub did not apply a SUBSCRIBE, a SUBSCRIPTIONS entry or a
/// PUBLISH. `[sid | nil, code, message]`. The connection stays open.
///
/// Not an ERROR frame: ERROR ids name requests, and a spoke's sids and request ids are chosen
/// independently, so they would collide.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// The subscription refused; `None` for a PUBLISH, or a frame whose sid cannot be read.
    pub sid: Option<u64>,
    /// Why, from the table of error codes.
    pub code: ErrorCode,
    /// Why, for a person.
    pub message: String,
}

impl Refused {
    /// The REFUSED that answers a frame of `kind` with `payload` that failed to read with
    /// `error`: it names the sid the error names, or the one the payload starts with.
    pub fn for_error(kind: u16, payload: &[u8], error: &ProtocolError) -> Refused {
        let sid = match error {
            ProtocolError::Invalid { sid, .. } => *sid,
            _ => peek_sid(kind, payload),
        };
        Refused {
            sid,
            code: error.code(),
            message: error.to_string(),
        }
    }
}

impl Envelope for Refused {
    const KIND: u16 = kind::REFUSED;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        out.put_u8(0x93);
        wire::put_opt_uint(out, self.sid);
        wire::put_uint(out, u64::from(self.code.as_u16()));
        wire::put_str(out, &self.message)
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        let (sid, code, message) = read_whole(Self::KIND, payload, |rd| {
            rd.array_of(3)?;
            Ok((rd.opt_uint()?, rd.u16()?, rd.text(Form::Str)?))
        })?;
        Ok(Refused {
            sid,
            code: ErrorCode::from(code),
            message: message.to_owned(),
        })
    }

    fn payload_size_hint(&self) -> usize {
        16 + self.message.len()
    }
}

/// The sid a SUBSCRIBE or UNSUBSCRIBE payload starts with, if it can be read, so that the
/// REFUSED answering a payload that cannot be read whole still names the subscription.
pub fn peek_sid(kind: u16, payload: &[u8]) -> Option<u64> {
    if kind != kind::SUBSCRIBE && kind != kind::UNSUBSCRIBE {
        return None;
    }
    let mut rd = Reader::new(payload);
    match rd.array_len() {
        Ok(len) if len > 0 => rd.uint().ok(),
        _ => None,
    }
}
