//! [`WorkerStatus`]: what a worker last reported about itself (STATUS).

use bytes::Bytes;
use serde::Deserialize;

/// A worker's last STATUS: arbitrary MessagePack that a [`DispatchPolicy`](super::DispatchPolicy)
/// may read, with the two keys the built-in policies understand read once when it arrives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerStatus {
    /// The status as the worker sent it (empty before its first STATUS).
    pub raw: Bytes,
    /// The map's `weight` (a non-negative integer), if present: the share of items it asks for.
    pub weight: Option<u32>,
    /// The map's `busy` (a bool): the worker asks for nothing new for now.
    pub busy: bool,
}

#[derive(Deserialize, Default)]
struct KnownKeys {
    #[serde(default)]
    weight: Option<u32>,
    #[serde(default)]
    busy: Option<bool>,
}

impl WorkerStatus {
    /// Reads the keys the built-ins use from `raw`; a status that is not a map, or whose keys
    /// have other types, is kept as it is and read as neither weighted nor busy.
    pub fn new(raw: Bytes) -> Self {
        let known: KnownKeys = rmp_serde::from_slice(&raw).unwrap_or_default();
        WorkerStatus {
            weight: known.weight,
            busy: known.busy.unwrap_or(false),
            raw,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&'static str, rmpv_like::V)]) -> Bytes {
        let mut out = Vec::new();
        rmp_serde::encode::write_named(&mut out, &rmpv_like::Map(pairs.to_vec())).unwrap();
        out.into()
    }

    /// A tiny serializable map of mixed values, so the tests write real MessagePack maps.
    mod rmpv_like {
        use serde::ser::SerializeMap;
        use serde::{Serialize, Serializer};

        #[derive(Clone)]
        pub enum V {
            U(u32),
            B(bool),
            S(&'static str),
        }

        pub struct Map(pub Vec<(&'static str, V)>);

        impl Serialize for Map {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(self.0.len()))?;
                for (k, v) in &self.0 {
                    match v {
                        V::U(n) => m.serialize_entry(k, n)?,
                        V::B(b) => m.serialize_entry(k, b)?,
                        V::S(t) => m.serialize_entry(k, t)?,
                    }
                }
                m.end()
            }
        }
    }

    #[test]
    fn weight_and_busy_are_read_and_other_keys_ignored() {
        use rmpv_like::V;
        let status = WorkerStatus::new(map(&[
            ("host", V::S("a")),
            ("weight", V::U(7)),
            ("busy", V::B(true)),
        ]));
        assert_eq!(status.weight, Some(7));
        assert!(status.busy);
    }

    #[test]
    fn a_status_that_is_not_a_map_is_kept_and_neutral() {
        let status = WorkerStatus::new(Bytes::from_static(&[0xc3]));
        assert_eq!(status.raw.as_ref(), &[0xc3]);
        assert_eq!(status.weight, None);
        assert!(!status.busy);
        let wrong_type = WorkerStatus::new(map(&[("weight", rmpv_like::V::S("x"))]));
        assert_eq!(wrong_type.weight, None);
    }
}
