//! Channels normalize their slashes, keep `*`-containing literals and refuse what the limits
//! and the wildcard rule forbid, with errors that say which.

use super::*;

fn channel(text: &str) -> Channel {
    Channel::parse(text).unwrap()
}

#[test]
fn slashes_are_normalized() {
    for (input, normal) in [
        ("sensors/kitchen/temp", "sensors/kitchen/temp"),
        ("/sensors//kitchen/temp/", "sensors/kitchen/temp"),
        ("///a///", "a"),
        ("", ""),
        ("/", ""),
        ("//", ""),
    ] {
        assert_eq!(channel(input).as_str(), normal, "{input:?}");
        assert_eq!(channel(input), channel(normal));
    }
}

#[test]
fn the_empty_channel_has_no_tokens() {
    let empty = channel("/");
    assert!(empty.is_empty());
    assert_eq!(empty.token_count(), 0);
    assert_eq!(empty.tokens().count(), 0);
    assert_eq!(empty, Channel::empty());
}

#[test]
fn tokens_and_count_agree() {
    let c = channel("/a/b c/*x/***/");
    assert_eq!(c.tokens().collect::<Vec<_>>(), ["a", "b c", "*x", "***"]);
    assert_eq!(c.token_count(), 4);
    assert_eq!(c.to_string(), "a/b c/*x/***");
}

#[test]
fn wildcard_tokens_are_refused() {
    assert_eq!(
        Channel::parse("/a/*/b"),
        Err(ChannelError::Wildcard {
            token: "*".into(),
            index: 1
        })
    );
    assert_eq!(
        Channel::parse("**"),
        Err(ChannelError::Wildcard {
            token: "**".into(),
            index: 0
        })
    );
    let message = Channel::parse("a/**").unwrap_err().to_string();
    assert!(message.contains("subscription patterns"), "{message}");
}

#[test]
fn control_characters_are_refused_where_they_are() {
    assert_eq!(
        Channel::parse("ab/\u{7f}"),
        Err(ChannelError::ControlCharacter {
            ch: '\u{7f}',
            at: 3
        })
    );
    assert_eq!(
        Channel::parse("é/\n"),
        Err(ChannelError::ControlCharacter { ch: '\n', at: 3 })
    );
    assert!(Channel::parse("\u{85}").is_err());
    assert!(Channel::parse("café/señal").is_ok());
}

#[test]
fn length_limit_is_on_the_text_as_given() {
    let at_limit = "a".repeat(MAX_TEXT_BYTES);
    assert!(Channel::parse(&at_limit).is_ok());
    let over = "a".repeat(MAX_TEXT_BYTES + 1);
    assert_eq!(
        Channel::parse(&over),
        Err(ChannelError::TooLong {
            len: MAX_TEXT_BYTES + 1
        })
    );
}

#[test]
fn token_limit_counts_tokens_after_normalization() {
    let at_limit = vec!["a"; MAX_TOKENS].join("/");
    assert_eq!(channel(&at_limit).token_count(), MAX_TOKENS);
    assert!(Channel::parse(&format!("//{}//", vec!["a"; MAX_TOKENS].join("//"))).is_ok());
    let over = vec!["a"; MAX_TOKENS + 1].join("/");
    assert_eq!(
        Channel::parse(&over),
        Err(ChannelError::TooManyTokens {
            count: MAX_TOKENS + 1
        })
    );
}

#[test]
fn serde_goes_through_parsing() {
    let c: Channel = serde_json::from_str("\"/a//b/\"").unwrap();
    assert_eq!(c.as_str(), "a/b");
    assert_eq!(serde_json::to_string(&c).unwrap(), "\"a/b\"");
    assert!(serde_json::from_str::<Channel>("\"a/*\"").is_err());
}
