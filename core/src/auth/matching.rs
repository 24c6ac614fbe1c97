//! Pattern matching over tokens, shared by dotted route patterns (`dice.*`, `hubwire.**`) and
//! slashed channel patterns: `*` is one token, `**` zero or more.

use std::fmt;
use std::str::FromStr;

use crate::pubsub::PatternToken;

/// A pattern over route keys: dotted words, `*` for one word, `**` for zero or more
/// (`dice.*` allows `dice.roll`, `hubwire.**` every standard endpoint, `**` every route).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RoutePattern {
    tokens: Vec<PatternToken>,
    text: String,
}

/// Parses a route pattern; the error says what is wrong with it.
pub fn route_pattern(text: &str) -> Result<RoutePattern, String> {
    text.parse()
}

impl FromStr for RoutePattern {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("route pattern {text:?} {why}");
        if text.is_empty() {
            return Err(bad("is empty"));
        }
        let mut tokens = Vec::new();
        for word in text.split('.') {
            let ok = word == "*"
                || word == "**"
                || (!word.is_empty()
                    && word
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
            if !ok {
                return Err(bad(
                    "is not dotted words of letters, digits, `_` and `-`, or `*` and `**`",
                ));
            }
            tokens.push(PatternToken::from_text(word));
        }
        Ok(RoutePattern {
            tokens,
            text: text.to_owned(),
        })
    }
}

impl RoutePattern {
    /// Whether the route key `route` is one this pattern names.
    pub fn matches(&self, route: &str) -> bool {
        let words: Vec<&str> = route.split('.').collect();
        matches(&self.tokens, &words)
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for RoutePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RoutePattern({:?})", self.text)
    }
}

impl fmt::Display for RoutePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Whether `pattern` matches the concrete `tokens`.
pub(crate) fn matches(pattern: &[PatternToken], tokens: &[&str]) -> bool {
    // reach[j]: the pattern read so far can end right before token j.
    let mut reach = vec![false; tokens.len() + 1];
    reach[0] = true;
    for token in pattern {
        let mut next = vec![false; tokens.len() + 1];
        for j in 0..=tokens.len() {
            if !reach[j] {
                continue;
            }
            match token {
                PatternToken::DoubleStar => next[j..].iter_mut().for_each(|r| *r = true),
                PatternToken::Star if j < tokens.len() => next[j + 1] = true,
                PatternToken::Literal(l) if j < tokens.len() && **l == *tokens[j] => {
                    next[j + 1] = true
                }
                _ => {}
            }
        }
        reach = next;
    }
    reach[tokens.len()]
}

/// Whether every channel `inner` matches is matched by `outer` too, decided token by token:
/// `**` in `outer` takes any run of `inner`'s tokens, `*` takes one literal or `*`, a literal
/// only itself. Sound (a `true` is always right); it may say `false` for odd pairs whose
/// containment only shows by counting (`*/**` does cover `**/x`), which denies, never allows,
/// too much.
pub fn covers(outer: &[PatternToken], inner: &[PatternToken]) -> bool {
    // can[i][j]: outer[i..] covers inner[j..]; filled from the ends backwards.
    let (n, m) = (outer.len(), inner.len());
    let mut can = vec![vec![false; m + 1]; n + 1];
    can[n][m] = true;
    for i in (0..n).rev() {
        for j in (0..=m).rev() {
            can[i][j] = match &outer[i] {
                PatternToken::DoubleStar => can[i + 1][j] || (j < m && can[i][j + 1]),
                PatternToken::Star => {
                    j < m && inner[j] != PatternToken::DoubleStar && can[i + 1][j + 1]
                }
                PatternToken::Literal(l) => {
                    j < m
                        && matches!(&inner[j], PatternToken::Literal(x) if x == l)
                        && can[i + 1][j + 1]
                }
            };
        }
    }
    can[0][0]
}
