//! One routing for both protocols: what a NATS subscription matches is what its hubwire pattern
//! matches, subjects and channels map back and forth, and what has no form is refused or hidden.

use proptest::prelude::*;

use super::subject::{checked_channel_to_subject, checked_subject_to_channel};
use super::*;
use crate::pubsub::{Channel, Pattern};

/// NATS's own matching rule, written from its documentation: `*` one token, `>` as the last
/// token one or more.
fn nats_matches(pattern: &str, subject: &str) -> bool {
    let p: Vec<&str> = pattern.split('.').collect();
    let s: Vec<&str> = subject.split('.').collect();
    for (i, token) in p.iter().enumerate() {
        match *token {
            ">" => return s.len() > i,
            "*" if i < s.len() => {}
            literal if i < s.len() && s[i] == literal => {}
            _ => return false,
        }
    }
    p.len() == s.len()
}

#[test]
fn subjects_map_to_channels_and_patterns_and_back() {
    assert_eq!(subject_to_channel("a.b.c").unwrap().as_str(), "a/b/c");
    assert_eq!(
        subject_to_pattern("a.*.c").unwrap(),
        Pattern::parse("a/*/c").unwrap()
    );
    assert_eq!(
        subject_to_pattern("a.>").unwrap(),
        Pattern::parse("a/*/**").unwrap()
    );
    assert_eq!(
        subject_to_pattern(">").unwrap(),
        Pattern::parse("*/**").unwrap()
    );
    let ch = |s: &str| Channel::parse(s).unwrap();
    assert_eq!(channel_to_subject(&ch("a/b/c")).as_deref(), Some("a.b.c"));
    let p = |s: &str| Pattern::parse(s).unwrap();
    assert_eq!(pattern_to_subject(&p("a/*/**")).as_deref(), Some("a.>"));
    assert_eq!(pattern_to_subject(&p("*/*/**")).as_deref(), Some("*.>"));
    assert_eq!(pattern_to_subject(&p("a/*")).as_deref(), Some("a.*"));
}

#[test]
fn what_has_no_form_on_the_other_side_is_refused_or_hidden() {
    let ch = |s: &str| Channel::parse(s).unwrap();
    assert_eq!(
        channel_to_subject(&ch("v1.2/x")),
        None,
        "a '.' inside a token"
    );
    assert_eq!(channel_to_subject(&ch("a b/c")), None, "a space");
    assert_eq!(
        channel_to_subject(&ch("a/>")),
        None,
        "'>' would be a wildcard"
    );
    assert_eq!(channel_to_subject(&Channel::empty()), None);
    let p = |s: &str| Pattern::parse(s).unwrap();
    assert_eq!(
        pattern_to_subject(&p("a/**")),
        None,
        "'>' never takes zero tokens"
    );
    assert_eq!(pattern_to_subject(&p("a/**/b")), None, "'**' in the middle");
    for bad in ["", "a..b", ".a", "a.", "a b", "a.>.b"] {
        assert!(
            matches!(subject_to_pattern(bad), Err(SubjectError::Invalid(_))),
            "{bad:?}"
        );
    }
    let wildcard = subject_to_channel("a.*").unwrap_err();
    assert_eq!(wildcard.nats_text(), "Invalid Publish Subject");
    assert!(matches!(
        subject_to_channel("a/b.c"),
        Err(SubjectError::NotCarried(_))
    ));
    assert!(matches!(
        subject_to_pattern("a.**"),
        Err(SubjectError::NotCarried(_))
    ));
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![Just("a".to_owned()), Just("b".to_owned()), "[a-c]{1,2}"]
}

fn subject() -> impl Strategy<Value = String> {
    prop::collection::vec(token(), 1..5).prop_map(|t| t.join("."))
}

fn nats_pattern() -> impl Strategy<Value = String> {
    let tok = prop_oneof![3 => token(), 1 => Just("*".to_owned())];
    (prop::collection::vec(tok, 1..5), any::<bool>()).prop_map(|(mut t, tail)| {
        if tail {
            *t.last_mut().unwrap() = ">".into();
        }
        t.join(".")
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// A NATS client and a hubwire spoke subscribed alike see the same messages.
    #[test]
    fn a_subscription_matches_as_nats_would_match_it(p in nats_pattern(), s in subject()) {
        let pattern = subject_to_pattern(&p).unwrap();
        let channel = subject_to_channel(&s).unwrap();
        prop_assert_eq!(pattern.matches(&channel), nats_matches(&p, &s), "{} vs {}", p, s);
    }

    /// Subjects and channels, and NATS patterns and their hubwire form, map back unchanged.
    #[test]
    fn mappings_come_back_unchanged(p in nats_pattern(), s in subject()) {
        let channel = subject_to_channel(&s).unwrap();
        prop_assert_eq!(channel_to_subject(&channel), Some(s));
        let pattern = subject_to_pattern(&p).unwrap();
        prop_assert_eq!(pattern_to_subject(&pattern), Some(p));
    }

    /// Any text: a result or a typed error, never a panic.
    #[test]
    fn any_text_is_mapped_or_refused(text in "[a-c.*> /]{0,12}") {
        let _ = subject_to_channel(&text);
        let _ = subject_to_pattern(&text);
    }
}

/// Text near every rule of both mappings: separators of both sides, wildcards, spaces,
/// control and non-ASCII characters, and tokens long or many enough to pass the limits.
fn edge_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-c.*>/ \t\u{7f}\u{1}é]{0,16}",
        ("[a-c]{1,3}", 60..70_usize).prop_map(|(t, n)| vec![t; n].join(".")),
        ("[ab]", 1000..1030_usize).prop_map(|(t, n)| t.repeat(n)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// The one-pass paths give what the full checks give: the same channel, subject or error.
    #[test]
    fn the_one_pass_mappings_agree_with_the_full_checks(text in edge_text()) {
        prop_assert_eq!(subject_to_channel(&text), checked_subject_to_channel(&text));
        let slashed = text.replace('.', "/");
        if let Ok(channel) = Channel::parse(&slashed).or_else(|_| Channel::parse(&text)) {
            prop_assert_eq!(channel_to_subject(&channel), checked_channel_to_subject(&channel));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The cache answers what the mapping answers, repeated subjects or not, and never holds
    /// more than its bound.
    #[test]
    fn the_subject_cache_answers_as_the_mapping_and_stays_bounded(
        texts in prop::collection::vec(prop_oneof![subject(), edge_text(), "[a-z]{1,3}"], 0..300),
    ) {
        let mut cache = SubjectCache::default();
        for text in texts.iter().chain(&texts) {
            prop_assert_eq!(cache.channel(text), subject_to_channel(text));
            prop_assert!(cache.len() <= SUBJECT_CACHE_ENTRIES);
        }
    }
}
