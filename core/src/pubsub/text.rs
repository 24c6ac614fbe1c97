//! The checks and the tokenizing that channels and patterns share.

use super::MAX_TEXT_BYTES;

/// What is wrong with a channel's or a pattern's text before it is split into tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextProblem {
    /// Longer than [`MAX_TEXT_BYTES`].
    TooLong { len: usize },
    /// A control character (`char::is_control`) at byte offset `at`.
    ControlCharacter { ch: char, at: usize },
}

/// Checks the length and refuses control characters.
pub(crate) fn check_text(input: &str) -> Result<(), TextProblem> {
    if input.len() > MAX_TEXT_BYTES {
        return Err(TextProblem::TooLong { len: input.len() });
    }
    // Bytes first: printable ASCII is by far the common case and needs no char decoding.
    if input.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Ok(());
    }
    match input.char_indices().find(|(_, ch)| ch.is_control()) {
        Some((at, ch)) => Err(TextProblem::ControlCharacter { ch, at }),
        None => Ok(()),
    }
}

/// The tokens of `input`: split on `/`, with the empty tokens that leading, trailing and
/// repeated slashes make left out.
pub(crate) fn split_tokens(input: &str) -> impl Iterator<Item = &str> + Clone {
    input.split('/').filter(|token| !token.is_empty())
}

/// Whether `input` is already in normal form (no leading, trailing or repeated slash), so the
/// normal text is the input itself.
pub(crate) fn is_normal(input: &str) -> bool {
    !input.starts_with('/') && !input.ends_with('/') && !input.contains("//")
}
