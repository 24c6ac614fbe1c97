//! The reference matcher agrees with the definition of matching written as plain recursion.

use proptest::prelude::*;

use super::*;

fn tokens(text: &str) -> Vec<PatternToken> {
    text.split('/')
        .filter(|t| !t.is_empty())
        .map(PatternToken::from_text)
        .collect()
}

#[test]
fn definition_examples() {
    let channel = |t: &str| Channel::parse(t).unwrap();
    for (pattern, text, expected) in [
        ("", "", true),
        ("", "a", false),
        ("**", "", true),
        ("*", "", false),
        ("a/**/b", "a/b", true),
        ("a/**/b", "a/x/y/b", true),
        ("**/**/a", "a", true),
        ("*/*", "a/b/c", false),
    ] {
        let c = channel(text);
        let split: Vec<&str> = c.tokens().collect();
        assert_eq!(
            naive::matches(&tokens(pattern), &c),
            expected,
            "{pattern} {text}"
        );
        assert_eq!(
            naive::matches_by_definition(&tokens(pattern), &split),
            expected,
            "{pattern} {text}"
        );
    }
}

proptest! {
    #[test]
    fn dynamic_programming_agrees_with_the_definition(
        pattern in "[/*ab]{0,16}",
        channel in prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 0..7),
    ) {
        let parsed = Channel::parse(&channel.join("/")).unwrap();
        prop_assert_eq!(
            naive::matches(&tokens(&pattern), &parsed),
            naive::matches_by_definition(&tokens(&pattern), &channel)
        );
    }
}
