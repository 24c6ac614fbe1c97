//! Bodies: a route's request and reply values as MessagePack, structs as maps with field names
//! (so other languages and the command line can build them from JSON without knowing field order).

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A value that could not be turned into a body, or a body that is not the expected type.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The value could not be encoded.
    #[error("cannot encode body: {0}")]
    Encode(#[from] rmp_serde::encode::Error),
    /// The bytes are not a MessagePack value of the expected type.
    #[error("cannot decode body: {0}")]
    Decode(#[from] rmp_serde::decode::Error),
}

/// The MessagePack nil that an empty body stands for.
const NIL: &[u8] = &[0xc0];

/// Encodes a value as a body.
pub fn encode_body<T: Serialize + ?Sized>(value: &T) -> Result<Bytes, BodyError> {
    Ok(Bytes::from(rmp_serde::to_vec_named(value)?))
}

/// Decodes a body; an empty body is read as nil, so `()` and `Option` requests need no bytes.
pub fn decode_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, BodyError> {
    let bytes = if body.is_empty() { NIL } else { body };
    Ok(rmp_serde::from_slice(bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Roll {
        sides: u32,
    }

    #[test]
    fn structs_are_maps_with_field_names() {
        let body = encode_body(&Roll { sides: 6 }).unwrap();
        assert_eq!(&body[..], &[0x81, 0xa5, b's', b'i', b'd', b'e', b's', 0x06]);
        assert_eq!(decode_body::<Roll>(&body).unwrap(), Roll { sides: 6 });
    }

    #[test]
    fn an_empty_body_is_nil() {
        decode_body::<()>(&[]).unwrap();
        assert_eq!(decode_body::<Option<u8>>(&[]).unwrap(), None);
        assert!(decode_body::<Roll>(&[]).is_err());
    }
}
