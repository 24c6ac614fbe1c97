//! One routing for both protocols: a NATS publish as the hub's [`Publish`], and a hub message
//! as a NATS subscriber sees it ([`NatsView`]). Pure functions; the rules are the table of
//! `docs/nats-compatibility.md`.
//!
//! - A NATS publish with a reply subject is a call (REQUEST), so hubwire providers answer it
//!   and the hub says no-responders when nothing subscribes.
//! - A NATS publish to a hubwire call inbox (`_inbox.<token>.<n>`) is a call's answer
//!   (ACK|REPLY), so a hubwire caller takes it as the reply.
//! - A bare ACK is hubwire's own bookkeeping: NATS subscribers never see it. An ERROR answer
//!   reaches them as an empty message with `Nats-Service-Error-Code` and `Nats-Service-Error`
//!   headers, and the hub's no-responders as NATS's 503 status.

use std::sync::Arc;

use bytes::Bytes;

use super::{channel_to_subject, read_headers, subject_to_channel, HeaderError, SubjectError};
use crate::protocol::{ErrorCode, Headers, MessageFlags, Publish, ReplyError, INBOX_PREFIX};
use crate::pubsub::Channel;

/// The header naming the code of a failed call, as NATS services write it.
pub const SERVICE_ERROR_CODE: &str = "Nats-Service-Error-Code";
/// The header with the words of a failed call.
pub const SERVICE_ERROR: &str = "Nats-Service-Error";
/// NATS's status for a request that reached nobody.
pub const NO_RESPONDERS_STATUS: u16 = 503;

/// Why a NATS publish cannot be routed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// The subject or reply subject has no hubwire form.
    #[error(transparent)]
    Subject(#[from] SubjectError),
    /// The header block cannot be read.
    #[error(transparent)]
    Headers(#[from] HeaderError),
}

impl PublishError {
    /// The text of the `-ERR` the client gets (the connection stays open).
    pub fn nats_text(&self) -> &'static str {
        match self {
            PublishError::Subject(SubjectError::Wildcard(_) | SubjectError::Invalid(_)) => {
                "Invalid Publish Subject"
            }
            PublishError::Subject(e) => e.nats_text(),
            PublishError::Headers(_) => "Invalid Header Block",
        }
    }
}

/// The hub's publish for `PUB subject [reply]` or `HPUB`. `echo: false` leaves the
/// publisher's own subscriptions out (NO_ECHO).
pub fn publish_from_nats(
    subject: &str,
    reply: Option<&str>,
    header_block: Option<&[u8]>,
    payload: Bytes,
    echo: bool,
) -> Result<Publish, PublishError> {
    publish_to_channel(
        subject_to_channel(subject)?,
        reply,
        header_block,
        payload,
        echo,
    )
}

/// [`publish_from_nats`] with the subject already mapped to its `channel` (by a
/// [`SubjectCache`](super::SubjectCache)).
pub fn publish_to_channel(
    channel: Channel,
    reply: Option<&str>,
    header_block: Option<&[u8]>,
    payload: Bytes,
    echo: bool,
) -> Result<Publish, PublishError> {
    let reply_to = reply.map(subject_to_channel).transpose()?;
    let headers = match header_block {
        Some(block) => read_headers(block)?.headers,
        None => Headers::new(),
    };
    let mut flags = if reply_to.is_some() {
        MessageFlags::REQUEST
    } else if is_call_inbox(&channel) {
        MessageFlags::ACK.union(MessageFlags::REPLY)
    } else {
        MessageFlags::NONE
    };
    if !echo {
        flags = flags.union(MessageFlags::NO_ECHO);
    }
    Ok(Publish {
        channel,
        flags,
        reply_to,
        headers,
        body: payload,
    })
}

/// Whether `channel` is in a hubwire caller's inbox (`_inbox/<token>/<n>`).
fn is_call_inbox(channel: &Channel) -> bool {
    channel.tokens().next() == Some(INBOX_PREFIX)
}

/// A hub message as NATS subscribers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NatsView {
    /// Not shown to NATS subscribers: a bare ACK, or a channel with no subject form.
    Hidden,
    /// The hub's no-responders answer: shown as a 503 status on `subject` to clients that
    /// asked for it (headers and no_responders), to no one else.
    NoResponders {
        /// The reply subject of the request.
        subject: Arc<str>,
    },
    /// A message.
    Message {
        /// Its subject.
        subject: Arc<str>,
        /// Where answers go, if it has a reply subject (a reply channel without one is left
        /// out: the subscriber cannot answer it).
        reply: Option<String>,
        /// Its headers (only clients that read headers get them).
        headers: Headers,
        /// Its payload.
        payload: Bytes,
    },
}

/// How a NATS subscriber sees the hub message with these fields.
pub fn nats_view(
    channel: &Channel,
    flags: MessageFlags,
    reply_to: Option<&Channel>,
    headers: &Headers,
    body: &Bytes,
) -> NatsView {
    let subject = channel_to_subject(channel).map(Arc::from);
    nats_view_on(subject, flags, reply_to, headers, body)
}

/// [`nats_view`] with the channel already mapped to its `subject` (`None`: it has none), as
/// [`channel_to_subject`] maps it: for a router that keeps the subjects it has mapped.
pub fn nats_view_on(
    subject: Option<Arc<str>>,
    flags: MessageFlags,
    reply_to: Option<&Channel>,
    headers: &Headers,
    body: &Bytes,
) -> NatsView {
    if flags == MessageFlags::ACK || flags == MessageFlags::ACK.union(MessageFlags::NO_ECHO) {
        return NatsView::Hidden;
    }
    let Some(subject) = subject else {
        return NatsView::Hidden;
    };
    if flags.contains(MessageFlags::ERROR) {
        let error = ReplyError::from_body(body).unwrap_or_else(|e| ReplyError {
            code: ErrorCode::Unhandled,
            message: format!("an error answer that cannot be read: {e}"),
        });
        if is_no_responders(&error) {
            return NatsView::NoResponders { subject };
        }
        let mut shown = headers.clone();
        shown.insert(SERVICE_ERROR_CODE, error.code.as_u16().to_string());
        shown.insert(SERVICE_ERROR, error.message);
        return NatsView::Message {
            subject,
            reply: None,
            headers: shown,
            payload: Bytes::new(),
        };
    }
    NatsView::Message {
        subject,
        reply: reply_to.and_then(channel_to_subject),
        headers: headers.clone(),
        payload: body.clone(),
    }
}

/// Whether an ERROR answer is the hub's no-responders.
fn is_no_responders(error: &ReplyError) -> bool {
    error.code == ErrorCode::UnknownRoute && error.message.starts_with("no responders")
}
