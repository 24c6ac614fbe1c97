//! The connection and call envelopes: CONN (`Hello`), AUTH, AUTH_OK, DISCONN, PING, PONG,
//! REQUEST, RESPONSE, ERROR and CANCEL, each decoded, round-tripped and written every way the code can write it.
//!
//! Input: a frame without its length field, `kind: u16 BE | payload` (the vectors' frames from
//! byte 4 on). A kind this target does not know has its payload tried on every decoder here.
#![no_main]

use bytes::{Bytes, BytesMut};
use hubwire_core::protocol::{
    kind, peek_request_id, Auth, AuthOk, Cancel, Disconnect, Envelope, ErrorCode, ErrorFrame, Hello, Ping, Pong,
    Request, Response,
};
use hubwire_core::validate_route_key;
use hubwire_fuzz::round_trip;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((kind, payload)) = data.split_first_chunk::<2>() else {
        return;
    };
    let payload = Bytes::copy_from_slice(payload);
    match u16::from_be_bytes(*kind) {
        kind::CONN => hello(&payload),
        kind::AUTH => auth(&payload),
        kind::AUTH_OK => auth_ok(&payload),
        kind::DISCONN => disconnect(&payload),
        kind::PING => ping(&payload),
        kind::PONG => pong(&payload),
        kind::REQUEST => request(&payload),
        kind::RESPONSE => response(&payload),
        kind::ERROR => error(&payload),
        kind::CANCEL => cancel(&payload),
        _ => {
            hello(&payload);
            auth(&payload);
            auth_ok(&payload);
            disconnect(&payload);
            ping(&payload);
            pong(&payload);
            request(&payload);
            response(&payload);
            error(&payload);
            cancel(&payload);
        }
    }
});

fn hello(payload: &Bytes) {
    round_trip::<Hello>(kind::CONN, payload);
}

fn auth(payload: &Bytes) {
    round_trip::<Auth>(kind::AUTH, payload);
}

fn auth_ok(payload: &Bytes) {
    round_trip::<AuthOk>(kind::AUTH_OK, payload);
}

fn disconnect(payload: &Bytes) {
    round_trip::<Disconnect>(kind::DISCONN, payload);
}

fn ping(payload: &Bytes) {
    round_trip::<Ping>(kind::PING, payload);
}

fn pong(payload: &Bytes) {
    round_trip::<Pong>(kind::PONG, payload);
}

fn cancel(payload: &Bytes) {
    round_trip::<Cancel>(kind::CANCEL, payload);
}

fn error(payload: &Bytes) {
    if let Some(e) = round_trip::<ErrorFrame>(kind::ERROR, payload) {
        // A code from a newer peer is kept as its number, and writes back as it came.
        assert_eq!(ErrorCode::from(e.code.as_u16()), e.code);
        let _ = e.code.to_string();
    }
}

fn request(payload: &Bytes) {
    let peeked = peek_request_id(payload);
    let Some(request) = round_trip::<Request>(kind::REQUEST, payload) else {
        return;
    };
    // The id an error reply names is the id the request carries.
    assert_eq!(peeked, Some(request.id), "peek_request_id disagrees");
    let view = Request::view(payload).expect("read_payload worked");
    assert_eq!(
        (view.id, view.route, &view.headers, &view.body),
        (request.id, &*request.route, &request.headers, &request.body),
        "the in-place view disagrees with read_payload"
    );
    let _ = validate_route_key(&request.route);
    // Writing from parts (the client's path) gives the same bytes and the length it promised.
    let (id, route, headers, body) = (request.id, &request.route, &request.headers, &request.body);
    let mut parts = BytesMut::new();
    Request::write_frame_parts(&mut parts, id, route, headers, body).expect("the value encodes");
    assert_eq!(
        parts,
        request.to_frame_bytes().unwrap(),
        "write_frame_parts disagrees"
    );
    assert_eq!(
        Request::frame_length(id, route, headers, body),
        parts.len() - 4
    );
}

fn response(payload: &Bytes) {
    let Some(response) = round_trip::<Response>(kind::RESPONSE, payload) else {
        return;
    };
    // The server writes replies with their body encoded in place, after something else.
    let mut out = BytesMut::from(&b"before"[..]);
    Response::write_frame_with(&mut out, response.id, &response.headers, |out| {
        out.extend_from_slice(&response.body);
        Ok::<_, hubwire_core::protocol::ProtocolError>(())
    })
    .expect("the value encodes");
    assert_eq!(&out[..6], b"before");
    assert_eq!(
        out[6..],
        response.to_frame_bytes().unwrap(),
        "write_frame_with disagrees"
    );
}
