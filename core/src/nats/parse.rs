//! [`ClientParser`]: the operations a NATS client sends (CONNECT, PUB, HPUB, SUB, UNSUB, PING,
//! PONG), read from a byte buffer without I/O. A control line longer than the limit, or a
//! payload larger than `max_payload`, is refused as soon as its length is known, before the
//! bytes are waited for: a peer never decides how much the server buffers.

use bytes::{Buf, Bytes, BytesMut};

/// A client operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientOp {
    /// `CONNECT {json}`: the client's options, as JSON text.
    Connect(Bytes),
    /// `PUB subject [reply] size` or `HPUB subject [reply] header_size total_size`.
    Pub {
        /// Where the message goes.
        subject: String,
        /// Where answers go.
        reply: Option<String>,
        /// The header block (`NATS/1.0\r\n...\r\n\r\n`), for HPUB.
        headers: Option<Bytes>,
        /// The message.
        payload: Bytes,
    },
    /// `SUB subject [queue] sid`.
    Sub {
        /// What it matches.
        subject: String,
        /// Its queue group.
        queue: Option<String>,
        /// The client's id for it.
        sid: String,
    },
    /// `UNSUB sid [max]`.
    Unsub {
        /// The subscription.
        sid: String,
        /// Messages after which it ends (counting those it already had), if given.
        max: Option<u64>,
    },
    /// `PING`.
    Ping,
    /// `PONG`.
    Pong,
}

/// Why the client's bytes cannot be read. Each closes the connection, as with nats-server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// A verb that is not a client operation, or arguments that do not fit it.
    #[error("unknown protocol operation: {0}")]
    Unknown(String),
    /// A control line longer than the limit.
    #[error("control line over {0} bytes")]
    ControlLine(usize),
    /// A payload larger than `max_payload`.
    #[error("payload of {size} bytes over the {max} allowed")]
    Payload {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
}

impl ParseError {
    /// The text nats-server answers with, in `-ERR '...'`.
    pub fn nats_text(&self) -> &'static str {
        match self {
            ParseError::Unknown(_) => "Unknown Protocol Operation",
            ParseError::ControlLine(_) => "Maximum Control Line Exceeded",
            ParseError::Payload { .. } => "Maximum Payload Violation",
        }
    }
}

/// Reads client operations with the server's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientParser {
    /// The longest control line (without its line end).
    pub max_control_line: usize,
    /// The largest payload (headers included).
    pub max_payload: usize,
}

impl Default for ClientParser {
    /// nats-server's defaults: 4 KiB control lines, 1 MiB payloads.
    fn default() -> Self {
        ClientParser {
            max_control_line: 4096,
            max_payload: 1024 * 1024,
        }
    }
}

impl ClientParser {
    /// The next whole operation in `buf`, taken out of it; `None` until one is whole.
    pub fn next(&self, buf: &mut BytesMut) -> Result<Option<ClientOp>, ParseError> {
        if let Some(head) = self.plain_pub(buf) {
            let end = head.line_end;
            let text = |w: &[u8]| String::from_utf8_lossy(w).into_owned();
            let head = MessageHead {
                subject: text(head.subject),
                reply: head.reply.map(text),
                header_size: None,
                total: head.total,
            };
            return take_message(buf, end, head);
        }
        self.next_any(buf)
    }

    /// A plain PUB (`PUB subject [reply] size` written plainly: upper case, single spaces,
    /// printable ASCII, a size within the limit) whose payload and line end are in `buf`,
    /// taken out of it without allocating: its subject and reply are written into `subject`
    /// and `reply` (kept from one call to the next: a subject the same as the last is not
    /// written again), its payload answered. `None` for anything else, left in `buf` for
    /// [`next`](Self::next), which reads it the same way.
    pub fn next_plain_pub(
        &self,
        buf: &mut BytesMut,
        subject: &mut String,
        reply: &mut Option<String>,
    ) -> Option<PlainRead> {
        let head = self.plain_pub(buf)?;
        let start = head.line_end + 1;
        if buf.get(start + head.total..start + head.total + 2)? != b"\r\n" {
            return None;
        }
        let same_subject = subject.as_bytes() == head.subject;
        if !same_subject {
            subject.clear();
            subject.push_str(std::str::from_utf8(head.subject).ok()?);
        }
        match (head.reply, reply.as_mut()) {
            (None, _) => *reply = None,
            (Some(text), Some(kept)) => {
                kept.clear();
                kept.push_str(std::str::from_utf8(text).ok()?);
            }
            (Some(text), None) => *reply = Some(std::str::from_utf8(text).ok()?.to_owned()),
        }
        let total = head.total;
        buf.advance(start);
        let payload = buf.split_to(total).freeze();
        buf.advance(2);
        Some(PlainRead {
            payload,
            same_subject,
        })
    }

    /// The control line of the operation nearly every message is, `PUB subject [reply]
    /// size\r\n` written plainly (upper case, single spaces, ASCII, a size within the limit),
    /// read in one pass over its bytes: where its line ends, and what it says. `None` for
    /// anything else, which [`next_any`](Self::next_any) reads with every check (the two agree:
    /// property-tested).
    fn plain_pub<'a>(&self, buf: &'a [u8]) -> Option<PlainPub<'a>> {
        let rest = buf.strip_prefix(b"PUB ")?;
        let window = &rest[..rest.len().min(self.max_control_line)];
        // One pass: printable ASCII words, single spaces between them, two at most, `\r\n`.
        let mut spaces = [0_usize; 2];
        let mut count = 0;
        let mut at = 0;
        loop {
            match *window.get(at)? {
                b'!'..=b'~' => {}
                b' ' if count < 2 => {
                    spaces[count] = at;
                    count += 1;
                }
                b'\r' => break,
                _ => return None,
            }
            at += 1;
        }
        if window.get(at + 1) != Some(&b'\n') || b"PUB ".len() + at > self.max_control_line {
            return None;
        }
        let line = &window[..at];
        let (subject, reply, total) = match count {
            1 => (&line[..spaces[0]], None, &line[spaces[0] + 1..]),
            2 => (
                &line[..spaces[0]],
                Some(&line[spaces[0] + 1..spaces[1]]),
                &line[spaces[1] + 1..],
            ),
            _ => return None,
        };
        if subject.is_empty()
            || reply.is_some_and(<[u8]>::is_empty)
            || total.is_empty()
            || total.len() > 9
        {
            return None;
        }
        let mut size = 0_usize;
        for &digit in total {
            if !digit.is_ascii_digit() {
                return None;
            }
            size = size * 10 + usize::from(digit - b'0');
        }
        if size > self.max_payload {
            return None;
        }
        Some(PlainPub {
            subject,
            reply,
            line_end: b"PUB ".len() + at + 1,
            total: size,
        })
    }

    /// [`next`](Self::next) for any operation, every check spelled out.
    pub(super) fn next_any(&self, buf: &mut BytesMut) -> Result<Option<ClientOp>, ParseError> {
        let window = &buf[..buf.len().min(self.max_control_line + 2)];
        let Some(end) = window.iter().position(|&b| b == b'\n') else {
            if buf.len() > self.max_control_line + 1 {
                return Err(ParseError::ControlLine(self.max_control_line));
            }
            return Ok(None);
        };
        let line = trim_cr(&buf[..end]);
        if line.len() > self.max_control_line {
            return Err(ParseError::ControlLine(self.max_control_line));
        }
        let line = std::str::from_utf8(line).map_err(|_| unknown(line))?;
        let mut words = line.split_ascii_whitespace();
        let word = words.next().unwrap_or("");
        let verb = Verb::of(word).ok_or_else(|| unknown(line))?;
        if verb == Verb::Connect {
            let json = Bytes::copy_from_slice(line.trim_start()[word.len()..].trim().as_bytes());
            buf.advance(end + 1);
            return Ok(Some(ClientOp::Connect(json)));
        }
        // The arguments, without a Vec: no other operation takes more than four, so a fifth
        // word makes the line unknown.
        let mut slots = [""; MAX_ARGS];
        let mut count = 0;
        for word in words {
            if count == MAX_ARGS {
                return Err(unknown(line));
            }
            slots[count] = word;
            count += 1;
        }
        let args = &slots[..count];
        let op = match Some(verb) {
            Some(Verb::Pub) => {
                let head = self.message_head(line, args, false)?;
                return take_message(buf, end, head);
            }
            Some(Verb::Hpub) => {
                let head = self.message_head(line, args, true)?;
                return take_message(buf, end, head);
            }
            Some(Verb::Sub) => match *args {
                [subject, sid] => sub(subject, None, sid),
                [subject, queue, sid] => sub(subject, Some(queue), sid),
                _ => return Err(unknown(line)),
            },
            Some(Verb::Unsub) => match *args {
                [sid] => ClientOp::Unsub {
                    sid: sid.to_owned(),
                    max: None,
                },
                [sid, max] => ClientOp::Unsub {
                    sid: sid.to_owned(),
                    max: Some(max.parse().map_err(|_| unknown(line))?),
                },
                _ => return Err(unknown(line)),
            },
            Some(Verb::Ping) if args.is_empty() => ClientOp::Ping,
            Some(Verb::Pong) if args.is_empty() => ClientOp::Pong,
            _ => return Err(unknown(line)),
        };
        buf.advance(end + 1);
        Ok(Some(op))
    }

    /// The control line of a PUB or HPUB, checked against the payload limit.
    fn message_head(
        &self,
        line: &str,
        args: &[&str],
        with_headers: bool,
    ) -> Result<MessageHead, ParseError> {
        let size = |text: &str| text.parse::<usize>().map_err(|_| unknown(line));
        let (subject, reply, header_size, total) = match (with_headers, args) {
            (false, [subject, total]) => (*subject, None, None, size(total)?),
            (false, [subject, reply, total]) => (*subject, Some(*reply), None, size(total)?),
            (true, [subject, headers, total]) => {
                (*subject, None, Some(size(headers)?), size(total)?)
            }
            (true, [subject, reply, headers, total]) => {
                (*subject, Some(*reply), Some(size(headers)?), size(total)?)
            }
            _ => return Err(unknown(line)),
        };
        if header_size.is_some_and(|h| h > total) {
            return Err(unknown(line));
        }
        if total > self.max_payload {
            return Err(ParseError::Payload {
                size: total,
                max: self.max_payload,
            });
        }
        Ok(MessageHead {
            subject: subject.to_owned(),
            reply: reply.map(str::to_owned),
            header_size,
            total,
        })
    }
}

/// The most arguments an operation takes (`HPUB subject reply header_size total_size`).
const MAX_ARGS: usize = 4;

/// A client operation's verb, in any case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Pub,
    Hpub,
    Sub,
    Unsub,
    Connect,
    Ping,
    Pong,
}

impl Verb {
    fn of(word: &str) -> Option<Verb> {
        const VERBS: [(&str, Verb); 7] = [
            ("PUB", Verb::Pub),
            ("HPUB", Verb::Hpub),
            ("SUB", Verb::Sub),
            ("UNSUB", Verb::Unsub),
            ("CONNECT", Verb::Connect),
            ("PING", Verb::Ping),
            ("PONG", Verb::Pong),
        ];
        VERBS
            .iter()
            .find(|(text, _)| text.eq_ignore_ascii_case(word))
            .map(|&(_, verb)| verb)
    }
}

/// A plain PUB read in place ([`ClientParser::next_plain_pub`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainRead {
    /// The message.
    pub payload: Bytes,
    /// Its subject is the one the last read in place had (and the kept text is unchanged).
    pub same_subject: bool,
}

/// A plain PUB's control line, read in place.
struct PlainPub<'a> {
    /// Printable ASCII, so UTF-8 too.
    subject: &'a [u8],
    reply: Option<&'a [u8]>,
    /// Where the line's `\n` is.
    line_end: usize,
    total: usize,
}

/// A PUB or HPUB control line, read.
struct MessageHead {
    subject: String,
    reply: Option<String>,
    header_size: Option<usize>,
    total: usize,
}

/// The PUB or HPUB whose control line ends at `end`, once its payload and line end are in
/// `buf`; until then `buf` is left as it is.
fn take_message(
    buf: &mut BytesMut,
    end: usize,
    head: MessageHead,
) -> Result<Option<ClientOp>, ParseError> {
    let start = end + 1;
    let Some(after) = buf.get(start + head.total..) else {
        return Ok(None);
    };
    let line_end = match after {
        [b'\r', b'\n', ..] => 2,
        [b'\n', ..] => 1,
        [] | [b'\r'] => return Ok(None),
        _ => {
            return Err(unknown(format!(
                "a payload of {} bytes that runs on",
                head.total
            )))
        }
    };
    buf.advance(start);
    let mut body = buf.split_to(head.total).freeze();
    buf.advance(line_end);
    let headers = head.header_size.map(|size| body.split_to(size));
    Ok(Some(ClientOp::Pub {
        subject: head.subject,
        reply: head.reply,
        headers,
        payload: body,
    }))
}

fn sub(subject: &str, queue: Option<&str>, sid: &str) -> ClientOp {
    ClientOp::Sub {
        subject: subject.to_owned(),
        queue: queue.map(str::to_owned),
        sid: sid.to_owned(),
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn unknown(line: impl AsRef<[u8]>) -> ParseError {
    let line = line.as_ref();
    let shown = &line[..line.len().min(64)];
    ParseError::Unknown(String::from_utf8_lossy(shown).into_owned())
}
