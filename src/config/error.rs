//! Why a configuration could not be built.

use std::path::PathBuf;

use super::Source;

/// A configuration error; the process reports it in one line and exits non-zero before binding.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file named with `--config` could not be read.
    #[error("cannot read config file {path}: {source}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The file is not a JSON object.
    #[error("config file {path} is not valid JSON: {reason}")]
    NotJson {
        /// The file.
        path: PathBuf,
        /// Where and what.
        reason: String,
    },
    /// A key that hubwire does not know.
    #[error("unknown config key {key:?} (from {origin}){hint}")]
    UnknownKey {
        /// The key.
        key: String,
        /// Where it came from.
        origin: Source,
        /// A suggestion, if a known key is close.
        hint: String,
    },
    /// A value that does not fit its key.
    #[error("config key {key} = {value} (from {origin}) is not valid: {reason}")]
    BadValue {
        /// The key.
        key: String,
        /// The value as written.
        value: String,
        /// Where it came from.
        origin: Source,
        /// What is wrong.
        reason: String,
    },
}
