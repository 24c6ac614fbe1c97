//! The naming rules for series, checked in debug builds so a misspelt name fails the first test
//! that registers it instead of appearing in production dashboards.

/// Whether `name` is dotted segments of `[a-z0-9_]`, like `requests.errors`.
pub(crate) fn is_valid_name(name: &str) -> bool {
    name.split('.').all(is_valid_segment)
}

/// Whether `key` is a single `[a-z0-9_]` segment, like `route`.
pub(crate) fn is_valid_label_key(key: &str) -> bool {
    is_valid_segment(key)
}

fn is_valid_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}
