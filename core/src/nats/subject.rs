//! NATS subjects and hubwire channels, one routing: `a.b.c` is `a/b/c`, `*` is `*`, and `>`
//! (one or more trailing tokens) is `*/**`. What has no form on the other side is not visible
//! there: a channel whose token holds a `.` or a space, or is `>`, reaches no NATS subscriber;
//! a NATS subject whose token holds a `/`, or is `**`, is refused.

use crate::pubsub::{Channel, Pattern, PatternToken, MAX_TEXT_BYTES, MAX_TOKENS};

/// Why a NATS subject has no hubwire form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubjectError {
    /// Empty, an empty token, whitespace, a misplaced `>`, or too long.
    #[error("invalid subject {0:?}")]
    Invalid(String),
    /// A wildcard where a message must go to one subject.
    #[error("a message is published to a concrete subject, not {0:?}")]
    Wildcard(String),
    /// A token hubwire's channels cannot carry (`/` inside it, or a literal `**`).
    #[error("subject {0:?} has a token hubwire cannot carry (a '/' inside a token, or '**')")]
    NotCarried(String),
}

impl SubjectError {
    /// The text nats-server answers with, in `-ERR '...'`.
    pub fn nats_text(&self) -> &'static str {
        match self {
            SubjectError::Wildcard(_) => "Invalid Publish Subject",
            SubjectError::Invalid(_) | SubjectError::NotCarried(_) => "Invalid Subject",
        }
    }
}

/// Checks a subject's tokens (split on `.`): each non-empty and without whitespace, not too
/// many, not too long in all.
fn check_tokens(subject: &str) -> Result<(), SubjectError> {
    let invalid = || SubjectError::Invalid(subject.to_owned());
    if subject.is_empty() || subject.len() > MAX_TEXT_BYTES {
        return Err(invalid());
    }
    let bad = |t: &str| t.is_empty() || t.chars().any(|c| c.is_whitespace() || c.is_control());
    let mut count = 0;
    for token in subject.split('.') {
        count += 1;
        if count > MAX_TOKENS || bad(token) {
            return Err(invalid());
        }
    }
    Ok(())
}

/// The tokens of a subject: split on `.`, each non-empty and without whitespace.
fn tokens(subject: &str) -> Result<Vec<&str>, SubjectError> {
    check_tokens(subject)?;
    Ok(subject.split('.').collect())
}

fn carried(subject: &str, token: &str) -> Result<(), SubjectError> {
    if token.contains('/') || token == "**" {
        return Err(SubjectError::NotCarried(subject.to_owned()));
    }
    Ok(())
}

/// The channel a NATS client publishes to with `subject`.
pub fn subject_to_channel(subject: &str) -> Result<Channel, SubjectError> {
    if let Some(channel) = plain_subject_to_channel(subject) {
        return Ok(channel);
    }
    checked_subject_to_channel(subject)
}

/// [`subject_to_channel`] in one pass over the bytes, for the subjects nearly every client
/// publishes to: printable ASCII without spaces, each token non-empty, no wildcard, no `/`,
/// no `**`, within the limits. `None` for anything else, which the full path then answers
/// (with its error); both give the same channel (property-tested).
fn plain_subject_to_channel(subject: &str) -> Option<Channel> {
    let bytes = subject.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_TEXT_BYTES {
        return None;
    }
    // On the stack for the subjects most clients use: the channel's own allocation is the
    // only one.
    let mut text: smallvec::SmallVec<[u8; 128]> = smallvec::SmallVec::new();
    let mut tokens = 0;
    for token in bytes.split(|&b| b == b'.') {
        tokens += 1;
        let wildcard = matches!(token, b"*" | b">" | b"**");
        if token.is_empty() || wildcard || tokens > MAX_TOKENS {
            return None;
        }
        // Printable ASCII but space, and no '/': the token is carried as it is.
        if !token.iter().all(|&b| b > b' ' && b < 0x7f && b != b'/') {
            return None;
        }
        if tokens > 1 {
            text.push(b'/');
        }
        text.extend_from_slice(token);
    }
    let text = std::str::from_utf8(&text).ok()?;
    Some(Channel::from_normal(text))
}

/// [`subject_to_channel`] with every check spelled out and its error.
pub(super) fn checked_subject_to_channel(subject: &str) -> Result<Channel, SubjectError> {
    check_tokens(subject)?;
    for token in subject.split('.') {
        if token == "*" || token == ">" {
            return Err(SubjectError::Wildcard(subject.to_owned()));
        }
        carried(subject, token)?;
    }
    // No token holds a `/` (checked): swapping the separators is the channel's text.
    Channel::parse(&subject.replace('.', "/"))
        .map_err(|_| SubjectError::NotCarried(subject.to_owned()))
}

/// The pattern a NATS client subscribes to with `subject` (`*` one token, `>` as the last
/// token one or more).
pub fn subject_to_pattern(subject: &str) -> Result<Pattern, SubjectError> {
    let tokens = tokens(subject)?;
    let last = tokens.len() - 1;
    let mut text = Vec::with_capacity(tokens.len() + 1);
    for (i, token) in tokens.iter().enumerate() {
        match *token {
            ">" if i == last => text.extend(["*", "**"]),
            ">" => return Err(SubjectError::Invalid(subject.to_owned())),
            token => {
                carried(subject, token)?;
                text.push(token);
            }
        }
    }
    Pattern::parse(&text.join("/")).map_err(|_| SubjectError::NotCarried(subject.to_owned()))
}

/// The subject NATS subscribers see a message on `channel` under, if it has one.
pub fn channel_to_subject(channel: &Channel) -> Option<String> {
    let text = channel.as_str().as_bytes();
    // One pass for the common case, printable ASCII with no '.' or space: only a `>` token
    // can then hide the channel.
    if !text.is_empty() && text.iter().all(|&b| b > b' ' && b < 0x7f && b != b'.') {
        if text.split(|&b| b == b'/').any(|t| t == b">") {
            return None;
        }
        let subject: Vec<u8> = text
            .iter()
            .map(|&b| if b == b'/' { b'.' } else { b })
            .collect();
        return String::from_utf8(subject).ok();
    }
    checked_channel_to_subject(channel)
}

/// [`channel_to_subject`] for any channel.
pub(super) fn checked_channel_to_subject(channel: &Channel) -> Option<String> {
    if channel.is_empty() {
        return None;
    }
    let visible = |t: &str| !(t == ">" || t.contains('.') || t.chars().any(char::is_whitespace));
    if !channel.tokens().all(visible) {
        return None;
    }
    Some(channel.as_str().replace('/', "."))
}

/// The NATS subject a hubwire pattern is written as, if it has one: `**` only as the last
/// token after a `*` (`>` takes one or more tokens, never zero).
pub fn pattern_to_subject(pattern: &Pattern) -> Option<String> {
    let tokens = pattern.tokens();
    let mut out: Vec<&str> = Vec::with_capacity(tokens.len());
    for (i, token) in tokens.iter().enumerate() {
        match token {
            PatternToken::Literal(t) if t.as_ref() == ">" || t.contains('.') => return None,
            PatternToken::Literal(t) if t.chars().any(char::is_whitespace) => return None,
            PatternToken::Literal(t) => out.push(t),
            PatternToken::Star => out.push("*"),
            PatternToken::DoubleStar if i + 1 == tokens.len() && out.last() == Some(&"*") => {
                *out.last_mut().expect("checked") = ">";
            }
            PatternToken::DoubleStar => return None,
        }
    }
    (!out.is_empty()).then(|| out.join("."))
}
