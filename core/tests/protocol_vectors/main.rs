//! The Rust codec against `docs/protocol-vectors.json`, the wire protocol v1 test vectors that
//! `docs/vectors/generate.py` builds from the protocol text with another MessagePack library.
//!
//! Valid vectors must decode to their fields and encode back to the same bytes; invalid ones must
//! be refused with the error code (and loss of framing) the vector names. The bridge proofs must
//! also be the MACs that section 11 of `docs/protocol.md` describes, for the inputs they give.

use std::collections::BTreeSet;
use std::fmt::Debug;

use bytes::{Bytes, BytesMut};
use hmac::{Hmac, Mac};
use hubwire_core::auth::Credentials;
use hubwire_core::bridge::auth::{LinkParties, Role};
use hubwire_core::bridge::{FullPart, HubId, Interest, InterestUpdate, LinkState};
use hubwire_core::protocol::{
    decode_datagram, decode_frame, kind, peek_request_id, Auth, AuthOk, BridgeChallenge,
    BridgeHello, BridgeMessage, BridgeProof, BridgeResync, Cancel, Compress, Disconnect, Envelope,
    ErrorCode, ErrorFrame, Frame, Headers, Hello, Message, MessageFlags, MessageTail, Nonce, Ping,
    Pong, ProtocolError, Publish, Refused, Request, Response, Subscribe, SubscriptionFlags,
    Subscriptions, Unsubscribe, LENGTH_BYTES, PROTOCOL_VERSION,
};
use hubwire_core::pubsub::{Channel, Pattern};
use serde_json::{Map, Value};

mod bridge;
mod work;

const VECTORS_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol-vectors.json");
const PROTOCOL_MD_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md");

/// The default maximum frame size of `docs/protocol.md`, used for the valid vectors.
const DEFAULT_MAX_FRAME: usize = 1024 * 1024;

/// The kinds that have an envelope, each of which needs at least one valid vector.
const ENVELOPE_KINDS: [u16; 24] = [
    kind::CONN,
    kind::AUTH,
    kind::AUTH_OK,
    kind::COMPRESS,
    kind::DISCONN,
    kind::PING,
    kind::PONG,
    kind::REQUEST,
    kind::RESPONSE,
    kind::ERROR,
    kind::CANCEL,
    kind::SUBSCRIBE,
    kind::UNSUBSCRIBE,
    kind::SUBSCRIPTIONS,
    kind::PUBLISH,
    kind::MESSAGE,
    kind::REFUSED,
    kind::BRIDGE_HELLO,
    kind::BRIDGE_CHALLENGE,
    kind::BRIDGE_PROOF,
    kind::BRIDGE_LINK_STATE,
    kind::BRIDGE_INTEREST,
    kind::BRIDGE_RESYNC,
    kind::BRIDGE_MESSAGE,
];

struct Vectors {
    valid: Vec<Map<String, Value>>,
    invalid: Vec<Map<String, Value>>,
}

fn load() -> Vectors {
    let text = std::fs::read_to_string(VECTORS_PATH)
        .unwrap_or_else(|e| panic!("cannot read {VECTORS_PATH}: {e}"));
    let doc: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{VECTORS_PATH} is not JSON: {e}"));
    assert_eq!(
        doc["version"].as_u64(),
        Some(u64::from(PROTOCOL_VERSION)),
        "vectors are for another protocol version"
    );
    let list = |key: &str| -> Vec<Map<String, Value>> {
        doc[key]
            .as_array()
            .unwrap_or_else(|| panic!("\"{key}\" is not an array"))
            .iter()
            .map(|v| v.as_object().expect("a vector is an object").clone())
            .collect()
    };
    Vectors {
        valid: list("valid"),
        invalid: list("invalid"),
    }
}

/// Typed access to one vector's JSON object, naming the vector in every failure.
struct Obj<'a> {
    vector: &'a str,
    map: &'a Map<String, Value>,
}

impl<'a> Obj<'a> {
    fn get(&self, key: &str) -> &'a Value {
        self.map
            .get(key)
            .unwrap_or_else(|| panic!("{}: no \"{key}\"", self.vector))
    }

    fn u64(&self, key: &str) -> u64 {
        self.get(key)
            .as_u64()
            .unwrap_or_else(|| panic!("{}: \"{key}\" is not an unsigned integer", self.vector))
    }

    fn u32(&self, key: &str) -> u32 {
        u32::try_from(self.u64(key))
            .unwrap_or_else(|_| panic!("{}: \"{key}\" is over u32", self.vector))
    }

    fn u16(&self, key: &str) -> u16 {
        u16::try_from(self.u64(key))
            .unwrap_or_else(|_| panic!("{}: \"{key}\" is over u16", self.vector))
    }

    fn opt_u64(&self, key: &str) -> Option<u64> {
        match self.get(key) {
            Value::Null => None,
            _ => Some(self.u64(key)),
        }
    }

    fn opt_str(&self, key: &str) -> Option<&'a str> {
        match self.get(key) {
            Value::Null => None,
            _ => Some(self.str(key)),
        }
    }

    fn u8(&self, key: &str) -> u8 {
        u8::try_from(self.u64(key))
            .unwrap_or_else(|_| panic!("{}: \"{key}\" is over u8", self.vector))
    }

    fn array(&self, key: &str) -> &'a Vec<Value> {
        self.get(key)
            .as_array()
            .unwrap_or_else(|| panic!("{}: \"{key}\" is not an array", self.vector))
    }

    fn channel(&self, key: &str) -> Channel {
        Channel::parse(self.str(key)).unwrap_or_else(|e| panic!("{}: \"{key}\": {e}", self.vector))
    }

    fn opt_channel(&self, key: &str) -> Option<Channel> {
        self.opt_str(key).map(|text| {
            Channel::parse(text).unwrap_or_else(|e| panic!("{}: \"{key}\": {e}", self.vector))
        })
    }

    /// Subscribe fields: `sid`, `pattern`, `group`, `flags`.
    fn subscribe(&self) -> Subscribe {
        self.has_exactly(&["sid", "pattern", "group", "flags"]);
        let pattern = Pattern::parse(self.str("pattern"))
            .unwrap_or_else(|e| panic!("{}: pattern: {e}", self.vector));
        let flags = match self.u8("flags") {
            0 => SubscriptionFlags::NONE,
            1 => SubscriptionFlags::NO_RETAINED,
            other => panic!("{}: subscription flags {other}", self.vector),
        };
        Subscribe {
            sid: self.u64("sid"),
            pattern,
            group: self.opt_str("group").map(str::to_owned),
            flags,
        }
    }

    fn str(&self, key: &str) -> &'a str {
        self.get(key)
            .as_str()
            .unwrap_or_else(|| panic!("{}: \"{key}\" is not a string", self.vector))
    }

    fn bool(&self, key: &str) -> bool {
        self.get(key)
            .as_bool()
            .unwrap_or_else(|| panic!("{}: \"{key}\" is not a boolean", self.vector))
    }

    fn hex(&self, key: &str) -> Vec<u8> {
        hex::decode(self.str(key))
            .unwrap_or_else(|e| panic!("{}: \"{key}\" is not hex: {e}", self.vector))
    }

    fn hub(&self, key: &str) -> HubId {
        HubId(self.u64(key))
    }

    fn nonce(&self, key: &str) -> Nonce {
        Nonce::try_from(self.hex(key))
            .unwrap_or_else(|b| panic!("{}: \"{key}\" is {} bytes, not 16", self.vector, b.len()))
    }

    /// The objects of array `key`, each as an [`Obj`] of this vector.
    fn objs(&self, key: &str) -> Vec<Obj<'a>> {
        let vector = self.vector;
        self.array(key)
            .iter()
            .map(|v| Obj {
                vector,
                map: v
                    .as_object()
                    .unwrap_or_else(|| panic!("{vector}: \"{key}\" holds a non-object")),
            })
            .collect()
    }

    /// Interest fields: `pattern`, `group`.
    fn interest(&self) -> Interest {
        self.has_exactly(&["pattern", "group"]);
        Interest {
            pattern: Pattern::parse(self.str("pattern"))
                .unwrap_or_else(|e| panic!("{}: pattern: {e}", self.vector)),
            group: self.opt_str("group").map(str::to_owned),
        }
    }

    fn interests(&self, key: &str) -> Vec<Interest> {
        self.objs(key).iter().map(Obj::interest).collect()
    }

    /// Publish fields: `channel`, `flags`, `reply_to`, `headers`, `body_hex`.
    fn publish(&self) -> Publish {
        self.has_exactly(&["channel", "flags", "reply_to", "headers", "body_hex"]);
        Publish {
            channel: self.channel("channel"),
            flags: message_flags(self.vector, self.u8("flags")),
            reply_to: self.opt_channel("reply_to"),
            headers: self.headers("headers"),
            body: Bytes::from(self.hex("body_hex")),
        }
    }

    fn obj(&self, key: &str) -> Obj<'a> {
        Obj {
            vector: self.vector,
            map: self
                .get(key)
                .as_object()
                .unwrap_or_else(|| panic!("{}: \"{key}\" is not an object", self.vector)),
        }
    }

    fn headers(&self, key: &str) -> Headers {
        let map = self.obj(key);
        let mut headers = Headers::new();
        for k in map.map.keys() {
            headers.insert(k.as_str(), map.str(k));
        }
        headers
    }

    /// Fails unless the object has exactly `keys`, so no field goes unchecked.
    fn has_exactly(&self, keys: &[&str]) {
        let found: BTreeSet<&str> = self.map.keys().map(String::as_str).collect();
        let wanted: BTreeSet<&str> = keys.iter().copied().collect();
        assert_eq!(found, wanted, "{}: fields", self.vector);
    }
}

fn obj(map: &Map<String, Value>) -> Obj<'_> {
    let vector = map
        .get("name")
        .and_then(Value::as_str)
        .expect("every vector has a name");
    Obj { vector, map }
}

/// Decodes `frame` as `E`, checks it equals `expected`, and returns its bytes encoded again.
fn decode_and_encode<E: Envelope + PartialEq + Debug>(
    vector: &str,
    frame: &Frame,
    expected: E,
) -> Bytes {
    let decoded = E::from_frame(frame).unwrap_or_else(|e| panic!("{vector}: {e}"));
    assert_eq!(decoded, expected, "{vector}: decoded fields");
    decoded
        .to_frame_bytes()
        .unwrap_or_else(|e| panic!("{vector}: cannot encode: {e}"))
}

/// Decodes a valid vector's frame with the envelope of its kind against its "fields", and
/// returns the envelope encoded again.
fn check_fields(v: &Obj<'_>, frame: &Frame) -> Bytes {
    let f = v.obj("fields");
    let name = v.vector;
    match frame.kind {
        kind::CONN => {
            f.has_exactly(&["version", "agent", "max_frame", "max_in_flight"]);
            let expected = Hello {
                version: f.u32("version"),
                agent: f.str("agent").to_owned(),
                max_frame: f.u32("max_frame"),
                max_in_flight: f.u32("max_in_flight"),
            };
            decode_and_encode(name, frame, expected)
        }
        kind::AUTH => {
            f.has_exactly(&["user", "password", "token"]);
            let text = |key: &str| f.get(key).as_str().map(str::to_owned);
            let expected = Auth {
                credentials: Credentials {
                    user: text("user"),
                    password: text("password"),
                    token: text("token"),
                },
            };
            decode_and_encode(name, frame, expected)
        }
        kind::AUTH_OK => {
            f.has_exactly(&["user"]);
            let expected = AuthOk {
                user: f.str("user").to_owned(),
            };
            decode_and_encode(name, frame, expected)
        }
        kind::COMPRESS => {
            f.has_exactly(&["algorithms"]);
            let names = f
                .get("algorithms")
                .as_array()
                .expect("algorithms is a list");
            let expected = Compress {
                algorithms: names
                    .iter()
                    .map(|n| n.as_str().expect("a name").to_owned())
                    .collect(),
            };
            decode_and_encode(name, frame, expected)
        }
        kind::DISCONN => {
            f.has_exactly(&["reason"]);
            let expected = Disconnect {
                reason: f.str("reason").to_owned(),
            };
            decode_and_encode(name, frame, expected)
        }
        kind::PING => {
            f.has_exactly(&["nonce"]);
            decode_and_encode(
                name,
                frame,
                Ping {
                    nonce: f.u64("nonce"),
                },
            )
        }
        kind::PONG => {
            f.has_exactly(&["nonce"]);
            decode_and_encode(
                name,
                frame,
                Pong {
                    nonce: f.u64("nonce"),
                },
            )
        }
        kind::CANCEL => {
            f.has_exactly(&["id"]);
            decode_and_encode(name, frame, Cancel { id: f.u64("id") })
        }
        kind::ERROR => {
            f.has_exactly(&["id", "code", "message"]);
            let expected = ErrorFrame {
                id: f.opt_u64("id"),
                code: ErrorCode::from(f.u16("code")),
                message: f.str("message").to_owned(),
            };
            decode_and_encode(name, frame, expected)
        }
        kind::REQUEST => {
            f.has_exactly(&["id", "route", "headers", "body_hex"]);
            let expected = Request {
                id: f.u64("id"),
                route: f.str("route").to_owned(),
                headers: f.headers("headers"),
                body: Bytes::from(f.hex("body_hex")),
            };
            decode_and_encode(name, frame, expected)
        }
        kind::RESPONSE => {
            f.has_exactly(&["id", "headers", "body_hex"]);
            let expected = Response {
                id: f.u64("id"),
                headers: f.headers("headers"),
                body: Bytes::from(f.hex("body_hex")),
            };
            decode_and_encode(name, frame, expected)
        }
        kind::SUBSCRIBE => decode_and_encode(name, frame, f.subscribe()),
        kind::UNSUBSCRIBE => {
            f.has_exactly(&["sid"]);
            decode_and_encode(name, frame, Unsubscribe { sid: f.u64("sid") })
        }
        kind::SUBSCRIPTIONS => {
            f.has_exactly(&["subscriptions"]);
            let subscriptions = f
                .array("subscriptions")
                .iter()
                .map(|entry| {
                    let map = entry.as_object().expect("a subscription is an object");
                    Obj { vector: name, map }.subscribe()
                })
                .collect();
            decode_and_encode(name, frame, Subscriptions { subscriptions })
        }
        kind::PUBLISH => decode_and_encode(name, frame, f.publish()),
        kind::MESSAGE => {
            f.has_exactly(&[
                "sids", "channel", "flags", "reply_to", "headers", "body_hex",
            ]);
            let sids: Vec<u64> = f
                .array("sids")
                .iter()
                .map(|v| v.as_u64().expect("a sid is an unsigned integer"))
                .collect();
            let expected = Message {
                sids,
                channel: f.channel("channel"),
                flags: message_flags(name, f.u8("flags")),
                reply_to: f.opt_channel("reply_to"),
                headers: f.headers("headers"),
                body: Bytes::from(f.hex("body_hex")),
            };
            let encoded = decode_and_encode(name, frame, expected.clone());
            // The hub's way of writing it: the tail once, then the sids per connection.
            let tail = MessageTail::new(
                &expected.channel,
                expected.flags,
                expected.reply_to.as_ref(),
                &expected.headers,
                expected.body.clone(),
            )
            .unwrap_or_else(|e| panic!("{name}: tail: {e}"));
            let mut by_tail = BytesMut::new();
            tail.write_frame(&expected.sids, &mut by_tail)
                .unwrap_or_else(|e| panic!("{name}: tail: {e}"));
            assert_eq!(by_tail, encoded, "{name}: written from a MessageTail");
            encoded
        }
        kind::REFUSED => {
            f.has_exactly(&["sid", "code", "message"]);
            let expected = Refused {
                sid: f.opt_u64("sid"),
                code: ErrorCode::from(f.u16("code")),
                message: f.str("message").to_owned(),
            };
            decode_and_encode(name, frame, expected)
        }
        k if kind::BRIDGE_RANGE.contains(&k) => bridge::check_bridge_fields(&f, frame),
        k if work::WORK_KINDS.contains(&k) => work::check_work_fields(&f, frame),
        other => panic!("{name}: kind {other} has no envelope"),
    }
}

/// The flags of a vector, built from the named flags so an unnamed bit cannot slip through.
fn message_flags(vector: &str, bits: u8) -> MessageFlags {
    let flags = MessageFlags::EACH
        .into_iter()
        .filter(|f| bits & f.bits() != 0)
        .fold(MessageFlags::NONE, |acc, f| acc | f);
    assert_eq!(
        flags.bits(),
        bits,
        "{vector}: flags {bits:#x} has an unnamed bit"
    );
    flags
}

/// Reads a frame's payload with the envelope of its kind, keeping only the error.
fn read_payload_of_kind(frame: &Frame) -> Result<(), ProtocolError> {
    match frame.kind {
        kind::CONN => Hello::from_frame(frame).map(drop),
        kind::DISCONN => Disconnect::from_frame(frame).map(drop),
        kind::AUTH => Auth::from_frame(frame).map(drop),
        kind::AUTH_OK => AuthOk::from_frame(frame).map(drop),
        kind::COMPRESS => Compress::from_frame(frame).map(drop),
        kind::PING => Ping::from_frame(frame).map(drop),
        kind::PONG => Pong::from_frame(frame).map(drop),
        kind::CANCEL => Cancel::from_frame(frame).map(drop),
        kind::ERROR => ErrorFrame::from_frame(frame).map(drop),
        kind::REQUEST => Request::from_frame(frame).map(drop),
        kind::RESPONSE => Response::from_frame(frame).map(drop),
        kind::SUBSCRIBE => Subscribe::from_frame(frame).map(drop),
        kind::UNSUBSCRIBE => Unsubscribe::from_frame(frame).map(drop),
        kind::SUBSCRIPTIONS => Subscriptions::from_frame(frame).map(drop),
        kind::PUBLISH => Publish::from_frame(frame).map(drop),
        kind::MESSAGE => Message::from_frame(frame).map(drop),
        kind::REFUSED => Refused::from_frame(frame).map(drop),
        kind::BRIDGE_HELLO => BridgeHello::from_frame(frame).map(drop),
        kind::BRIDGE_CHALLENGE => BridgeChallenge::from_frame(frame).map(drop),
        kind::BRIDGE_PROOF => BridgeProof::from_frame(frame).map(drop),
        kind::BRIDGE_LINK_STATE => LinkState::from_frame(frame).map(drop),
        kind::BRIDGE_INTEREST => InterestUpdate::from_frame(frame).map(drop),
        kind::BRIDGE_RESYNC => BridgeResync::from_frame(frame).map(drop),
        kind::BRIDGE_MESSAGE => BridgeMessage::from_frame(frame).map(drop),
        k if work::WORK_KINDS.contains(&k) => work::read_work_payload(frame),
        other => panic!("kind {other} has no envelope"),
    }
}

/// The one whole frame in `bytes`, read with `max_frame`; nothing may be left over.
fn only_frame(name: &str, bytes: &[u8], max_frame: usize) -> Result<Frame, ProtocolError> {
    let mut buf = BytesMut::from(bytes);
    let frame = decode_frame(&mut buf, max_frame)?
        .unwrap_or_else(|| panic!("{name}: the bytes do not hold a whole frame"));
    assert!(buf.is_empty(), "{name}: bytes left after the frame");
    Ok(frame)
}

/// Guards the encodings: every valid vector decodes to its fields and encodes back byte for byte.
#[test]
fn valid_vectors_decode_to_their_fields_and_encode_back_byte_for_byte() {
    let vectors = load();
    assert!(!vectors.valid.is_empty(), "no valid vectors");
    for map in &vectors.valid {
        let v = obj(map);
        let bytes = v.hex("hex");
        let frame = only_frame(v.vector, &bytes, DEFAULT_MAX_FRAME)
            .unwrap_or_else(|e| panic!("{}: {e}", v.vector));
        assert_eq!(frame.kind, v.u16("kind"), "{}: kind", v.vector);
        let encoded = check_fields(&v, &frame);
        assert_eq!(
            hex::encode(&encoded),
            v.str("hex"),
            "{}: encoded bytes",
            v.vector
        );
    }
}

/// Guards the decoders' refusals: every invalid vector fails with its code and framing loss.
#[test]
fn invalid_vectors_are_refused_with_their_error_code() {
    let vectors = load();
    assert!(!vectors.invalid.is_empty(), "no invalid vectors");
    for map in &vectors.invalid {
        let v = obj(map);
        let bytes = v.hex("hex");
        let max_frame = usize::try_from(v.u64("max_frame")).expect("max_frame fits usize");
        let err = match only_frame(v.vector, &bytes, max_frame) {
            Err(frame_error) => frame_error,
            Ok(frame) => {
                if v.map.contains_key("request_id") {
                    assert_eq!(frame.kind, kind::REQUEST, "{}: request_id", v.vector);
                    assert_eq!(
                        peek_request_id(&frame.payload),
                        v.opt_u64("request_id"),
                        "{}: the id an ERROR reply names",
                        v.vector
                    );
                }
                match read_payload_of_kind(&frame) {
                    Err(payload_error) => {
                        if v.map.contains_key("sid") {
                            let answer =
                                Refused::for_error(frame.kind, &frame.payload, &payload_error);
                            assert_eq!(
                                answer.sid,
                                v.opt_u64("sid"),
                                "{}: the sid a REFUSED answer names",
                                v.vector
                            );
                            assert_eq!(answer.code, payload_error.code(), "{}", v.vector);
                        }
                        payload_error
                    }
                    Ok(()) => panic!("{}: decoded, but the vector is invalid", v.vector),
                }
            }
        };
        assert_eq!(
            err.code().name(),
            v.str("error"),
            "{}: error code ({err})",
            v.vector
        );
        assert_eq!(
            err.loses_framing(),
            v.bool("framing_lost"),
            "{}: framing lost ({err})",
            v.vector
        );
    }
}

/// Guards the vector file itself: no envelope kind can silently lose its valid vectors.
#[test]
fn every_envelope_kind_has_a_valid_vector() {
    let vectors = load();
    let kinds: BTreeSet<u16> = vectors.valid.iter().map(|m| obj(m).u16("kind")).collect();
    for k in ENVELOPE_KINDS.into_iter().chain(work::WORK_KINDS) {
        assert!(
            kinds.contains(&k),
            "no valid vector of kind {k} ({})",
            kind::name(k)
        );
    }
    let framing: BTreeSet<bool> = vectors
        .invalid
        .iter()
        .map(|m| obj(m).bool("framing_lost"))
        .collect();
    assert_eq!(
        framing.len(),
        2,
        "invalid vectors need both frame-level and payload-level cases"
    );
}

/// Guards framing on every transport: the valid frames read back in order from one stream
/// buffer, each one alone as a datagram, and `max_frame` bounds the length field exactly.
#[test]
fn valid_frames_read_from_one_stream_as_datagrams_and_up_to_max_frame() {
    let vectors = load();
    let frames: Vec<(String, Vec<u8>)> = vectors
        .valid
        .iter()
        .map(|m| (obj(m).vector.to_owned(), obj(m).hex("hex")))
        .collect();
    let mut stream = BytesMut::new();
    for (_, bytes) in &frames {
        stream.extend_from_slice(bytes);
    }
    for (name, bytes) in &frames {
        let frame = decode_frame(&mut stream, DEFAULT_MAX_FRAME)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .unwrap_or_else(|| panic!("{name}: missing from the stream"));
        let alone = decode_datagram(bytes, DEFAULT_MAX_FRAME)
            .unwrap_or_else(|e| panic!("{name} as a datagram: {e}"));
        assert_eq!(frame, alone, "{name}");

        let length = bytes.len() - LENGTH_BYTES;
        assert!(
            only_frame(name, bytes, length).is_ok(),
            "{name}: length == max_frame"
        );
        let mut buf = BytesMut::from(&bytes[..]);
        let err = decode_frame(&mut buf, length - 1).expect_err("length over max_frame");
        assert_eq!(err.code(), ErrorCode::FrameTooLarge, "{name}");
        assert!(err.loses_framing(), "{name}");
    }
    assert!(stream.is_empty(), "bytes left after the last frame");
}

/// Guards the worked example: the bytes shown in `docs/protocol.md` are those of the vectors.
#[test]
fn the_worked_example_in_protocol_md_matches_the_vectors() {
    let doc = std::fs::read_to_string(PROTOCOL_MD_PATH)
        .unwrap_or_else(|e| panic!("cannot read {PROTOCOL_MD_PATH}: {e}"));
    let vectors = load();
    for name in [
        "request-echo",
        "response-echo",
        "publish-call",
        "message-call",
        "message-ack-and-reply",
        "message-no-responders",
        "bridge-hello",
        "bridge-proof-dialer",
        "bridge-message-plain",
        "bridge-interest-full-last-part",
        "work-deliver",
    ] {
        let v = vectors
            .valid
            .iter()
            .map(obj)
            .find(|v| v.vector == name)
            .unwrap_or_else(|| panic!("no valid vector {name}"));
        assert!(
            doc.contains(v.str("hex")),
            "docs/protocol.md does not show the bytes of vector {name}: {}",
            v.str("hex")
        );
    }
}
