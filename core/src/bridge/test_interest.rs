//! What the interest tests share: two hubs, patterns and interests by text, and every update
//! a [`LocalInterest`] has to give.

use super::*;
use crate::pubsub::Pattern;

pub(super) const ME: HubId = HubId(1);
pub(super) const THEM: HubId = HubId(2);

pub(super) fn p(text: &str) -> Pattern {
    Pattern::parse(text).unwrap()
}

pub(super) fn plain(text: &str) -> Interest {
    Interest::plain(p(text))
}

pub(super) fn grouped(text: &str, group: &str) -> Interest {
    Interest {
        pattern: p(text),
        group: Some(group.into()),
    }
}

pub(super) fn drain(local: &mut LocalInterest, max: usize) -> Vec<InterestUpdate> {
    std::iter::from_fn(|| local.take_update(max)).collect()
}
