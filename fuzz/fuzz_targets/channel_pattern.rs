//! Channel and pattern text: parsing, normal and canonical forms, and matching one pattern
//! against one channel, checked against a trie holding only that pattern.
//!
//! Input: UTF-8 text, `pattern \n channel` (a newline is a control character, refused in both,
//! so splitting on it loses nothing). Each half is also parsed as the other kind.
#![no_main]

use hubwire_core::pubsub::{Channel, Pattern, PatternToken, SubscriptionTrie, MAX_TOKENS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (pattern_text, channel_text) = text.split_once('\n').unwrap_or((text, text));
    let patterns =
        [pattern_text, channel_text].map(|t| Pattern::parse(t).ok().inspect(check_pattern));
    let channels =
        [channel_text, pattern_text].map(|t| Channel::parse(t).ok().inspect(check_channel));
    for channel in channels.iter().flatten() {
        for pattern in patterns.iter().flatten() {
            check_match(pattern, channel);
        }
    }
    if let Err(e) = Pattern::parse(pattern_text) {
        let _ = e.to_string();
    }
    if let Err(e) = Channel::parse(channel_text) {
        let _ = e.to_string();
    }
});

fn check_pattern(pattern: &Pattern) {
    let text = pattern.to_string();
    assert_eq!(
        &Pattern::parse(&text).expect("canonical text parses"),
        pattern
    );
    let tokens = pattern.tokens();
    assert!(tokens.len() <= MAX_TOKENS);
    // Canonical: in a run of wildcards, no `*` after a `**` and at most one `**`.
    for pair in tokens.windows(2) {
        assert!(
            !(pair[0] == PatternToken::DoubleStar && pair[1].is_wildcard()),
            "{text}: not canonical"
        );
    }
    for token in tokens {
        assert!(!token.as_str().is_empty() && !token.as_str().contains('/'));
    }
}

fn check_channel(channel: &Channel) {
    let text = channel.as_str();
    assert_eq!(&Channel::parse(text).expect("normal text parses"), channel);
    assert_eq!(channel.token_count(), channel.tokens().count());
    assert_eq!(channel.is_empty(), channel.token_count() == 0);
    assert!(!text.starts_with('/') && !text.ends_with('/') && !text.contains("//"));
    let exact = Pattern::exact(channel);
    assert!(exact.is_literal() && exact.matches(channel));
    // A channel's text is also the text of the one pattern that matches only it.
    assert_eq!(Pattern::parse(text).expect("a channel is a pattern"), exact);
    assert!(Pattern::parse("**").unwrap().matches(channel));
}

fn check_match(pattern: &Pattern, channel: &Channel) {
    let matched = pattern.matches(channel);
    let mut trie = SubscriptionTrie::new();
    trie.subscribe(pattern, 1_u8);
    let expected: &[u8] = if matched { &[1] } else { &[] };
    assert_eq!(
        &*trie.matches(channel),
        expected,
        "the trie and the pattern disagree"
    );
    if pattern.is_literal() {
        assert_eq!(matched, *pattern == Pattern::exact(channel));
    }
    assert!(trie.unsubscribe(pattern, 1));
    assert_eq!(trie.node_count(), 1, "an emptied trie kept nodes");
}
