//! COMPRESS: the client's offer of compression algorithms right after CONN, and the server's
//! choice (protocol.md section 5, "Compression").

use bytes::{BufMut, Bytes, BytesMut};

use super::wire::{self, read_whole, Form, WireError};
use super::{kind, Envelope, ProtocolError};
use crate::compression::MAX_OFFERED;

/// COMPRESS: `[algorithms: array<str>]`. From the client, the algorithms it can use (names it
/// does not know are allowed and skipped by the server); from the server, the one chosen, or
/// none (an empty array: no compression).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Compress {
    /// Algorithm names (`"zstd"`, `"gzip"`), at most [`MAX_OFFERED`].
    pub algorithms: Vec<String>,
}

impl Envelope for Compress {
    const KIND: u16 = kind::COMPRESS;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        out.put_u8(0x91);
        wire::put_array_len(out, self.algorithms.len())?;
        for name in &self.algorithms {
            wire::put_str(out, name)?;
        }
        Ok(())
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        read_whole(Self::KIND, payload, |rd| {
            rd.array_of(1)?;
            let count = rd.array_len()?;
            if count > MAX_OFFERED {
                return Err(WireError::OutOfRange {
                    value: count as u64,
                    max: MAX_OFFERED as u64,
                });
            }
            let algorithms = (0..count)
                .map(|_| rd.text(Form::Str).map(str::to_owned))
                .collect::<Result<_, _>>()?;
            Ok(Compress { algorithms })
        })
    }
}
