//! [`EncodedMsg`]: a message as NATS subscribers get it, encoded once per publish. Only the sid
//! differs from one subscription to the next, so the line is kept with the place of the sid
//! in it (the reply, sizes and header block follow), and each delivery writes the sid into it,
//! then the publish's own payload.

use bytes::{BufMut, Bytes, BytesMut};

use super::headers::write_headers;
use super::mapping::{NatsView, NO_RESPONDERS_STATUS};
use super::server_ops::put_number;
use crate::protocol::{Headers, MessageFlags};

/// A message as one kind of NATS client reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedMsg {
    /// `MSG subject ` or `HMSG subject ` up to `sid_at`, then ` [reply] [header_size]
    /// total_size\r\n[headers]`.
    line: Vec<u8>,
    sid_at: usize,
    /// The payload, shared with the publish (not copied per publish); `\r\n` follows it.
    payload: Bytes,
}

/// What kind of client reads it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reader {
    /// It declared headers: it reads HMSG.
    pub headers: bool,
    /// It asked for no-responders statuses.
    pub no_responders: bool,
}

impl EncodedMsg {
    /// `view` as `reader` gets it, or `None` if it gets nothing.
    pub fn new(view: &NatsView, reader: Reader) -> Option<EncodedMsg> {
        match view {
            NatsView::Hidden => None,
            NatsView::NoResponders { subject } => {
                if !(reader.headers && reader.no_responders) {
                    return None;
                }
                let mut block = BytesMut::new();
                write_headers(
                    &mut block,
                    Some((NO_RESPONDERS_STATUS, "")),
                    &Headers::new(),
                );
                Some(Self::encode(subject, None, Some(&block), &Bytes::new()))
            }
            NatsView::Message {
                subject,
                reply,
                headers,
                payload,
            } => {
                let mut block = BytesMut::new();
                let block = (reader.headers && !headers.is_empty()).then(|| {
                    write_headers(&mut block, None, headers);
                    &block[..]
                });
                Some(Self::encode(subject, reply.as_deref(), block, payload))
            }
        }
    }

    fn encode(subject: &str, reply: Option<&str>, block: Option<&[u8]>, payload: &Bytes) -> Self {
        let verb: &[u8] = if block.is_some() { b"HMSG " } else { b"MSG " };
        let header_len = block.map_or(0, <[u8]>::len);
        let reply_len = reply.map_or(0, str::len);
        let mut line = Vec::with_capacity(verb.len() + subject.len() + reply_len + header_len + 48);
        line.put_slice(verb);
        line.put_slice(subject.as_bytes());
        line.put_u8(b' ');
        let sid_at = line.len();
        if let Some(reply) = reply {
            line.put_u8(b' ');
            line.put_slice(reply.as_bytes());
        }
        if block.is_some() {
            put_number(&mut line, header_len);
        }
        put_number(&mut line, header_len + payload.len());
        line.put_slice(b"\r\n");
        if let Some(block) = block {
            line.put_slice(block);
        }
        EncodedMsg {
            line,
            sid_at,
            payload: payload.clone(),
        }
    }

    /// Appends the message for subscription `sid`.
    pub fn write(&self, sid: &str, out: &mut BytesMut) {
        out.reserve(self.len() + sid.len());
        out.put_slice(&self.line[..self.sid_at]);
        out.put_slice(sid.as_bytes());
        out.put_slice(&self.line[self.sid_at..]);
        out.put_slice(&self.payload);
        out.put_slice(b"\r\n");
    }

    /// Its length without the sid.
    pub fn len(&self) -> usize {
        self.line.len() + self.payload.len() + 2
    }

    /// Never empty (a MSG line is always written); for clippy's sake.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// Appends a plain message (no reply subject, no headers: every kind of reader gets the same
/// `MSG` line) for subscription `sid`: what [`EncodedMsg::write`] writes for it, without
/// encoding the line first. The router writes a stream of such publishes this way.
pub fn write_plain_msg(subject: &str, sid: &str, payload: &[u8], out: &mut BytesMut) {
    out.reserve(subject.len() + sid.len() + payload.len() + 32);
    out.put_slice(b"MSG ");
    out.put_slice(subject.as_bytes());
    out.put_u8(b' ');
    out.put_slice(sid.as_bytes());
    put_number(out, payload.len());
    out.put_slice(b"\r\n");
    out.put_slice(payload);
    out.put_slice(b"\r\n");
}

/// Whether every kind of reader sees a publish with these `flags`, `reply` and `headers` as
/// the same plain `MSG` ([`write_plain_msg`]): not an error answer or a bare acknowledgement
/// (those have a form of their own), no reply subject, no headers.
pub fn is_plain(flags: MessageFlags, has_reply: bool, headers: &Headers) -> bool {
    !has_reply
        && headers.is_empty()
        && !flags.contains(MessageFlags::ERROR)
        && !flags.contains(MessageFlags::ACK)
}

/// A publish encoded lazily for each kind of reader, once each: what the router keeps while
/// it delivers one publish to every NATS subscriber.
#[derive(Debug)]
pub struct NatsForms {
    view: NatsView,
    /// Indexed by `headers as usize * 2 + no_responders as usize`; `Some(None)`: that reader
    /// gets nothing.
    forms: [Option<Option<EncodedMsg>>; 4],
}

impl NatsForms {
    /// The forms of a message seen as `view`.
    pub fn new(view: NatsView) -> Self {
        NatsForms {
            view,
            forms: Default::default(),
        }
    }

    /// The message as `reader` gets it (encoded on first use), or `None`.
    pub fn for_reader(&mut self, reader: Reader) -> Option<&EncodedMsg> {
        let slot = usize::from(reader.headers) * 2 + usize::from(reader.no_responders);
        let view = &self.view;
        self.forms[slot]
            .get_or_insert_with(|| EncodedMsg::new(view, reader))
            .as_ref()
    }
}
