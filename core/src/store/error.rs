//! [`StoreError`]: everything that can go wrong in a store, each with what to do about it.

use std::path::PathBuf;

/// A store failure. A failed [`Store::apply`](super::Store::apply) stored none of its batch.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The directory for the store file could not be created.
    #[error(
        "cannot create the store directory {}: {source} (check that the path is writable)",
        path.display()
    )]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Another process (or another store in this one) holds the file.
    #[error(
        "cannot open store at {}: it is already open (is another process using it? stop it, \
         or give this instance its own data directory)",
        path.display()
    )]
    InUse {
        /// The store file.
        path: PathBuf,
    },
    /// The file could not be opened or repaired.
    #[error(
        "cannot open store at {}: {source} (is another process using it? is it a hubwire store \
         on a healthy disk? move a damaged file aside to start empty)",
        path.display()
    )]
    Open {
        /// The store file.
        path: PathBuf,
        /// What redb said.
        source: redb::DatabaseError,
    },
    /// The file was written by a hubwire with another storage layout.
    #[error(
        "cannot open store at {}: its format version is {found}, this build reads {expected} \
         (run a matching hubwire version, or move the file aside to start empty)",
        path.display()
    )]
    Format {
        /// The store file.
        path: PathBuf,
        /// The version in the file.
        found: u64,
        /// The version this build writes.
        expected: u64,
    },
    /// A transaction, table access or commit failed.
    #[error(
        "store {action} failed: {source} (check disk space, permissions and the disk's health, \
         then retry)"
    )]
    Database {
        /// What the store was doing ("commit", "read", ...).
        action: &'static str,
        /// What redb said.
        source: redb::Error,
    },
    /// A stored record does not decode.
    #[error(
        "a stored {what} cannot be decoded: {source} (the store file is damaged or from another \
         version; move it aside to start empty)"
    )]
    Corrupt {
        /// Which kind of record.
        what: &'static str,
        /// What the decoder said.
        source: rmp_serde::decode::Error,
    },
    /// A record does not encode; a bug, since every stored type is plain data.
    #[error("cannot encode a {what}: {source} (a bug in hubwire: please report it)")]
    Encode {
        /// Which kind of record.
        what: &'static str,
        /// What the encoder said.
        source: rmp_serde::encode::Error,
    },
}

impl StoreError {
    /// A `map_err` adapter for redb's errors, naming what the store was doing.
    pub(crate) fn database<E: Into<redb::Error>>(action: &'static str) -> impl FnOnce(E) -> Self {
        move |e| StoreError::Database {
            action,
            source: e.into(),
        }
    }
}
