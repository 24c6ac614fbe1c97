//! The header map of REQUEST, RESPONSE, PUBLISH and MESSAGE, read by serde (`Headers:
//! Deserialize`) and by the protocol's one codec (`core/src/protocol/wire/`) in its two forms:
//! text as `str` or `bin` for the calls, `str` only for pub/sub. Where two readings accept the
//! same map they must agree, the call's form accepts whatever the pub/sub form does, and every
//! map read must keep its invariants: keys in order and each once, a repeated key's last value
//! kept.
//!
//! Input: a MessagePack map (the vectors' header maps, and anything else).
#![no_main]

use bytes::Bytes;
use hubwire_core::protocol::{Envelope, Headers, Publish, Response, DEADLINE_MS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let by_serde = rmp_serde::from_slice::<Headers>(data).ok();
    let by_call_codec = in_response(data);
    let by_pubsub = in_publish(data);
    for headers in [&by_serde, &by_call_codec, &by_pubsub]
        .into_iter()
        .flatten()
    {
        check(headers);
    }
    if let (Some(a), Some(b)) = (&by_serde, &by_call_codec) {
        assert_eq!(a, b, "serde and the call codec read the map differently");
    }
    // `str` only is the stricter form of the same reader.
    assert!(
        by_pubsub.is_none() || by_call_codec.is_some(),
        "the pub/sub form took a map the call form refused"
    );
    if let (Some(a), Some(b)) = (&by_call_codec, &by_pubsub) {
        assert_eq!(
            a, b,
            "the call codec and the pub/sub reader read the map differently"
        );
    }
});

/// `data` as the headers of `RESPONSE [0, data, bin ""]`.
fn in_response(data: &[u8]) -> Option<Headers> {
    let payload = [&[0x93, 0x00][..], data, &[0xc4, 0x00]].concat();
    Response::read_payload(&Bytes::from(payload))
        .ok()
        .map(|r| r.headers)
}

/// `data` as the headers of `PUBLISH ["a", 0, nil, data, bin ""]`.
fn in_publish(data: &[u8]) -> Option<Headers> {
    let payload = [&[0x95, 0xa1, b'a', 0x00, 0xc0][..], data, &[0xc4, 0x00]].concat();
    Publish::read_payload(&Bytes::from(payload))
        .ok()
        .map(|p| p.headers)
}

/// The map's invariants, and that it writes back as itself every way it is written.
fn check(headers: &Headers) {
    let mut count = 0;
    let mut previous: Option<&str> = None;
    for (key, value) in headers.iter() {
        assert!(
            previous.is_none_or(|p| p < key),
            "keys out of order or repeated"
        );
        assert_eq!(headers.get(key), Some(value), "get disagrees with iter");
        previous = Some(key);
        count += 1;
    }
    assert_eq!(count, headers.len());
    assert_eq!(headers.is_empty(), count == 0);
    let parsed = headers.get(DEADLINE_MS).and_then(|v| v.parse::<u64>().ok());
    assert_eq!(
        headers.deadline().map(|d| d.as_millis()),
        parsed.map(u128::from)
    );

    let by_serde = rmp_serde::to_vec(headers).expect("headers encode");
    assert_eq!(
        &rmp_serde::from_slice::<Headers>(&by_serde).unwrap(),
        headers
    );
    let response = Response {
        id: 0,
        headers: headers.clone(),
        body: Bytes::new(),
    };
    let frame = response.to_frame().expect("headers encode");
    assert_eq!(
        &Response::read_payload(&frame.payload).unwrap().headers,
        headers
    );
    // Both writers use the smallest form of every length, so they write the same bytes.
    assert_eq!(frame.payload[2..frame.payload.len() - 2], by_serde[..]);
}
