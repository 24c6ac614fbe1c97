//! [`Channel`]: a concrete, normalized channel that messages are published to.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::text::{check_text, is_normal, split_tokens, TextProblem};
use super::{MAX_TEXT_BYTES, MAX_TOKENS};

/// A channel messages are published to: slash-separated tokens, normalized and checked.
///
/// Parsing drops the empty tokens that leading, trailing and repeated slashes make, so
/// `"/sensors//kitchen/"` is the channel `sensors/kitchen`. The empty channel (no tokens, from
/// `""` or `"/"`) is valid: only the pattern `**` matches it.
///
/// A channel is refused when its text is longer than [`MAX_TEXT_BYTES`], has more than
/// [`MAX_TOKENS`] tokens, contains a control character, or has a token that is a wildcard (`*`
/// or `**`): those belong in subscription [`Pattern`](super::Pattern)s. A token that merely
/// contains a star (`*abc`, `***`) is an ordinary literal.
///
/// ```
/// use hubwire_core::pubsub::Channel;
///
/// let channel = Channel::parse("/sensors//kitchen/temp/").unwrap();
/// assert_eq!(channel.as_str(), "sensors/kitchen/temp");
/// assert_eq!(channel.tokens().collect::<Vec<_>>(), ["sensors", "kitchen", "temp"]);
/// assert!(Channel::parse("sensors/*/temp").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Channel {
    /// The normal text: tokens joined by single slashes. Matching walks it with `split`, so a
    /// lookup allocates nothing per token. Shared: a channel is cloned for every retained
    /// message, cache entry and bridge hop, and a publisher's cache hands out the same one.
    text: Arc<str>,
}

/// Why a string is not a channel one can publish to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// The text is longer than [`MAX_TEXT_BYTES`].
    #[error("channel is {len} bytes long; the limit is {MAX_TEXT_BYTES} bytes")]
    TooLong {
        /// The length of the text in bytes.
        len: usize,
    },
    /// More than [`MAX_TOKENS`] tokens.
    #[error("channel has {count} tokens; the limit is {MAX_TOKENS}")]
    TooManyTokens {
        /// How many tokens the text has after normalization.
        count: usize,
    },
    /// A control character, which would corrupt logs and terminals.
    #[error(
        "channel contains the control character {ch:?} at byte {at}; use printable characters"
    )]
    ControlCharacter {
        /// The character.
        ch: char,
        /// Its byte offset in the text.
        at: usize,
    },
    /// A wildcard token: a message goes to one concrete channel.
    #[error(
        "channel token {index} is the wildcard {token:?}: publish to a concrete channel \
         (wildcards belong in subscription patterns)"
    )]
    Wildcard {
        /// The token (`*` or `**`).
        token: String,
        /// Its position among the tokens, from 0.
        index: usize,
    },
}

impl From<TextProblem> for ChannelError {
    fn from(problem: TextProblem) -> Self {
        match problem {
            TextProblem::TooLong { len } => ChannelError::TooLong { len },
            TextProblem::ControlCharacter { ch, at } => ChannelError::ControlCharacter { ch, at },
        }
    }
}

impl Channel {
    /// Parses and normalizes `input`; see the type's documentation for what is refused.
    pub fn parse(input: &str) -> Result<Channel, ChannelError> {
        check_text(input)?;
        let mut count = 0;
        for (index, token) in split_tokens(input).enumerate() {
            if token == "*" || token == "**" {
                return Err(ChannelError::Wildcard {
                    token: token.to_owned(),
                    index,
                });
            }
            count += 1;
        }
        if count > MAX_TOKENS {
            return Err(ChannelError::TooManyTokens { count });
        }
        let text: Arc<str> = if is_normal(input) {
            input.into()
        } else {
            split_tokens(input).collect::<Vec<_>>().join("/").into()
        };
        Ok(Channel { text })
    }

    /// A channel from text its caller has checked as [`parse`](Self::parse) would, already
    /// normal: for decoders that check and normalize in one pass of their own.
    pub(crate) fn from_normal(text: &str) -> Channel {
        debug_assert_eq!(Channel::parse(text).as_ref().map(Channel::as_str), Ok(text));
        Channel { text: text.into() }
    }

    /// The empty channel (no tokens).
    pub fn empty() -> Channel {
        Channel { text: "".into() }
    }

    /// The normal text: tokens joined by single slashes, with no leading or trailing slash.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The tokens, in order (none for the empty channel).
    pub fn tokens(&self) -> impl Iterator<Item = &str> + Clone {
        split_tokens(&self.text)
    }

    /// How many tokens the channel has.
    pub fn token_count(&self) -> usize {
        if self.text.is_empty() {
            0
        } else {
            self.text.bytes().filter(|&b| b == b'/').count() + 1
        }
    }

    /// Whether the channel has no tokens.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Channel({:?})", &*self.text)
    }
}

impl FromStr for Channel {
    type Err = ChannelError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Channel::parse(input)
    }
}

impl TryFrom<&str> for Channel {
    type Error = ChannelError;

    fn try_from(input: &str) -> Result<Self, Self::Error> {
        Channel::parse(input)
    }
}

impl TryFrom<String> for Channel {
    type Error = ChannelError;

    fn try_from(input: String) -> Result<Self, Self::Error> {
        Channel::parse(&input)
    }
}

impl From<Channel> for String {
    fn from(channel: Channel) -> String {
        channel.text.as_ref().into()
    }
}

impl AsRef<str> for Channel {
    fn as_ref(&self) -> &str {
        &self.text
    }
}
