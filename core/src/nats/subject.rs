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
