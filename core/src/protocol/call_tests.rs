//! The REQUEST and RESPONSE codec against rmp-serde's, which wrote these envelopes before (and
//! which the protocol vectors were checked against), and what the decoder accepted before.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use serde::Serialize;

use super::frame::LENGTH_BYTES;
use super::*;

#[derive(Serialize)]
struct RequestWire<'a> {
    id: u64,
    route: &'a str,
    headers: &'a Headers,
    #[serde(with = "serde_bytes")]
    body: &'a [u8],
}

#[derive(Serialize)]
struct ResponseWire<'a> {
    id: u64,
    headers: &'a Headers,
    #[serde(with = "serde_bytes")]
    body: &'a [u8],
}

fn rmp_serde_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    rmp_serde::to_vec(value).unwrap()
}

fn arb_headers() -> impl Strategy<Value = Headers> {
    let key = prop_oneof![Just(DEADLINE_MS.to_owned()), "[a-z-]{1,40}"];
    proptest::collection::btree_map(key, ".{0,40}", 0..20).prop_map(|m| {
        let mut h = Headers::new();
        for (k, v) in m {
            h.insert(k, v);
        }
        h
    })
}

fn arb_id() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..300, 60_000u64..70_000, any::<u64>()]
}

proptest! {
    #[test]
    fn requests_are_written_as_rmp_serde_writes_them(
        id in arb_id(), route in ".{0,300}", headers in arb_headers(),
        body in proptest::collection::vec(any::<u8>(), 0..70_000)) {
        let expected = rmp_serde_bytes(&RequestWire { id, route: &route, headers: &headers, body: &body });
        let request = Request { id, route: route.clone(), headers: headers.clone(), body: Bytes::from(body.clone()) };
        let frame = request.to_frame().unwrap();
        prop_assert_eq!(&frame.payload[..], &expected[..]);
        let mut parts = BytesMut::new();
        Request::write_frame_parts(&mut parts, id, &route, &headers, &body).unwrap();
        prop_assert_eq!(&parts[..], &request.to_frame_bytes().unwrap()[..]);
        prop_assert_eq!(
            Request::frame_length(id, &route, &headers, &body),
            parts.len() - LENGTH_BYTES
        );
        let view = Request::view(&frame.payload).unwrap();
        prop_assert_eq!((view.id, view.route, &view.headers, &view.body[..]), (id, &route[..], &headers, &body[..]));
    }

    #[test]
    fn responses_are_written_as_rmp_serde_writes_them(
        id in arb_id(), headers in arb_headers(),
        body in proptest::collection::vec(any::<u8>(), 0..70_000)) {
        let expected = rmp_serde_bytes(&ResponseWire { id, headers: &headers, body: &body });
        let response = Response { id, headers: headers.clone(), body: Bytes::from(body.clone()) };
        prop_assert_eq!(&response.to_frame().unwrap().payload[..], &expected[..]);
        let mut with = BytesMut::from(&b"before"[..]);
        Response::write_frame_with(&mut with, id, &headers, |out| {
            out.extend_from_slice(&body);
            Ok::<(), ProtocolError>(())
        })
        .unwrap();
        prop_assert_eq!(&with[..6], b"before");
        prop_assert_eq!(&with[6..], &response.to_frame_bytes().unwrap()[..]);
    }
}

#[test]
fn a_failed_body_leaves_nothing_behind() {
    let mut out = BytesMut::from(&b"kept"[..]);
    let err = Response::write_frame_with(&mut out, 1, &Headers::new(), |out| {
        out.extend_from_slice(b"partial");
        Err(ProtocolError::TrailingBytes { kind: 0, count: 0 })
    });
    assert!(err.is_err());
    assert_eq!(&out[..], b"kept");
}

#[test]
fn ids_in_any_integer_form_are_read_and_negative_ones_refused() {
    // [id, "r", {}, bin ""] with the id as int8 5, uint16 5, and int8 -1.
    for (id, expected) in [
        (&[0xd0, 5][..], Some(5)),
        (&[0xcd, 0, 5][..], Some(5)),
        (&[0xd3, 0, 0, 0, 0, 0, 0, 0, 9][..], Some(9)),
        (&[0xd0, 0xff][..], None),
        (&[0xff][..], None),
        (&[0xc0][..], None),
    ] {
        let mut payload = vec![0x94];
        payload.extend_from_slice(id);
        payload.extend_from_slice(&[0xa1, b'r', 0x80, 0xc4, 0]);
        let read = Request::read_payload(&Bytes::from(payload))
            .ok()
            .map(|r| r.id);
        assert_eq!(read, expected, "{id:x?}");
    }
}

#[test]
fn text_may_come_as_bin_and_bodies_as_str_as_before() {
    // [1, bin "r", {str "a": bin "b"}, str "x"]
    let payload = [
        0x94, 1, 0xc4, 1, b'r', 0x81, 0xa1, b'a', 0xc4, 1, b'b', 0xa1, b'x',
    ];
    let request = Request::read_payload(&Bytes::copy_from_slice(&payload)).unwrap();
    assert_eq!(request.route, "r");
    assert_eq!(request.headers.get("a"), Some("b"));
    assert_eq!(&request.body[..], b"x");
    // A route that is not UTF-8 is refused.
    let bad = [0x94, 1, 0xc4, 1, 0xff, 0x80, 0xc4, 0];
    assert!(Request::read_payload(&Bytes::copy_from_slice(&bad)).is_err());
}
