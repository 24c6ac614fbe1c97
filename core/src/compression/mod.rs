//! Compression of a stream connection, negotiated in the handshake (`docs/compression.md`).
//!
//! ```text
//! client                                   server
//!   CONN, COMPRESS [offer] ──▶                         (plain)
//!                      ◀── CONN, COMPRESS [choice]     (plain)
//!   ════════ both directions compressed from the next byte on (if a choice was made) ════════
//! ```
//!
//! - [`Algorithm`]: the algorithms by their wire names, and [`choose`], the server's pick.
//! - [`Compressor`] and [`Decompressor`]: one direction's stream compression as plain code
//!   (bytes in, bytes out), flushed at every write so that what is written can be read at once.
//! - [`CompressingWriter`] and [`DecompressingReader`]: the same as a stream's write and read
//!   halves, switched on at an exact byte offset ([`Switch`]).
//!
//! The stream is compressed as one stream per direction (not frame by frame), so repeats across
//! frames (route keys, channels, header keys, similar bodies) compress too; each write is
//! flushed, so a lone reply is never held back waiting for more.

mod decode;
mod encode;
mod error;
mod reader;
mod writer;

#[cfg(test)]
mod tests;

pub use decode::Decompressor;
pub use encode::Compressor;
pub use error::CompressionError;
pub use reader::DecompressingReader;
pub use writer::CompressingWriter;

use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

/// zstd's compression level: its own default, fast enough to keep up with a link.
pub const ZSTD_LEVEL: i32 = 3;
/// The window (log2 bytes) hubwire's zstd compressor uses: 1 MiB of history.
pub const ZSTD_WINDOW_LOG: u32 = 20;
/// The largest window (log2 bytes) a zstd stream may ask the decompressor for: 8 MiB, so a peer
/// cannot make a connection hold more than that for its history (zstd itself allows 2 GiB).
pub const ZSTD_MAX_WINDOW_LOG: u32 = 23;
/// gzip's (deflate's) compression level.
pub const GZIP_LEVEL: u32 = 6;
/// Names a client may offer in one COMPRESS at most.
pub const MAX_OFFERED: usize = 16;

/// A compression algorithm, by the name it has on the wire and in the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// Zstandard (RFC 8878): the better ratio and the faster, the first choice.
    Zstd,
    /// gzip (RFC 1952) around deflate: for clients that lack zstd (browsers have it built in).
    Gzip,
}

impl Algorithm {
    /// Every algorithm, in hubwire's order of preference.
    pub const ALL: [Algorithm; 2] = [Algorithm::Zstd, Algorithm::Gzip];

    /// The wire name: `"zstd"`, `"gzip"`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Zstd => "zstd",
            Algorithm::Gzip => "gzip",
        }
    }

    /// The algorithm of a wire name; `None` for a name this side does not know.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == name)
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Algorithm {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Err("\"none\" is not an algorithm: leave the list empty".to_owned()),
            _ => Algorithm::from_name(s)
                .ok_or_else(|| format!("unknown compression {s:?}: use zstd or gzip")),
        }
    }
}

/// The server's pick: the first of its `allowed` algorithms (its order of preference) that the
/// client `offered`; names it does not know are skipped. `None`: no compression.
pub fn choose(offered: &[String], allowed: &[Algorithm]) -> Option<Algorithm> {
    allowed
        .iter()
        .copied()
        .find(|a| offered.iter().any(|name| name == a.name()))
}

/// What a client offers on a connection to `address`: `wanted`, except over WebSocket, whose
/// messages carry one whole frame each and are never compressed by hubwire.
pub fn offer_for<'a>(address: &crate::Address, wanted: &'a [Algorithm]) -> &'a [Algorithm] {
    match address {
        crate::Address::Ws { .. } | crate::Address::Wss { .. } => &[],
        _ => wanted,
    }
}

/// Where one direction of a stream starts being compressed: set once by whoever runs the
/// handshake, read by the stream's reader or writer.
#[derive(Clone, Debug, Default)]
pub struct Switch(Arc<OnceLock<(u64, Algorithm)>>);

impl Switch {
    /// A switch not yet thrown.
    pub fn new() -> Self {
        Switch::default()
    }

    /// From byte `offset` of the stream on (counted from its first byte), `algorithm`. Only
    /// the first call counts.
    pub fn set(&self, offset: u64, algorithm: Algorithm) {
        let _ = self.0.set((offset, algorithm));
    }

    fn get(&self) -> Option<(u64, Algorithm)> {
        self.0.get().copied()
    }
}
