//! [`BridgeLimits`]: the bounds a bridge keeps, with their defaults.

use std::time::Duration;

/// How many interests one hub announces, and another keeps of it, before it counts as
/// interested in everything.
pub const DEFAULT_MAX_INTERESTS_PER_ORIGIN: usize = 4096;

/// How long an unreachable hub's advert is kept: long enough for the advert of the neighbor
/// that lists a newly joined hub to arrive after the joiner's own.
pub const DEFAULT_PRUNE_GRACE: Duration = Duration::from_secs(30);

/// How many interests one update carries at most, as a suggestion for
/// [`LocalInterest::take_update`](super::LocalInterest::take_update) and the `full` calls.
pub const DEFAULT_UPDATE_ITEMS: usize = 256;

/// The most neighbors an advert may list; a longer one is refused (no bridge mesh is that
/// wide, and it bounds what one advert costs).
pub const MAX_ADVERT_NEIGHBORS: usize = 1024;

/// How many message sequence numbers behind an origin's newest the [`SeenSet`](super::SeenSet)
/// remembers; older ones count as seen.
pub const SEEN_WINDOW: u64 = 1024;

/// The bounds of a [`BridgeRouter`](super::BridgeRouter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeLimits {
    /// See [`DEFAULT_MAX_INTERESTS_PER_ORIGIN`].
    pub max_interests_per_origin: usize,
    /// See [`DEFAULT_PRUNE_GRACE`].
    pub prune_grace: Duration,
    /// See [`DEFAULT_MAX_OUTBOUND_BYTES`].
    pub max_outbound_bytes: usize,
}

/// Bytes a link may owe the hub at its other end before that hub is taken for frozen and the
/// link is dropped (a stopped process whose socket is still open reads nothing).
pub const DEFAULT_MAX_OUTBOUND_BYTES: usize = 64 * 1024 * 1024;

impl Default for BridgeLimits {
    fn default() -> Self {
        BridgeLimits {
            max_interests_per_origin: DEFAULT_MAX_INTERESTS_PER_ORIGIN,
            prune_grace: DEFAULT_PRUNE_GRACE,
            max_outbound_bytes: DEFAULT_MAX_OUTBOUND_BYTES,
        }
    }
}
