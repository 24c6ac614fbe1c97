//! [`SubjectCache`]: the channels a NATS connection publishes to most, so that a publisher
//! sending to the same few subjects maps each once, not once per message (nats-server keeps a
//! per-client cache of its subject lookups for the same reason).

use std::collections::HashMap;

use super::{subject_to_channel, SubjectError};
use crate::pubsub::Channel;

/// Subjects a [`SubjectCache`] remembers; past that it starts again, so a client publishing
/// to ever new subjects costs a bounded map, never a growing one.
pub const SUBJECT_CACHE_ENTRIES: usize = 64;

/// A bounded map from published subject to its channel (which shares its text on clone).
///
/// ```
/// use hubwire_core::nats::SubjectCache;
///
/// let mut cache = SubjectCache::default();
/// let first = cache.channel("orders.eu.new").unwrap();
/// assert_eq!(first.as_str(), "orders/eu/new");
/// assert_eq!(cache.channel("orders.eu.new").unwrap(), first);
/// assert!(cache.channel("orders.*").is_err()); // errors are not kept
/// ```
#[derive(Debug, Default)]
pub struct SubjectCache {
    channels: HashMap<Box<str>, Channel, foldhash::fast::RandomState>,
}

impl SubjectCache {
    /// The channel of `subject`, as [`subject_to_channel`] maps it.
    pub fn channel(&mut self, subject: &str) -> Result<Channel, SubjectError> {
        if let Some(channel) = self.channels.get(subject) {
            return Ok(channel.clone());
        }
        let channel = subject_to_channel(subject)?;
        if self.channels.len() >= SUBJECT_CACHE_ENTRIES {
            self.channels.clear();
        }
        self.channels.insert(subject.into(), channel.clone());
        Ok(channel)
    }

    /// How many subjects it holds.
    pub fn len(&self) -> usize {
        self.channels.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.channels.is_empty()
    }
}
