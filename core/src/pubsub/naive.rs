//! The reference matcher: one pattern against one channel, straight from the definition.
//!
//! [`Pattern::matches`](super::Pattern::matches) uses it, and the trie's tests compare the
//! trie with it. It works on any token sequence, canonical or not, so the tests also use it to
//! check that canonicalization keeps a pattern's meaning.

use super::{Channel, PatternToken};

/// Whether `pattern` matches `channel`.
///
/// Dynamic programming over suffixes: `row[j]` says whether the pattern tokens from the current
/// one on match the channel tokens from `j` on. That is O(pattern × channel) whatever the
/// arrangement of `**`s, where plain backtracking can take exponential time.
pub(crate) fn matches(pattern: &[PatternToken], channel: &Channel) -> bool {
    let tokens: Vec<&str> = channel.tokens().collect();
    let n = tokens.len();
    // The empty pattern matches only the end of the channel.
    let mut row = vec![false; n + 1];
    row[n] = true;
    for token in pattern.iter().rev() {
        let mut next = vec![false; n + 1];
        for j in (0..=n).rev() {
            next[j] = match token {
                PatternToken::Literal(literal) => j < n && tokens[j] == &**literal && row[j + 1],
                PatternToken::Star => j < n && row[j + 1],
                // Take no token and go on, or take this one and stay on the `**`.
                PatternToken::DoubleStar => row[j] || (j < n && next[j + 1]),
            };
        }
        row = next;
    }
    row[0]
}

/// The definition as plain recursion (exponential in the worst case): the check on the
/// dynamic-programming version above.
#[cfg(test)]
pub(crate) fn matches_by_definition(pattern: &[PatternToken], channel: &[&str]) -> bool {
    match pattern.split_first() {
        None => channel.is_empty(),
        Some((PatternToken::Literal(literal), rest)) => channel
            .split_first()
            .is_some_and(|(token, tail)| *token == &**literal && matches_by_definition(rest, tail)),
        Some((PatternToken::Star, rest)) => channel
            .split_first()
            .is_some_and(|(_, tail)| matches_by_definition(rest, tail)),
        Some((PatternToken::DoubleStar, rest)) => {
            (0..=channel.len()).any(|taken| matches_by_definition(rest, &channel[taken..]))
        }
    }
}
