//! [`Pattern`]: what a subscription matches, parsed into its canonical form.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::text::{check_text, split_tokens, TextProblem};
use super::{naive, Channel, MAX_TEXT_BYTES, MAX_TOKENS};

/// One token of a [`Pattern`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PatternToken {
    /// Matches exactly this token.
    Literal(Box<str>),
    /// `*`: matches exactly one token, whatever it is.
    Star,
    /// `**`: matches zero or more tokens.
    DoubleStar,
}

impl PatternToken {
    /// The token a piece of pattern text stands for: a wildcard only when it is the whole token.
    pub(crate) fn from_text(token: &str) -> PatternToken {
        match token {
            "*" => PatternToken::Star,
            "**" => PatternToken::DoubleStar,
            literal => PatternToken::Literal(literal.into()),
        }
    }

    /// The token's text (`*` and `**` for the wildcards).
    pub fn as_str(&self) -> &str {
        match self {
            PatternToken::Literal(literal) => literal,
            PatternToken::Star => "*",
            PatternToken::DoubleStar => "**",
        }
    }

    /// Whether this is `*` or `**`.
    pub fn is_wildcard(&self) -> bool {
        !matches!(self, PatternToken::Literal(_))
    }
}

/// A subscription pattern in canonical form.
///
/// The text is split and normalized like a [`Channel`]'s; then a token that is exactly `*`
/// matches one token and a token that is exactly `**` matches zero or more. Within each run of
/// consecutive wildcards only two things count: how many `*`s (the fewest tokens the run takes)
/// and whether there is a `**` (whether it may take more). The canonical form writes the `*`s
/// first, then at most one `**`, so patterns that match the same channels because of how their
/// wildcards are arranged are equal, hash alike and display alike:
///
/// ```
/// use hubwire_core::pubsub::Pattern;
///
/// let p = |text: &str| Pattern::parse(text).unwrap();
/// assert_eq!(p("**/*"), p("*/**"));
/// assert_eq!(p("**/**").to_string(), "**");
/// assert_eq!(p("/a/**/*/**/b/").to_string(), "a/*/**/b");
/// assert!(p("sensors/*abc").is_literal()); // `*abc` is not a wildcard
/// ```
///
/// A pattern is refused when its text is longer than [`MAX_TEXT_BYTES`], has more than
/// [`MAX_TOKENS`] tokens in canonical form, or contains a control character.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Pattern {
    tokens: Box<[PatternToken]>,
}

/// Why a string is not a subscription pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// The text is longer than [`MAX_TEXT_BYTES`].
    #[error("pattern is {len} bytes long; the limit is {MAX_TEXT_BYTES} bytes")]
    TooLong {
        /// The length of the text in bytes.
        len: usize,
    },
    /// More than [`MAX_TOKENS`] tokens in canonical form.
    #[error("pattern has {count} tokens (in canonical form); the limit is {MAX_TOKENS}")]
    TooManyTokens {
        /// How many tokens the canonical form has.
        count: usize,
    },
    /// A control character, which would corrupt logs and terminals.
    #[error(
        "pattern contains the control character {ch:?} at byte {at}; use printable characters"
    )]
    ControlCharacter {
        /// The character.
        ch: char,
        /// Its byte offset in the text.
        at: usize,
    },
}

impl From<TextProblem> for PatternError {
    fn from(problem: TextProblem) -> Self {
        match problem {
            TextProblem::TooLong { len } => PatternError::TooLong { len },
            TextProblem::ControlCharacter { ch, at } => PatternError::ControlCharacter { ch, at },
        }
    }
}

impl Pattern {
    /// Parses `input` and puts it in canonical form; see the type's documentation.
    pub fn parse(input: &str) -> Result<Pattern, PatternError> {
        check_text(input)?;
        let tokens = canonicalize(split_tokens(input).map(PatternToken::from_text));
        if tokens.len() > MAX_TOKENS {
            return Err(PatternError::TooManyTokens {
                count: tokens.len(),
            });
        }
        Ok(Pattern {
            tokens: tokens.into(),
        })
    }

    /// The pattern that matches exactly `channel`.
    pub fn exact(channel: &Channel) -> Pattern {
        Pattern {
            tokens: channel.tokens().map(PatternToken::from_text).collect(),
        }
    }

    /// The canonical tokens.
    pub fn tokens(&self) -> &[PatternToken] {
        &self.tokens
    }

    /// Whether the pattern has no wildcard, so it matches exactly one channel.
    pub fn is_literal(&self) -> bool {
        !self.tokens.iter().any(PatternToken::is_wildcard)
    }

    /// Whether the pattern matches `channel`. This checks one pattern; a
    /// [`SubscriptionTrie`](super::SubscriptionTrie) finds every matching subscription without
    /// checking them one by one.
    ///
    /// ```
    /// use hubwire_core::pubsub::{Channel, Pattern};
    ///
    /// let channel = Channel::parse("foo/bar/buzz").unwrap();
    /// assert!(Pattern::parse("foo/*/buzz").unwrap().matches(&channel));
    /// assert!(Pattern::parse("**/buzz").unwrap().matches(&channel));
    /// assert!(!Pattern::parse("foo/*").unwrap().matches(&channel));
    /// ```
    pub fn matches(&self, channel: &Channel) -> bool {
        naive::matches(&self.tokens, channel)
    }
}

/// Rewrites every run of consecutive wildcards as its `*`s followed by at most one `**`.
pub(crate) fn canonicalize(tokens: impl Iterator<Item = PatternToken>) -> Vec<PatternToken> {
    let mut out = Vec::new();
    // The `**` of the run of wildcards being read, written out when the run ends.
    let mut pending_double_star = false;
    for token in tokens {
        match token {
            PatternToken::Star => out.push(PatternToken::Star),
            PatternToken::DoubleStar => pending_double_star = true,
            literal @ PatternToken::Literal(_) => {
                if std::mem::take(&mut pending_double_star) {
                    out.push(PatternToken::DoubleStar);
                }
                out.push(literal);
            }
        }
    }
    if pending_double_star {
        out.push(PatternToken::DoubleStar);
    }
    out
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, token) in self.tokens.iter().enumerate() {
            if i > 0 {
                f.write_str("/")?;
            }
            f.write_str(token.as_str())?;
        }
        Ok(())
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pattern({:?})", self.to_string())
    }
}

impl FromStr for Pattern {
    type Err = PatternError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Pattern::parse(input)
    }
}

impl TryFrom<&str> for Pattern {
    type Error = PatternError;

    fn try_from(input: &str) -> Result<Self, Self::Error> {
        Pattern::parse(input)
    }
}

impl TryFrom<String> for Pattern {
    type Error = PatternError;

    fn try_from(input: String) -> Result<Self, Self::Error> {
        Pattern::parse(&input)
    }
}

impl From<Pattern> for String {
    fn from(pattern: Pattern) -> String {
        pattern.to_string()
    }
}

impl From<&Channel> for Pattern {
    fn from(channel: &Channel) -> Pattern {
        Pattern::exact(channel)
    }
}
