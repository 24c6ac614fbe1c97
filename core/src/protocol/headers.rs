//! The extensible header map every REQUEST and RESPONSE carries.
//!
//! Headers are how the protocol grows without a new version: a receiver ignores keys it does not
//! know. Keys are lower-case; values are strings (numbers in decimal).

use std::time::Duration;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The time left for a request, in whole milliseconds, measured when the frame was sent.
/// Relative rather than absolute so that peers need no synchronised clocks.
pub const DEADLINE_MS: &str = "deadline-ms";
/// W3C trace context (`traceparent`), passed through untouched.
pub const TRACEPARENT: &str = "traceparent";
/// A caller-chosen key that makes a retried request safe to store or process once.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Bytes of a value kept inline: any decimal `u64` (20 digits) fits.
const INLINE_BYTES: usize = 23;

/// A header value short enough to keep without an allocation, or a `String`.
#[derive(Clone)]
enum Text {
    Inline { len: u8, bytes: [u8; INLINE_BYTES] },
    Heap(String),
}

impl Text {
    fn new(value: &str) -> Text {
        if value.len() <= INLINE_BYTES {
            let mut bytes = [0; INLINE_BYTES];
            bytes[..value.len()].copy_from_slice(value.as_bytes());
            Text::Inline {
                len: value.len() as u8,
                bytes,
            }
        } else {
            Text::Heap(value.to_owned())
        }
    }

    fn from_string(value: String) -> Text {
        if value.len() <= INLINE_BYTES {
            Text::new(&value)
        } else {
            Text::Heap(value)
        }
    }

    /// `n` in decimal.
    fn decimal(n: u128) -> Text {
        let Ok(mut n) = u64::try_from(n) else {
            return Text::Heap(n.to_string());
        };
        // Digits from the right end of the buffer, then moved to the front.
        let mut bytes = [0u8; INLINE_BYTES];
        let mut start = INLINE_BYTES;
        loop {
            start -= 1;
            bytes[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let len = INLINE_BYTES - start;
        bytes.copy_within(start.., 0);
        Text::Inline {
            len: len as u8,
            bytes,
        }
    }

    fn as_str(&self) -> &str {
        match self {
            Text::Inline { len, bytes } => {
                let bytes = &bytes[..*len as usize];
                debug_assert!(std::str::from_utf8(bytes).is_ok());
                // SAFETY: `Inline` is only built by copying a whole `&str` (`new`) or from ASCII
                // digits (`decimal`), so its first `len` bytes are UTF-8. Checking again on
                // every read would cost more than the rest of the header's handling.
                unsafe { std::str::from_utf8_unchecked(bytes) }
            }
            Text::Heap(s) => s,
        }
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

/// A map of header names to values, encoded as a MessagePack map of strings.
///
/// `deadline-ms` is on every call the reference client makes, so it is kept apart from the
/// others, inline: setting, encoding and decoding it allocates nothing. The others (few, if
/// any) are a vector sorted by key, which costs nothing when empty.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers {
    deadline: Option<Text>,
    /// Sorted by key, keys unique, never `deadline-ms`.
    others: Vec<(String, String)>,
}

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Headers {
    /// No headers (encoded as an empty map, one byte).
    pub fn new() -> Self {
        Headers::default()
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        if key == DEADLINE_MS {
            return self.deadline.as_ref().map(Text::as_str);
        }
        let i = self.find(key).ok()?;
        Some(&self.others[i].1)
    }

    /// Where `key` is among the others, or where it would go.
    fn find(&self, key: &str) -> Result<usize, usize> {
        self.others.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    fn insert_other(&mut self, key: String, value: String) {
        match self.find(&key) {
            Ok(i) => self.others[i].1 = value,
            Err(i) => self.others.insert(i, (key, value)),
        }
    }

    /// Sets `key` to `value`, replacing any earlier value.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        if key == DEADLINE_MS {
            self.deadline = Some(Text::from_string(value.into()));
        } else {
            self.insert_other(key, value.into());
        }
    }

    /// Whether there are no headers.
    pub fn is_empty(&self) -> bool {
        self.deadline.is_none() && self.others.is_empty()
    }

    /// How many headers there are.
    pub fn len(&self) -> usize {
        self.others.len() + usize::from(self.deadline.is_some())
    }

    /// Every header, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        fn pair((k, v): &(String, String)) -> (&str, &str) {
            (k, v)
        }
        let (before, after) = self.others.split_at(self.deadline_position());
        let deadline = self.deadline.iter().map(|v| (DEADLINE_MS, v.as_str()));
        before
            .iter()
            .map(pair)
            .chain(deadline)
            .chain(after.iter().map(pair))
    }

    /// Calls `f` with every header, in key order (cheaper than [`iter`](Self::iter) where that
    /// counts: every frame is sized and written with it).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&str, &str)) {
        if self.others.is_empty() {
            if let Some(deadline) = &self.deadline {
                f(DEADLINE_MS, deadline.as_str());
            }
            return;
        }
        let (before, after) = self.others.split_at(self.deadline_position());
        for (k, v) in before {
            f(k, v);
        }
        if let Some(deadline) = &self.deadline {
            f(DEADLINE_MS, deadline.as_str());
        }
        for (k, v) in after {
            f(k, v);
        }
    }

    /// How many of the others sort before `deadline-ms`.
    fn deadline_position(&self) -> usize {
        self.others
            .partition_point(|(k, _)| k.as_str() < DEADLINE_MS)
    }

    /// The time the sender allowed for the request, if it set one.
    ///
    /// A value that is not a decimal number of milliseconds is treated as absent, so a malformed
    /// header never makes a request fail in a way the caller cannot see.
    pub fn deadline(&self) -> Option<Duration> {
        self.deadline
            .as_ref()?
            .as_str()
            .parse::<u64>()
            .ok()
            .map(Duration::from_millis)
    }

    /// Sets the time allowed for the request (rounded up to whole milliseconds, so a short but
    /// non-zero timeout never reads as zero).
    pub fn set_deadline(&mut self, within: Duration) {
        self.deadline = Some(Text::decimal(within.as_micros().div_ceil(1000)));
    }

    /// The idempotency key, if the sender set one.
    pub fn idempotency_key(&self) -> Option<&str> {
        self.get(IDEMPOTENCY_KEY)
    }
}

/// Headers read off the wire, in whatever order the peer sent them: the keys are sorted once at
/// the end, so a map of n keys costs O(n log n) in any order. (Inserting each key in its place
/// costs O(n) per key: a 1 MiB map of 200,000 keys in reverse order took 30 s to read.)
#[derive(Default)]
pub(crate) struct HeadersReader {
    headers: Headers,
}

impl HeadersReader {
    /// Adds `key` with `value` from borrowed text (`deadline-ms` allocates nothing); a repeated
    /// key's last value wins.
    pub(crate) fn push_str(&mut self, key: &str, value: &str) {
        if key == DEADLINE_MS {
            self.headers.deadline = Some(Text::new(value));
        } else {
            self.headers.others.push((key.to_owned(), value.to_owned()));
        }
    }

    /// Like [`push_str`](Self::push_str), for owned text.
    fn push(&mut self, key: String, value: String) {
        if key == DEADLINE_MS {
            self.headers.deadline = Some(Text::from_string(value));
        } else {
            self.headers.others.push((key, value));
        }
    }

    /// The headers, keys sorted and each once.
    pub(crate) fn finish(self) -> Headers {
        let mut headers = self.headers;
        // Stable, so a repeated key's values stay in the order they came; the last one moves
        // into the entry kept. Already sorted keys (what every writer sends) cost one pass.
        headers.others.sort_by(|a, b| a.0.cmp(&b.0));
        headers.others.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                std::mem::swap(&mut later.1, &mut kept.1);
            }
            same
        });
        headers
    }
}

impl Serialize for Headers {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (key, value) in self.iter() {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HeaderMap;
        impl<'de> Visitor<'de> for HeaderMap {
            type Value = Headers;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of strings to strings")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Headers, A::Error> {
                let mut headers = HeadersReader::default();
                while let Some((key, value)) = map.next_entry::<String, String>()? {
                    headers.push(key, value);
                }
                Ok(headers.finish())
            }
        }
        deserializer.deserialize_map(HeaderMap)
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
        h.set_deadline(Duration::MAX);
        assert_eq!(h.get(DEADLINE_MS), Some("18446744073709551616000"));
        h.set_deadline(Duration::ZERO);
        assert_eq!(h.get(DEADLINE_MS), Some("0"));
    }

    #[test]
    fn the_deadline_takes_its_place_in_key_order() {
        let mut h = Headers::new();
        h.insert("traceparent", "t");
        h.insert("a", "1");
        h.set_deadline(Duration::from_millis(1500));
        h.insert("deadline-ms-extra", "x");
        let keys: Vec<_> = h.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", DEADLINE_MS, "deadline-ms-extra", "traceparent"]);
        assert_eq!(h.len(), 4);
        let long = "9".repeat(40);
        h.insert(DEADLINE_MS, long.clone());
        assert_eq!(h.get(DEADLINE_MS), Some(long.as_str()));
        assert_eq!(h.len(), 4);
    }

    #[test]
    fn headers_compare_by_content() {
        let mut a = Headers::new();
        a.set_deadline(Duration::from_millis(7));
        let mut b = Headers::new();
        b.insert(DEADLINE_MS, "7");
        assert_eq!(a, b);
        b.insert("x", "y");
        assert_ne!(a, b);
    }
}
