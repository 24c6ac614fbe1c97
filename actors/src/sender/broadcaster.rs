//! [`Broadcaster`]: one message to many destinations, each on a track of its own.
//!
//! A broadcaster is one sender per destination (named `<name>.<index>`, so keep the list's
//! order stable across restarts). A broadcast is stored for every destination in one
//! transaction, so a crash stores it for all tracks or for none. Each track has its own keeper, workers and
//! retries, so a destination that is down only delays itself. A sequenced broadcaster
//! ([`Ordering::Groups`](super::Ordering)) keeps each group's order on every destination.

use actix::{Actor, Addr};
use bytes::Bytes;
use hubwire_core::encode_body;
use hubwire_core::protocol::Headers;
use hubwire_core::sender::Destination;
use hubwire_core::stats::StatsRegistry;
use hubwire_core::store::ItemId;
use serde::Serialize;

use super::error::SendError;
use super::handle::Sender;
use super::options::SenderOptions;
use super::spec::SenderSpec;
use crate::queue::{QueueError, StoreHandle};
use crate::supervisor::{ChildSpec, Supervisor, SupervisorOptions};

/// Hands one message to every destination's track (cheap to clone).
#[derive(Debug, Clone)]
pub struct Broadcaster {
    name: String,
    tracks: Vec<Sender>,
}

/// The group every message of an ordered broadcast without a group of its own goes in, so
/// each destination gets them one at a time in order.
const WHOLE_STREAM: &str = "*";

impl Broadcaster {
    /// Makes a broadcaster called `name` to `destinations`, each track with `options`: the
    /// handle, and one child spec per track for a supervisor (see [`SenderSpec::build`]).
    pub fn build(
        name: &str,
        destinations: Vec<Destination>,
        options: SenderOptions,
        store: &StoreHandle,
        registry: &StatsRegistry,
    ) -> Result<(Broadcaster, Vec<ChildSpec>), QueueError> {
        let mut tracks = Vec::new();
        let mut specs = Vec::new();
        for (n, destination) in destinations.into_iter().enumerate() {
            let spec = SenderSpec::new(format!("{name}.{n}"), destination).options(options.clone());
            let (sender, child) = spec.build(store, registry)?;
            tracks.push(sender);
            specs.push(child);
        }
        let broadcaster = Broadcaster {
            name: name.to_owned(),
            tracks,
        };
        Ok((broadcaster, specs))
    }

    /// [`build`](Self::build), with the tracks under a supervisor of their own.
    pub fn start(
        name: &str,
        destinations: Vec<Destination>,
        options: SenderOptions,
        store: &StoreHandle,
        registry: &StatsRegistry,
    ) -> Result<(Broadcaster, Addr<Supervisor>), QueueError> {
        let (broadcaster, specs) = Self::build(name, destinations, options, store, registry)?;
        let supervisor = Supervisor::new(
            format!("broadcasters.{name}"),
            SupervisorOptions::default(),
            specs,
            registry,
            |gave_up| tracing::error!(%gave_up, "a broadcaster could not be kept running"),
        )
        .start();
        Ok((broadcaster, supervisor))
    }

    /// The per-destination senders, in the order of the destinations.
    pub fn tracks(&self) -> &[Sender] {
        &self.tracks
    }

    /// Stores `message` for every destination in one transaction; answers each track's id.
    /// With ordering on, messages sent this way are delivered to each destination in order.
    pub async fn send<T: Serialize + ?Sized>(&self, message: &T) -> Result<Vec<ItemId>, SendError> {
        self.broadcast(
            encode_body(message)?,
            Headers::new(),
            Some(WHOLE_STREAM.into()),
        )
        .await
    }

    /// Stores `message` in ordering group `group` for every destination.
    pub async fn send_in_group<T: Serialize + ?Sized>(
        &self,
        group: &str,
        message: &T,
    ) -> Result<Vec<ItemId>, SendError> {
        self.broadcast(
            encode_body(message)?,
            Headers::new(),
            Some(group.to_owned()),
        )
        .await
    }

    /// Stores an encoded body with headers for every destination, in one transaction. A track
    /// that is full refuses its copy while the others keep theirs (each track is independent):
    /// the answer is then [`SendError::Incomplete`], which says which tracks stored it (with
    /// their ids) and which refused it.
    pub async fn broadcast(
        &self,
        body: Bytes,
        headers: Headers,
        group: Option<String>,
    ) -> Result<Vec<ItemId>, SendError> {
        let Some(first) = self.tracks.first() else {
            return Ok(Vec::new());
        };
        for track in &self.tracks {
            track.accepting()?;
        }
        let ops = self
            .tracks
            .iter()
            .map(|track| track.enqueue_op(body.clone(), &headers, group.clone()))
            .collect();
        let store = first.shared.store.clone();
        let outcomes = match store.submit(ops).await {
            Ok(outcomes) => outcomes,
            Err(source) => {
                return Err(SendError::Store {
                    sender: self.name.clone(),
                    source,
                })
            }
        };
        // Every track that stored its copy starts on it, whatever the others answered.
        self.tracks.iter().for_each(Sender::wake);
        let mut stored = Vec::new();
        let mut refused = Vec::new();
        for (n, (track, outcome)) in self.tracks.iter().zip(outcomes).enumerate() {
            match track.outcome(Ok(Some(outcome))) {
                Ok(id) => stored.push((n, id)),
                Err(e) => refused.push((n, e.to_string())),
            }
        }
        if refused.is_empty() {
            return Ok(stored.into_iter().map(|(_, id)| id).collect());
        }
        Err(SendError::Incomplete {
            broadcaster: self.name.clone(),
            stored,
            refused,
        })
    }
}
