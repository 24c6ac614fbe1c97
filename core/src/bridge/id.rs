//! [`HubId`]: the name a hub goes by among bridged hubs.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A hub's identity among bridged hubs.
///
/// The actor layer picks a random one at every process start, so a restarted hub is a new hub:
/// the old id's adverts, interest and seen-window age out instead of being mistaken for the
/// new process's (whose sequence numbers start again from zero). Ids are ordered because ties
/// between equally short paths are broken by the smallest id, the same way on every hub.
///
/// ```
/// use hubwire_core::bridge::HubId;
///
/// assert_eq!(HubId(0xab).to_string(), "00000000000000ab");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HubId(pub u64);

impl fmt::Display for HubId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Debug for HubId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HubId({self})")
    }
}
