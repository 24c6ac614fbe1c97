//! The extensible header map every REQUEST and RESPONSE carries.
//!
//! Headers are how the protocol grows without a new version: a receiver ignores keys it does not
//! know. Keys are lower-case; values are strings (numbers in decimal).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The time left for a request, in whole milliseconds, measured when the frame was sent.
/// Relative rather than absolute so that peers need no synchronised clocks.
pub const DEADLINE_MS: &str = "deadline-ms";
/// W3C trace context (`traceparent`), passed through untouched.
pub const TRACEPARENT: &str = "traceparent";
/// A caller-chosen key that makes a retried request safe to store or process once.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// A map of header names to values, encoded as a MessagePack map of strings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Headers(BTreeMap<String, String>);

impl Headers {
    /// No headers (encoded as an empty map, one byte).
    pub fn new() -> Self {
        Headers(BTreeMap::new())
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// Sets `key` to `value`, replacing any earlier value.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.0.insert(key.into(), value.into());
    }

    /// Whether there are no headers.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every header, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The time the sender allowed for the request, if it set one.
    ///
    /// A value that is not a decimal number of milliseconds is treated as absent, so a malformed
    /// header never makes a request fail in a way the caller cannot see.
    pub fn deadline(&self) -> Option<Duration> {
        self.get(DEADLINE_MS)?
            .parse::<u64>()
            .ok()
            .map(Duration::from_millis)
    }

    /// Sets the time allowed for the request (rounded up to whole milliseconds, so a short but
    /// non-zero timeout never reads as zero).
    pub fn set_deadline(&mut self, within: Duration) {
        let ms = within.as_micros().div_ceil(1000);
        self.insert(DEADLINE_MS, ms.to_string());
    }

    /// The idempotency key, if the sender set one.
    pub fn idempotency_key(&self) -> Option<&str> {
        self.get(IDEMPOTENCY_KEY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_round_trips_and_rounds_up() {
        let mut h = Headers::new();
        h.set_deadline(Duration::from_micros(1500));
        assert_eq!(h.get(DEADLINE_MS), Some("2"));
        assert_eq!(h.deadline(), Some(Duration::from_millis(2)));
        h.insert(DEADLINE_MS, "soon");
        assert_eq!(h.deadline(), None);
    }
}
