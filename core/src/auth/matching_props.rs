//! Properties of permission matching: a pattern covers itself; a covered subscription never
//! reaches a channel its grant does not match; route patterns agree with channel patterns.

use proptest::prelude::*;

use super::matching::{covers, matches};
use super::RoutePattern;
use crate::pubsub::{Channel, Pattern};

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a".to_owned()),
        Just("b".to_owned()),
        Just("c".to_owned())
    ]
}

fn pattern_token() -> impl Strategy<Value = String> {
    prop_oneof![token(), Just("*".to_owned()), Just("**".to_owned())]
}

fn channel() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(token(), 1..6)
}

fn pattern() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(pattern_token(), 1..5)
}

proptest! {
    #[test]
    fn a_pattern_covers_itself(p in pattern()) {
        let p = Pattern::parse(&p.join("/")).unwrap();
        prop_assert!(covers(p.tokens(), p.tokens()));
    }

    #[test]
    fn covering_is_sound(outer in pattern(), inner in pattern(), c in channel()) {
        let outer = Pattern::parse(&outer.join("/")).unwrap();
        let inner = Pattern::parse(&inner.join("/")).unwrap();
        let channel = Channel::parse(&c.join("/")).unwrap();
        if covers(outer.tokens(), inner.tokens()) && inner.matches(&channel) {
            prop_assert!(outer.matches(&channel), "{outer} covers {inner} but misses {channel}");
        }
    }

    #[test]
    fn a_literal_subscription_is_covered_exactly_when_matched(outer in pattern(), c in channel()) {
        let outer = Pattern::parse(&outer.join("/")).unwrap();
        let channel = Channel::parse(&c.join("/")).unwrap();
        let exact = Pattern::exact(&channel);
        prop_assert_eq!(covers(outer.tokens(), exact.tokens()), outer.matches(&channel));
    }

    #[test]
    fn token_matching_agrees_with_the_pubsub_matcher(p in pattern(), c in channel()) {
        let pattern = Pattern::parse(&p.join("/")).unwrap();
        let channel = Channel::parse(&c.join("/")).unwrap();
        let words: Vec<&str> = c.iter().map(String::as_str).collect();
        prop_assert_eq!(matches(pattern.tokens(), &words), pattern.matches(&channel));
        let route: RoutePattern = p.join(".").parse().unwrap();
        prop_assert_eq!(route.matches(&c.join(".")), pattern.matches(&channel));
    }
}
