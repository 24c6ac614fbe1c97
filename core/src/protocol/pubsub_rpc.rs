//! Calls over pub/sub: reply inboxes and the body of a failed call (`docs/protocol.md`, 10.5).
//!
//! A call is a PUBLISH with REQUEST and a `reply_to` in the caller's inbox; the callee's ACK,
//! REPLY and ERROR are ordinary publishes to that `reply_to`. The hub understands only REQUEST:
//! when nothing subscribes to a call's channel it publishes [`Publish::no_responders`] at once.
//!
//! ```
//! use bytes::Bytes;
//! use hubwire_core::protocol::{Headers, Inbox, MessageFlags, Publish, ReplyError};
//! use hubwire_core::pubsub::Channel;
//!
//! let inbox = Inbox::new(0x1234); // a random u128, once per spoke
//! let call = Publish {
//!     channel: Channel::parse("svc/dice/roll").unwrap(),
//!     flags: MessageFlags::REQUEST,
//!     reply_to: Some(inbox.reply_to(7)),
//!     headers: Headers::new(),
//!     body: Bytes::new(),
//! };
//! // The hub, finding no subscriber:
//! let answer = call.no_responders().unwrap();
//! assert_eq!(answer.channel.as_str(), "_inbox/00000000000000000000000000001234/7");
//! assert_eq!(inbox.call_of(&answer.channel), Some(7));
//! assert_eq!(ReplyError::from_body(&answer.body).unwrap().code.as_u16(), 400);
//! ```

use bytes::{BufMut, Bytes, BytesMut};

use super::wire::{self, read_whole, Form};
use super::{kind, ErrorCode, Headers, MessageFlags, ProtocolError, Publish};
use crate::pubsub::{Channel, Pattern};

/// The first token of every inbox channel.
pub const INBOX_PREFIX: &str = "_inbox";

/// A spoke's reply inbox: `_inbox/<token>/<call>`, `token` 32 lower-case hex digits of a random
/// 128-bit number chosen once per spoke, `call` a decimal call number. One subscription to
/// [`pattern`](Self::pattern) receives the answers to every call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inbox {
    /// `_inbox/<token>`.
    prefix: String,
}

impl Inbox {
    /// The inbox of `token`, which should be random (unguessable, and unique in the topology).
    pub fn new(token: u128) -> Inbox {
        Inbox {
            prefix: format!("{INBOX_PREFIX}/{token:032x}"),
        }
    }

    /// `_inbox/<token>/*`: the one subscription that receives every answer.
    pub fn pattern(&self) -> Pattern {
        Pattern::parse(&format!("{}/*", self.prefix)).expect("an inbox pattern is valid")
    }

    /// The `reply_to` of call number `call`.
    pub fn reply_to(&self, call: u64) -> Channel {
        Channel::parse(&format!("{}/{call}", self.prefix)).expect("an inbox channel is valid")
    }

    /// The call number an answer on `channel` is for, if `channel` is in this inbox.
    pub fn call_of(&self, channel: &Channel) -> Option<u64> {
        let call = channel
            .as_str()
            .strip_prefix(&self.prefix)?
            .strip_prefix('/')?;
        if call.starts_with('+') {
            return None;
        }
        call.parse().ok()
    }
}

/// The body of an answer with the ERROR flag: `[code, message]`, the code from the table of
/// error codes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyError {
    /// Why the call failed.
    pub code: ErrorCode,
    /// Why, for a person.
    pub message: String,
}

impl ReplyError {
    /// What the hub answers a call nobody subscribes to: 400 `unknown-route`.
    pub fn no_responders(channel: &Channel) -> ReplyError {
        ReplyError {
            code: ErrorCode::UnknownRoute,
            message: format!(
                "no responders: nothing subscribes to channel \"{channel}\" (is the service running?)"
            ),
        }
    }

    /// The body bytes.
    pub fn to_body(&self) -> Result<Bytes, ProtocolError> {
        let mut out = BytesMut::with_capacity(8 + self.message.len());
        out.put_u8(0x92);
        wire::put_uint(&mut out, u64::from(self.code.as_u16()));
        wire::put_str(&mut out, &self.message)?;
        Ok(out.freeze())
    }

    /// Reads an ERROR answer's body (errors name the MESSAGE kind, which carried it).
    pub fn from_body(body: &[u8]) -> Result<ReplyError, ProtocolError> {
        let (code, message) = read_whole(kind::MESSAGE, body, |rd| {
            rd.array_of(2)?;
            Ok((rd.u16()?, rd.text(Form::Str)?))
        })?;
        Ok(ReplyError {
            code: ErrorCode::from(code),
            message: message.to_owned(),
        })
    }
}

impl Publish {
    /// For a call (REQUEST), the answer the hub publishes to its `reply_to` when nothing
    /// subscribes to its channel; `None` for any other publish.
    pub fn no_responders(&self) -> Option<Publish> {
        if !self.flags.contains(MessageFlags::REQUEST) {
            return None;
        }
        let body = ReplyError::no_responders(&self.channel).to_body().ok()?;
        Some(Publish {
            channel: self.reply_to.clone()?,
            flags: MessageFlags::ERROR,
            reply_to: None,
            headers: Headers::new(),
            body,
        })
    }
}
