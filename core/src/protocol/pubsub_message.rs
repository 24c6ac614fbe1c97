//! PUBLISH and MESSAGE, their flags, and the MESSAGE tail a hub encodes once per publish.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use super::envelope::Envelope;
use super::frame::{HEADER_BYTES, LENGTH_BYTES};
use super::pubsub::{invalid, InvalidField};
use super::wire::{self, read_whole, Form, Reader, WireError};
use super::{kind, Headers, ProtocolError};
use crate::pubsub::Channel;

/// The flags of a PUBLISH and of a MESSAGE: hub instructions, the call bits of RPC, and the
/// hub's mark on a replayed retained message. See `docs/protocol.md` for which kind may carry
/// which bit and the combinations refused.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MessageFlags(u8);

impl MessageFlags {
    /// No flag.
    pub const NONE: MessageFlags = MessageFlags(0);
    /// PUBLISH: do not deliver to the publishing connection's own subscriptions.
    pub const NO_ECHO: MessageFlags = MessageFlags(0x01);
    /// PUBLISH: keep as the channel's retained message (an empty body clears it).
    pub const RETAIN: MessageFlags = MessageFlags(0x02);
    /// A call: the publisher waits on `reply_to`; the hub answers "no responders" there at once
    /// when nothing subscribes to the channel.
    pub const REQUEST: MessageFlags = MessageFlags(0x04);
    /// A call's callee received it (sent to the call's `reply_to`).
    pub const ACK: MessageFlags = MessageFlags(0x08);
    /// The body is the call's reply value.
    pub const REPLY: MessageFlags = MessageFlags(0x10);
    /// The call failed; the body is a [`ReplyError`](super::ReplyError).
    pub const ERROR: MessageFlags = MessageFlags(0x20);
    /// MESSAGE: a retained message replayed to a new subscription, not a live publish.
    pub const RETAINED: MessageFlags = MessageFlags(0x40);

    /// The bits a call's answer may carry.
    pub const STATUS: MessageFlags = MessageFlags(0x08 | 0x10 | 0x20);
    /// The bits a PUBLISH may carry.
    pub const PUBLISH_BITS: MessageFlags = MessageFlags(0x01 | 0x02 | 0x04 | 0x38);
    /// The bits a MESSAGE may carry.
    pub const MESSAGE_BITS: MessageFlags = MessageFlags(0x04 | 0x38 | 0x40);

    /// Every named flag, lowest bit first.
    pub const EACH: [MessageFlags; 7] = [
        MessageFlags::NO_ECHO,
        MessageFlags::RETAIN,
        MessageFlags::REQUEST,
        MessageFlags::ACK,
        MessageFlags::REPLY,
        MessageFlags::ERROR,
        MessageFlags::RETAINED,
    ];

    const NAMES: [(MessageFlags, &'static str); 7] = [
        (MessageFlags::NO_ECHO, "NO_ECHO"),
        (MessageFlags::RETAIN, "RETAIN"),
        (MessageFlags::REQUEST, "REQUEST"),
        (MessageFlags::ACK, "ACK"),
        (MessageFlags::REPLY, "REPLY"),
        (MessageFlags::ERROR, "ERROR"),
        (MessageFlags::RETAINED, "RETAINED"),
    ];

    /// The number sent on the wire.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: MessageFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any bit of `other` is set.
    pub const fn intersects(self, other: MessageFlags) -> bool {
        self.0 & other.0 != 0
    }

    /// These flags and `other`'s.
    pub const fn union(self, other: MessageFlags) -> MessageFlags {
        MessageFlags(self.0 | other.0)
    }

    /// These flags without `other`'s.
    pub const fn without(self, other: MessageFlags) -> MessageFlags {
        MessageFlags(self.0 & !other.0)
    }

    /// The flags of the MESSAGE that delivers a PUBLISH with these flags live: the hub's
    /// instructions (NO_ECHO, RETAIN) are dropped, the call bits pass through.
    pub const fn delivered(self) -> MessageFlags {
        self.without(MessageFlags::NO_ECHO.union(MessageFlags::RETAIN))
    }

    /// Checks `bits` as the flags of a frame of `kind` (PUBLISH or MESSAGE).
    fn check(bits: u64, kind: u16, has_reply_to: bool) -> Result<MessageFlags, InvalidField> {
        let allowed = if kind == kind::PUBLISH {
            MessageFlags::PUBLISH_BITS
        } else {
            MessageFlags::MESSAGE_BITS
        };
        let refuse = |why| Err(InvalidField::Flags { flags: bits, why });
        if bits & !u64::from(allowed.0) != 0 {
            return refuse("a bit this frame kind does not define is set");
        }
        let flags = MessageFlags(bits as u8);
        let kept = MessageFlags::RETAIN.union(MessageFlags::RETAINED);
        if flags.contains(MessageFlags::REQUEST) {
            if !has_reply_to {
                return refuse("REQUEST needs a reply-to channel");
            }
            if flags.intersects(MessageFlags::STATUS.union(kept)) {
                return refuse(
                    "REQUEST cannot be combined with RETAIN, RETAINED, ACK, REPLY or ERROR",
                );
            }
        }
        if flags.contains(MessageFlags::REPLY.union(MessageFlags::ERROR)) {
            return refuse("REPLY and ERROR exclude each other");
        }
        if flags.intersects(kept) && flags.intersects(MessageFlags::STATUS) {
            return refuse("a call's answer (ACK, REPLY, ERROR) cannot be retained");
        }
        Ok(flags)
    }
}

impl std::ops::BitOr for MessageFlags {
    type Output = MessageFlags;

    fn bitor(self, other: MessageFlags) -> MessageFlags {
        self.union(other)
    }
}

impl fmt::Debug for MessageFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = MessageFlags::NAMES
            .iter()
            .filter(|(flag, _)| self.contains(*flag))
            .map(|(_, name)| *name)
            .collect();
        if names.is_empty() {
            return f.write_str("NONE");
        }
        f.write_str(&names.join("|"))
    }
}

/// The fields a PUBLISH and a MESSAGE share, from the channel to the body's `bin` header.
fn put_message_fields(
    out: &mut BytesMut,
    channel: &Channel,
    flags: MessageFlags,
    reply_to: Option<&Channel>,
    headers: &Headers,
    body_len: usize,
) -> Result<(), ProtocolError> {
    wire::put_str(out, channel.as_str())?;
    wire::put_uint(out, u64::from(flags.0));
    wire::put_opt_str(out, reply_to.map(Channel::as_str))?;
    wire::put_headers(out, headers)?;
    wire::put_bin_header(out, body_len)
}

/// The fields a PUBLISH and a MESSAGE share, read and checked.
struct MessageFields {
    channel: Channel,
    flags: MessageFlags,
    reply_to: Option<Channel>,
    headers: Headers,
    body: Bytes,
}

/// The fields a PUBLISH and a MESSAGE share as read, before their values are checked.
struct RawFields<'a> {
    channel: &'a str,
    flags: u64,
    reply_to: Option<&'a str>,
    headers: Headers,
    body: &'a [u8],
}

/// Reads `channel, flags, reply_to, headers, body` (after the array header, and the sids of
/// a MESSAGE).
fn read_raw_fields<'a>(rd: &mut Reader<'a>) -> Result<RawFields<'a>, WireError> {
    Ok(RawFields {
        channel: rd.text(Form::Str)?,
        flags: rd.uint()?,
        reply_to: rd.opt_text(Form::Str)?,
        headers: rd.headers(Form::Str)?,
        body: rd.bytes(Form::Bin)?,
    })
}

/// Checks the values of fields read whole from `payload` in a frame of `kind`.
fn check_fields(
    payload: &Bytes,
    raw: RawFields<'_>,
    kind: u16,
) -> Result<MessageFields, ProtocolError> {
    check_fields_with(payload, raw, kind, &mut None)
}

/// [`check_fields`], taking the channel from `last` when its text is the same (a publisher
/// mostly repeats its channel: parsing one is a fifth of a publish's instructions), and
/// keeping the channel read in `last`.
fn check_fields_with(
    payload: &Bytes,
    raw: RawFields<'_>,
    kind: u16,
    last: &mut Option<Channel>,
) -> Result<MessageFields, ProtocolError> {
    let channel = match last {
        Some(channel) if channel.as_str() == raw.channel => channel.clone(),
        _ => {
            let channel = Channel::parse(raw.channel)
                .map_err(|e| invalid(kind, None, InvalidField::Channel(e)))?;
            *last = Some(channel.clone());
            channel
        }
    };
    let reply_to = raw
        .reply_to
        .map(Channel::parse)
        .transpose()
        .map_err(|e| invalid(kind, None, InvalidField::ReplyTo(e)))?;
    let flags = MessageFlags::check(raw.flags, kind, reply_to.is_some())
        .map_err(|field| invalid(kind, None, field))?;
    Ok(MessageFields {
        channel,
        flags,
        reply_to,
        headers: raw.headers,
        body: payload.slice_ref(raw.body),
    })
}

/// PUBLISH (spoke to hub): `[channel, flags, reply_to, headers, body]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publish {
    /// Where the message goes.
    pub channel: Channel,
    /// NO_ECHO, RETAIN, and the call bits (REQUEST, ACK, REPLY, ERROR).
    pub flags: MessageFlags,
    /// Where answers go (a call's inbox channel); required with REQUEST.
    pub reply_to: Option<Channel>,
    /// Trace context, a call's deadline, and anything else; passed to subscribers as they are.
    pub headers: Headers,
    /// Opaque to the protocol and the hub, sliced out of the frame.
    pub body: Bytes,
}

impl Envelope for Publish {
    const KIND: u16 = kind::PUBLISH;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        MessageFlags::check(u64::from(self.flags.0), Self::KIND, self.reply_to.is_some())
            .map_err(|field| invalid(Self::KIND, None, field))?;
        out.reserve(self.payload_size_hint());
        out.put_u8(0x95);
        let reply_to = self.reply_to.as_ref();
        put_message_fields(
            out,
            &self.channel,
            self.flags,
            reply_to,
            &self.headers,
            self.body.len(),
        )?;
        out.extend_from_slice(&self.body);
        Ok(())
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        Publish::read_after(payload, &mut None)
    }

    fn payload_size_hint(&self) -> usize {
        message_fields_hint(
            &self.channel,
            self.reply_to.as_ref(),
            &self.headers,
            &self.body,
        )
    }
}

impl Publish {
    /// Reads a PUBLISH's payload as [`Envelope::read_payload`] does, with `last`, the channel
    /// of the connection's previous PUBLISH: the same text is not parsed again. `last` is the
    /// channel read, after.
    pub fn read_after(payload: &Bytes, last: &mut Option<Channel>) -> Result<Self, ProtocolError> {
        let raw = read_whole(Self::KIND, payload, |rd| {
            rd.array_of(5)?;
            read_raw_fields(rd)
        })?;
        let f = check_fields_with(payload, raw, Self::KIND, last)?;
        Ok(Publish {
            channel: f.channel,
            flags: f.flags,
            reply_to: f.reply_to,
            headers: f.headers,
            body: f.body,
        })
    }
}

/// Whether the MESSAGE fields of `b` encode to the same bytes as those of `a` (checked where
/// it is cheap: without headers).
fn encodes_alike(a: &Publish, b: &Publish) -> bool {
    a.body.len() == b.body.len()
        && a.flags == b.flags
        && a.headers.is_empty()
        && b.headers.is_empty()
        && a.reply_to == b.reply_to
        && a.channel == b.channel
}

fn message_fields_hint(
    channel: &Channel,
    reply_to: Option<&Channel>,
    headers: &Headers,
    body: &[u8],
) -> usize {
    let mut headers_len = 0;
    headers.for_each(|k, v| headers_len += k.len() + v.len() + 4);
    16 + channel.as_str().len()
        + reply_to.map_or(0, |c| c.as_str().len())
        + headers_len
        + body.len()
}

/// MESSAGE (hub to spoke): `[sids, channel, flags, reply_to, headers, body]`, one per publish
/// per subscriber connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Every subscription of the receiving connection the message is for, ascending, at least
    /// one: the spoke dispatches on them without matching the channel again.
    pub sids: Vec<u64>,
    /// The channel it was published to, in normal form.
    pub channel: Channel,
    /// The call bits of the publish, and RETAINED for a replayed retained message.
    pub flags: MessageFlags,
    /// Where answers go, as the publisher gave it.
    pub reply_to: Option<Channel>,
    /// The publisher's headers.
    pub headers: Headers,
    /// The publisher's body, as it was published.
    pub body: Bytes,
}

fn check_sids(sids: &[u64]) -> Result<(), ProtocolError> {
    let refuse = |why| Err(invalid(kind::MESSAGE, None, InvalidField::Sids(why)));
    if sids.is_empty() {
        return refuse("a MESSAGE names at least one subscription");
    }
    if sids.windows(2).any(|w| w[0] >= w[1]) {
        return refuse("the sids of a MESSAGE must be strictly ascending");
    }
    Ok(())
}

fn put_sids(out: &mut BytesMut, sids: &[u64]) -> Result<(), ProtocolError> {
    check_sids(sids)?;
    out.put_u8(0x96);
    wire::put_array_len(out, sids.len())?;
    for &sid in sids {
        wire::put_uint(out, sid);
    }
    Ok(())
}

impl Envelope for Message {
    const KIND: u16 = kind::MESSAGE;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        MessageFlags::check(u64::from(self.flags.0), Self::KIND, self.reply_to.is_some())
            .map_err(|field| invalid(Self::KIND, None, field))?;
        out.reserve(self.payload_size_hint());
        put_sids(out, &self.sids)?;
        let reply_to = self.reply_to.as_ref();
        put_message_fields(
            out,
            &self.channel,
            self.flags,
            reply_to,
            &self.headers,
            self.body.len(),
        )?;
        out.extend_from_slice(&self.body);
        Ok(())
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        let (sids, raw) = read_whole(Self::KIND, payload, |rd| {
            rd.array_of(6)?;
            let count = rd.array_len()?;
            let mut sids = Vec::with_capacity(count);
            for _ in 0..count {
                sids.push(rd.uint()?);
            }
            Ok((sids, read_raw_fields(rd)?))
        })?;
        let f = check_fields(payload, raw, Self::KIND)?;
        check_sids(&sids)?;
        Ok(Message {
            sids,
            channel: f.channel,
            flags: f.flags,
            reply_to: f.reply_to,
            headers: f.headers,
            body: f.body,
        })
    }

    fn payload_size_hint(&self) -> usize {
        let fields = message_fields_hint(
            &self.channel,
            self.reply_to.as_ref(),
            &self.headers,
            &self.body,
        );
        fields + 5 + 9 * self.sids.len()
    }
}

/// A MESSAGE encoded once for every subscriber of one publish: all of it after the sid list.
///
/// The fields are encoded once (a few dozen bytes) and the body is the publish's own `Bytes`,
/// never copied here; per connection only the frame header and the sid list are written
/// ([`write_head`](Self::write_head)), followed by [`parts`](Self::parts) in a vectored write, or
/// copied into the connection's buffer by [`write_frame`](Self::write_frame).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageTail {
    /// `channel, flags, reply_to, headers` and the body's `bin` header.
    fields: Bytes,
    body: Bytes,
}

impl MessageTail {
    /// The tail of a MESSAGE with these fields; `flags` must be valid for a MESSAGE.
    pub fn new(
        channel: &Channel,
        flags: MessageFlags,
        reply_to: Option<&Channel>,
        headers: &Headers,
        body: Bytes,
    ) -> Result<MessageTail, ProtocolError> {
        MessageFlags::check(u64::from(flags.0), kind::MESSAGE, reply_to.is_some())
            .map_err(|field| invalid(kind::MESSAGE, None, field))?;
        let mut fields =
            BytesMut::with_capacity(message_fields_hint(channel, reply_to, headers, b""));
        put_message_fields(&mut fields, channel, flags, reply_to, headers, body.len())?;
        Ok(MessageTail {
            fields: fields.freeze(),
            body,
        })
    }

    /// The tail of the live delivery of `publish` (its flags [`delivered`](MessageFlags::delivered)).
    pub fn for_publish(publish: &Publish) -> Result<MessageTail, ProtocolError> {
        MessageTail::new(
            &publish.channel,
            publish.flags.delivered(),
            publish.reply_to.as_ref(),
            &publish.headers,
            publish.body.clone(),
        )
    }

    /// The tails of `publishes`, in order, onto `tails`: a publish whose fields encode as the
    /// previous one's (same channel, flags and reply-to, no headers, a body of the same length:
    /// a run from a streaming publisher) shares that encoding instead of building its own.
    pub fn extend_for(publishes: &[Publish], tails: &mut Vec<Result<MessageTail, ProtocolError>>) {
        let mut previous: Option<(&Publish, Bytes)> = None;
        for publish in publishes {
            let tail = match &previous {
                Some((before, fields)) if encodes_alike(before, publish) => Ok(MessageTail {
                    fields: fields.clone(),
                    body: publish.body.clone(),
                }),
                _ => MessageTail::for_publish(publish),
            };
            if let Ok(tail) = &tail {
                previous = Some((publish, tail.fields.clone()));
            }
            tails.push(tail);
        }
    }

    /// The tail of a retained message replayed to new subscriptions (RETAINED, no reply-to).
    pub fn retained(
        channel: &Channel,
        headers: &Headers,
        body: Bytes,
    ) -> Result<MessageTail, ProtocolError> {
        MessageTail::new(channel, MessageFlags::RETAINED, None, headers, body)
    }

    /// Bytes of the tail (what every frame of this publish has after its sid list).
    pub fn len(&self) -> usize {
        self.fields.len() + self.body.len()
    }

    /// Never true: a tail holds at least the channel and the flags.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The encoded fields and the body, to follow [`write_head`](Self::write_head).
    pub fn parts(&self) -> [&Bytes; 2] {
        [&self.fields, &self.body]
    }

    /// Appends a MESSAGE frame's header and sid list (`sids` ascending, at least one) to `out`;
    /// the frame's `length` counts the tail, which must follow. On an error nothing is appended.
    pub fn write_head(&self, sids: &[u64], out: &mut BytesMut) -> Result<(), ProtocolError> {
        let start = out.len();
        out.reserve(HEADER_BYTES + 5 + 9 * sids.len());
        out.put_u32(0);
        out.put_u16(kind::MESSAGE);
        let length = put_sids(out, sids)
            .and_then(|()| wire::len32(out.len() - start - LENGTH_BYTES + self.len()));
        match length {
            Ok(length) => {
                out[start..start + LENGTH_BYTES].copy_from_slice(&length.to_be_bytes());
                Ok(())
            }
            Err(e) => {
                out.truncate(start);
                Err(e)
            }
        }
    }

    /// Bytes of the whole MESSAGE frame [`write_frame`](Self::write_frame) appends for `sids`,
    /// known before it is written (so a bound can be checked first).
    pub fn frame_len(&self, sids: &[u64]) -> usize {
        let sid_bytes: usize = sids.iter().map(|&sid| wire::uint_len(sid)).sum();
        HEADER_BYTES + 1 + wire::array_len_len(sids.len()) + sid_bytes + self.len()
    }

    /// Appends a whole MESSAGE frame for `sids` to `out`.
    pub fn write_frame(&self, sids: &[u64], out: &mut BytesMut) -> Result<(), ProtocolError> {
        self.write_head(sids, out)?;
        out.extend_from_slice(&self.fields);
        out.extend_from_slice(&self.body);
        Ok(())
    }
}
