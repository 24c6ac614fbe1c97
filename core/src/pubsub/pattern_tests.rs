//! Patterns parse into a canonical form that keeps their meaning, display as text that parses
//! back to the same pattern, and never panic on any input.

use proptest::prelude::*;

use super::pattern::canonicalize;
use super::*;

fn pattern(text: &str) -> Pattern {
    Pattern::parse(text).unwrap()
}

/// The tokens as written, without canonicalization.
fn raw_tokens(text: &str) -> Vec<PatternToken> {
    text.split('/')
        .filter(|t| !t.is_empty())
        .map(PatternToken::from_text)
        .collect()
}

#[test]
fn canonical_forms() {
    for (input, canonical) in [
        ("", ""),
        ("/", ""),
        ("a/b", "a/b"),
        ("/a//b/", "a/b"),
        ("**/*", "*/**"),
        ("*/**", "*/**"),
        ("**/**", "**"),
        ("**/**/**", "**"),
        ("**/*/**/*", "*/*/**"),
        ("a/**/*/b/**/**/c", "a/*/**/b/**/c"),
        ("**/a/**", "**/a/**"),
        ("*abc/***/a*", "*abc/***/a*"),
    ] {
        assert_eq!(pattern(input).to_string(), canonical, "{input:?}");
        assert_eq!(pattern(input), pattern(canonical), "{input:?}");
    }
}

#[test]
fn literal_patterns() {
    assert!(pattern("a/b").is_literal());
    assert!(pattern("").is_literal());
    assert!(pattern("*abc/a**").is_literal());
    assert!(!pattern("a/*").is_literal());
    assert!(!pattern("**").is_literal());
    let exact = Pattern::exact(&Channel::parse("x/*y").unwrap());
    assert!(exact.is_literal());
    assert_eq!(exact, pattern("x/*y"));
}

#[test]
fn wildcards_count_only_as_whole_tokens() {
    assert_eq!(
        pattern("*a/**b/*/**").tokens(),
        [
            PatternToken::Literal("*a".into()),
            PatternToken::Literal("**b".into()),
            PatternToken::Star,
            PatternToken::DoubleStar,
        ]
    );
}

#[test]
fn token_limit_applies_to_the_canonical_form() {
    // 100 `**`s are one `**`.
    assert_eq!(pattern(&vec!["**"; 100].join("/")).to_string(), "**");
    let over = vec!["*"; MAX_TOKENS + 1].join("/");
    assert_eq!(
        Pattern::parse(&over),
        Err(PatternError::TooManyTokens {
            count: MAX_TOKENS + 1
        })
    );
}

#[test]
fn bad_text_is_refused_with_its_reason() {
    assert_eq!(
        Pattern::parse("a/\0"),
        Err(PatternError::ControlCharacter { ch: '\0', at: 2 })
    );
    let over = "a".repeat(MAX_TEXT_BYTES + 1);
    let error = Pattern::parse(&over).unwrap_err();
    assert_eq!(
        error,
        PatternError::TooLong {
            len: MAX_TEXT_BYTES + 1
        }
    );
    assert!(error.to_string().contains("1024"), "{error}");
}

#[test]
fn serde_goes_through_parsing() {
    let p: Pattern = serde_json::from_str("\"**/*/a/\"").unwrap();
    assert_eq!(serde_json::to_string(&p).unwrap(), "\"*/**/a\"");
}

/// Text built from slashes, stars and a few letters, where the interesting cases live.
fn pattern_text() -> impl Strategy<Value = String> {
    "[/*ab]{0,24}"
}

/// Short channels over a small alphabet, so that patterns often match.
fn small_channel() -> impl Strategy<Value = Channel> {
    prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 0..7)
        .prop_map(|tokens| Channel::parse(&tokens.join("/")).unwrap())
}

proptest! {
    #[test]
    fn parsers_never_panic_and_round_trip(input in any::<String>()) {
        if let Ok(channel) = Channel::parse(&input) {
            prop_assert_eq!(Channel::parse(channel.as_str()), Ok(channel.clone()));
        }
        if let Ok(pattern) = Pattern::parse(&input) {
            let text = pattern.to_string();
            prop_assert_eq!(Pattern::parse(&text), Ok(pattern));
        }
    }

    #[test]
    fn structured_text_round_trips(input in "[/*ab\\x00\\x7f é]{0,40}") {
        if let Ok(pattern) = Pattern::parse(&input) {
            let text = pattern.to_string();
            let again = Pattern::parse(&text).unwrap();
            prop_assert_eq!(again.to_string(), text);
            prop_assert_eq!(again, pattern);
        }
        if let Ok(channel) = Channel::parse(&input) {
            prop_assert_eq!(Channel::parse(channel.as_str()), Ok(channel));
        }
    }

    #[test]
    fn canonical_form_keeps_the_meaning(text in pattern_text(), channel in small_channel()) {
        let raw = raw_tokens(&text);
        let canonical = canonicalize(raw.iter().cloned());
        prop_assert_eq!(
            naive::matches(&raw, &channel),
            naive::matches(&canonical, &channel),
            "{:?} on {:?}", text, channel
        );
    }

    #[test]
    fn canonicalizing_twice_changes_nothing(text in pattern_text()) {
        let once = canonicalize(raw_tokens(&text).into_iter());
        let twice = canonicalize(once.iter().cloned());
        prop_assert_eq!(once, twice);
    }
}
