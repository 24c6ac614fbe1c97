//! Envelope round trips and the decoder's refusal of bad payloads (examples and properties).

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use super::*;

fn request(id: u64, route: &str, body: &[u8]) -> Request {
    Request {
        id,
        route: route.into(),
        headers: Headers::new(),
        body: Bytes::copy_from_slice(body),
    }
}

#[test]
fn a_request_is_an_array_of_id_route_headers_and_bin_body() {
    let bytes = request(7, "echo", &[0xc0]).to_frame_bytes().unwrap();
    let expected = [
        0, 0, 0, 13, 0, 16, // length 13, kind REQUEST
        0x94, 0x07, 0xa4, b'e', b'c', b'h', b'o', 0x80, 0xc4, 0x01, 0xc0,
    ];
    assert_eq!(&bytes[..], &expected[..]);
}

#[test]
fn a_decoded_body_is_a_slice_of_the_frame_not_a_copy() {
    let frame = request(1, "r", b"abc").to_frame().unwrap();
    let decoded = Request::from_frame(&frame).unwrap();
    let start = frame.payload.as_ptr() as usize;
    let body = decoded.body.as_ptr() as usize;
    assert!(body >= start && body < start + frame.payload.len());
    assert_eq!(&decoded.body[..], b"abc");
}

#[test]
fn a_request_missing_its_body_is_a_decode_error_that_still_yields_its_id() {
    // [5, "echo", {}]: the body is missing.
    let payload = Bytes::from_static(&[0x93, 0x05, 0xa4, b'e', b'c', b'h', b'o', 0x80]);
    let err = Request::read_payload(&payload).unwrap_err();
    assert!(matches!(err, ProtocolError::Decode { .. }), "{err}");
    assert_eq!(err.code(), ErrorCode::Protocol);
    assert_eq!(peek_request_id(&payload), Some(5));
}

#[test]
fn trailing_bytes_after_an_envelope_are_refused() {
    let mut payload = BytesMut::new();
    Ping { nonce: 3 }.write_payload(&mut payload).unwrap();
    payload.extend_from_slice(&[0x00]);
    assert!(matches!(
        Ping::read_payload(&payload.freeze()),
        Err(ProtocolError::TrailingBytes { count: 1, .. })
    ));
    let mut payload = BytesMut::new();
    request(1, "r", b"x").write_payload(&mut payload).unwrap();
    payload.extend_from_slice(&[0x00]);
    assert!(matches!(
        Request::read_payload(&payload.freeze()),
        Err(ProtocolError::TrailingBytes { count: 1, .. })
    ));
}

#[test]
fn a_frame_of_another_kind_is_refused_by_kind() {
    let frame = Ping { nonce: 1 }.to_frame().unwrap();
    let err = Request::from_frame(&frame).unwrap_err();
    assert!(matches!(
        err,
        ProtocolError::UnexpectedKind {
            expected: 16,
            got: 4
        }
    ));
}

#[test]
fn an_error_frame_without_id_encodes_nil() {
    let frame = ErrorFrame::for_connection(ErrorCode::FrameTooLarge, "x")
        .to_frame()
        .unwrap();
    assert_eq!(&frame.payload[..], &[0x93, 0xc0, 0x66, 0xa1, b'x']);
    let back = ErrorFrame::from_frame(&frame).unwrap();
    assert_eq!(back.id, None);
    assert_eq!(back.code, ErrorCode::FrameTooLarge);
}

fn arb_headers() -> impl Strategy<Value = Headers> {
    proptest::collection::btree_map("[a-z-]{1,12}", ".{0,20}", 0..4).prop_map(|m| {
        let mut h = Headers::new();
        for (k, v) in m {
            h.insert(k, v);
        }
        h
    })
}

proptest! {
    #[test]
    fn requests_round_trip(id in any::<u64>(), route in ".{0,40}", headers in arb_headers(),
                           body in proptest::collection::vec(any::<u8>(), 0..300)) {
        let req = Request { id, route, headers, body: Bytes::from(body) };
        let frame = req.to_frame().unwrap();
        prop_assert_eq!(Request::from_frame(&frame).unwrap(), req);
    }

    #[test]
    fn responses_and_errors_round_trip(id in any::<u64>(), headers in arb_headers(),
                                       body in proptest::collection::vec(any::<u8>(), 0..300),
                                       code in any::<u16>(), message in ".{0,60}",
                                       has_id in any::<bool>()) {
        let resp = Response { id, headers, body: Bytes::from(body) };
        prop_assert_eq!(Response::from_frame(&resp.to_frame().unwrap()).unwrap(), resp);
        let err = ErrorFrame { id: has_id.then_some(id), code: ErrorCode::from(code), message };
        prop_assert_eq!(ErrorFrame::from_frame(&err.to_frame().unwrap()).unwrap(), err);
    }

    #[test]
    fn the_small_envelopes_round_trip(version in any::<u32>(), agent in ".{0,30}",
                                      max_frame in any::<u32>(), max_in_flight in any::<u32>(),
                                      nonce in any::<u64>(), reason in ".{0,40}") {
        let hello = Hello { version, agent, max_frame, max_in_flight };
        prop_assert_eq!(Hello::from_frame(&hello.to_frame().unwrap()).unwrap(), hello);
        let ping = Ping { nonce };
        prop_assert_eq!(Ping::from_frame(&ping.to_frame().unwrap()).unwrap(), ping);
        let pong = Pong { nonce };
        prop_assert_eq!(Pong::from_frame(&pong.to_frame().unwrap()).unwrap(), pong);
        let cancel = Cancel { id: nonce };
        prop_assert_eq!(Cancel::from_frame(&cancel.to_frame().unwrap()).unwrap(), cancel);
        let bye = Disconnect { reason };
        prop_assert_eq!(Disconnect::from_frame(&bye.to_frame().unwrap()).unwrap(), bye);
    }

    #[test]
    fn any_bytes_decode_to_frames_or_errors_never_a_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..512), max in 2usize..600) {
        let mut buf = BytesMut::from(&bytes[..]);
        while let Ok(Some(frame)) = decode_frame(&mut buf, max) {
            let _ = Request::from_frame(&frame);
            let _ = Response::from_frame(&frame);
            let _ = ErrorFrame::from_frame(&frame);
            let _ = Hello::from_frame(&frame);
            let _ = Ping::from_frame(&frame);
            let _ = peek_request_id(&frame.payload);
        }
    }

    #[test]
    fn any_payload_under_each_kind_decodes_or_errors(
        payload in proptest::collection::vec(any::<u8>(), 0..256)) {
        let payload = Bytes::from(payload);
        let _ = Request::read_payload(&payload);
        let _ = Response::read_payload(&payload);
        let _ = ErrorFrame::read_payload(&payload);
        let _ = Hello::read_payload(&payload);
        let _ = Disconnect::read_payload(&payload);
        let _ = Cancel::read_payload(&payload);
        let _ = peek_request_id(&payload);
    }
}
