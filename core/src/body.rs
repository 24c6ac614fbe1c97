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
    /// The body is MessagePack of another shape than expected: what was wrong and where, as
    /// `sides: invalid type: string "six", expected u32` or `missing field `sides``.
    #[error("cannot decode body: {0}")]
    Mismatch(String),
}

/// The MessagePack nil that an empty body stands for.
const NIL: &[u8] = &[0xc0];

/// Encodes a value as a body.
pub fn encode_body<T: Serialize + ?Sized>(value: &T) -> Result<Bytes, BodyError> {
    Ok(Bytes::from(rmp_serde::to_vec_named(value)?))
}

/// Decodes a body; an empty body is read as nil, so `()` and `Option` requests need no bytes.
/// A value of the wrong type is reported with the field it was found at and the type expected.
pub fn decode_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, BodyError> {
    let bytes = if body.is_empty() { NIL } else { body };
    rmp_serde::from_slice(bytes).map_err(|e| explain::<T>(bytes).unwrap_or(BodyError::Decode(e)))
}

/// Why `bytes` is not a `T`, said for a person: decoded again through a generic value, which
/// knows what it holds (rmp-serde's fast path only knows the marker it did not expect), with
/// the path to the field. Only on the error path, so a good body pays nothing for it.
fn explain<T: DeserializeOwned>(mut bytes: &[u8]) -> Option<BodyError> {
    let value = rmpv::decode::read_value_ref(&mut bytes).ok()?;
    let e = serde_path_to_error::deserialize::<_, T>(&value).err()?;
    let path = e.path().to_string();
    let rmpv::ext::Error::Syntax(why) = e.into_inner();
    Some(BodyError::Mismatch(match path.as_str() {
        "." => why,
        _ => format!("{path}: {why}"),
    }))
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
    fn a_field_of_the_wrong_type_is_named_with_the_type_expected() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Order {
            dice: Vec<Roll>,
        }
        let body = rmp_serde::to_vec_named(&serde_json::json!({"sides": "six"})).unwrap();
        let e = decode_body::<Roll>(&body).unwrap_err().to_string();
        assert!(e.starts_with("cannot decode body: sides: "), "{e}");
        assert!(e.contains("u32"), "{e}");
        let body =
            rmp_serde::to_vec_named(&serde_json::json!({"dice": [{"sides": 6}, {"sides": -1}]}))
                .unwrap();
        let e = decode_body::<Order>(&body).unwrap_err().to_string();
        assert!(e.starts_with("cannot decode body: dice[1].sides: "), "{e}");
        let e = decode_body::<Roll>(&encode_body(&serde_json::json!({})).unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing field `sides`"), "{e}");
        let e = decode_body::<Roll>(&encode_body(&7u8).unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("cannot decode body: invalid type"), "{e}");
    }

    #[test]
    fn an_empty_body_is_nil() {
        decode_body::<()>(&[]).unwrap();
        assert_eq!(decode_body::<Option<u8>>(&[]).unwrap(), None);
        assert!(decode_body::<Roll>(&[]).is_err());
    }
}
