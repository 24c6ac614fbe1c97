#!/usr/bin/env python3
"""Builds docs/protocol-vectors.json, the test vectors of hubwire wire protocol v1.

The vectors are made here, from the text of docs/protocol.md, with the `msgpack` package from
PyPI (and the standard library's `hmac` and `hashlib` for the bridge proofs), and never from the
Rust code: the Rust test core/tests/protocol_vectors/ then checks that the Rust decoders read
every valid vector to the same fields, write them back byte for byte, and refuse every invalid
one with the expected error. Two independent implementations agreeing is the point, so do not
copy bytes out of the Rust code into this file.

Usage (Python 3.11+, `pip install msgpack`):

    python3 docs/vectors/generate.py           # rewrite docs/protocol-vectors.json
    python3 docs/vectors/generate.py --check   # exit 1 if the file is not what this script makes
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import struct
import sys
from pathlib import Path
from typing import Any

import msgpack

OUTPUT = Path(__file__).resolve().parent.parent / "protocol-vectors.json"

PROTOCOL_VERSION = 1
DEFAULT_MAX_FRAME = 1024 * 1024

# Frame kinds (docs/protocol.md, "Frame kinds").
CONN, DISCONN, PING, PONG = 1, 2, 4, 5
AUTH, AUTH_OK = 7, 8
REQUEST, RESPONSE, ERROR, CANCEL = 16, 17, 18, 19
SUBSCRIBE, UNSUBSCRIBE, SUBSCRIPTIONS, PUBLISH, MESSAGE, REFUSED = 32, 33, 34, 35, 36, 37
BRIDGE_HELLO, BRIDGE_CHALLENGE, BRIDGE_PROOF, LINK_STATE = 64, 65, 66, 67
BRIDGE_INTEREST, BRIDGE_RESYNC, BRIDGE_MESSAGE = 68, 69, 70
# The network work queue (docs/protocol.md, section 12).
STATUS, ENQUEUE = 3, 6
ENQUEUED, TAKE, TAKEN, DELIVER, WORK_ACK, NACK, REJECT, PROGRESS = 96, 97, 98, 99, 100, 101, 102, 103
SEND_ALL, BROADCAST = 0x01, 0x01  # ENQUEUE and DELIVER flags

# Pub/sub flags (docs/protocol.md, "Pub/sub", "Flags").
NO_ECHO, RETAIN, REQUEST_FLAG, ACK, REPLY, ERROR_FLAG, RETAINED = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40
NO_RETAINED = 0x01  # subscription flag

# A spoke's reply inbox: `_inbox/<32 hex digits of a random 128-bit token>/<call number>`.
INBOX = "_inbox/" + "5f3a" * 8

# The admission example of docs/protocol.md, "The proof" (11.3): the shared secret, the dialer's
# and the listener's hub ids and 16-byte nonces, and the name the dialer gives itself.
BRIDGE_SECRET = "correct horse battery"
DIALER_HUB, DIALER_NONCE = 0x0123456789ABCDEF, bytes(range(0x00, 0x10))
LISTENER_HUB, LISTENER_NONCE = 0xFEDCBA9876543210, bytes(range(0xF0, 0x100))
DIALER_NAME = "tcp://10.0.0.1:7400"


def pack(value: Any) -> bytes:
    """MessagePack as the protocol writes it: smallest integer forms, str for text, bin for bytes."""
    return msgpack.packb(value, use_bin_type=True)


def frame(kind: int, payload: bytes) -> bytes:
    """`length: u32 BE | kind: u16 BE | payload`, where length counts the kind and the payload."""
    return struct.pack(">IH", 2 + len(payload), kind) + payload


def headers_map(headers: dict[str, str]) -> dict[str, str]:
    """Headers in key order (by UTF-8 bytes), the order the reference encoder writes them in."""
    return dict(sorted(headers.items(), key=lambda kv: kv[0].encode()))


# --- valid vectors ------------------------------------------------------------------------------


def hello(name: str, version: int, agent: str, max_frame: int, max_in_flight: int) -> dict:
    payload = pack([version, agent, max_frame, max_in_flight])
    fields = {"version": version, "agent": agent, "max_frame": max_frame, "max_in_flight": max_in_flight}
    return valid(name, CONN, payload, fields)


def auth(name: str, user: str | None, password: str | None, token: str | None) -> dict:
    payload = pack([user, password, token])
    return valid(name, AUTH, payload, {"user": user, "password": password, "token": token})


def auth_ok(name: str, user: str) -> dict:
    return valid(name, AUTH_OK, pack([user]), {"user": user})


def disconnect(name: str, reason: str) -> dict:
    return valid(name, DISCONN, pack([reason]), {"reason": reason})


def ping(name: str, kind: int, nonce: int) -> dict:
    return valid(name, kind, pack([nonce]), {"nonce": nonce})


def cancel(name: str, request_id: int) -> dict:
    return valid(name, CANCEL, pack([request_id]), {"id": request_id})


def error(name: str, request_id: int | None, code: int, message: str) -> dict:
    payload = pack([request_id, code, message])
    return valid(name, ERROR, payload, {"id": request_id, "code": code, "message": message})


def request(name: str, request_id: int, route: str, headers: dict[str, str], body: bytes) -> dict:
    headers = headers_map(headers)
    payload = pack([request_id, route, headers, body])
    fields = {"id": request_id, "route": route, "headers": headers, "body_hex": body.hex()}
    return valid(name, REQUEST, payload, fields)


def response(name: str, request_id: int, headers: dict[str, str], body: bytes) -> dict:
    headers = headers_map(headers)
    payload = pack([request_id, headers, body])
    fields = {"id": request_id, "headers": headers, "body_hex": body.hex()}
    return valid(name, RESPONSE, payload, fields)


def sub_entry(sid: int, pattern: str, group: str | None, flags: int) -> list:
    return [sid, pattern, group, flags]


def sub_fields(sid: int, pattern: str, group: str | None, flags: int) -> dict:
    return {"sid": sid, "pattern": pattern, "group": group, "flags": flags}


def subscribe(name: str, sid: int, pattern: str, group: str | None, flags: int) -> dict:
    payload = pack(sub_entry(sid, pattern, group, flags))
    return valid(name, SUBSCRIBE, payload, sub_fields(sid, pattern, group, flags))


def unsubscribe(name: str, sid: int) -> dict:
    return valid(name, UNSUBSCRIBE, pack([sid]), {"sid": sid})


def subscriptions(name: str, entries: list[tuple]) -> dict:
    payload = pack([[sub_entry(*e) for e in entries]])
    return valid(name, SUBSCRIPTIONS, payload, {"subscriptions": [sub_fields(*e) for e in entries]})


def publish(name: str, channel: str, flags: int, reply_to: str | None, headers: dict[str, str], body: bytes) -> dict:
    headers = headers_map(headers)
    payload = pack([channel, flags, reply_to, headers, body])
    fields = {"channel": channel, "flags": flags, "reply_to": reply_to, "headers": headers, "body_hex": body.hex()}
    return valid(name, PUBLISH, payload, fields)


def message(
    name: str, sids: list[int], channel: str, flags: int, reply_to: str | None, headers: dict[str, str], body: bytes
) -> dict:
    headers = headers_map(headers)
    payload = pack([sids, channel, flags, reply_to, headers, body])
    fields = {
        "sids": sids,
        "channel": channel,
        "flags": flags,
        "reply_to": reply_to,
        "headers": headers,
        "body_hex": body.hex(),
    }
    return valid(name, MESSAGE, payload, fields)


def refused(name: str, sid: int | None, code: int, message_text: str) -> dict:
    payload = pack([sid, code, message_text])
    return valid(name, REFUSED, payload, {"sid": sid, "code": code, "message": message_text})


def reply_error(code: int, message_text: str) -> bytes:
    """The body of an answer with the ERROR flag: `[code, message]`."""
    return pack([code, message_text])


def valid(name: str, kind: int, payload: bytes, fields: dict) -> dict:
    # The payload must read back as exactly one MessagePack value (strict: no trailing bytes).
    msgpack.unpackb(payload, raw=False, strict_map_key=True)
    return {"name": name, "kind": kind, "hex": frame(kind, payload).hex(), "fields": fields}


def body(value: Any) -> bytes:
    """A route's request or reply value as a body: MessagePack, structs as maps by field name."""
    return pack(value)


def valid_vectors() -> list[dict]:
    echo_body = body({"message": "hi"})
    big_id = (1 << 40) + 5  # over 2^32: written as uint 64 (0xcf)
    big_body = bytes(i % 256 for i in range(300))  # 300 bytes: bin 16 (0xc5)
    return [
        hello("conn-client", PROTOCOL_VERSION, "hubwire-client/0.1.0", DEFAULT_MAX_FRAME, 0),
        hello("conn-server", PROTOCOL_VERSION, "hubwire-server/0.1.0", DEFAULT_MAX_FRAME, 256),
        auth("auth-password", "alice", "wonderland", None),
        auth("auth-token", None, None, "0123456789abcdef0123456789abcdef"),
        auth_ok("auth-ok", "alice"),
        disconnect("disconn-shutting-down", "shutting down"),
        ping("ping", PING, 42),
        ping("ping-max-nonce", PING, (1 << 64) - 1),
        ping("pong", PONG, 42),
        cancel("cancel", 7),
        error("error-for-request", 7, 400, 'no handler for route "dice.rol"'),
        error(
            "error-for-connection",
            None,
            102,
            "frame length 2000000 is over the maximum of 1048576 bytes",
        ),
        error("error-unknown-code", 9, 4242, "a code from a newer peer"),
        request("request-echo", 1, "echo", {}, echo_body),
        request(
            "request-with-headers",
            2,
            "dice.roll",
            {
                "deadline-ms": "1500",
                "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "idempotency-key": "order-2024-0001",
            },
            body({"sides": 6}),
        ),
        request("request-empty-body", 3, "health", {}, b""),
        request("request-large-id-bin16-body", big_id, "blob.put", {}, big_body),
        response("response-echo", 1, {}, echo_body),
        response("response-with-unknown-header", 2, {"x-handled-by": "node-a"}, body({"result": 4})),
        response("response-nil-body", 3, {}, body(None)),
    ] + pubsub_valid_vectors() + bridge_valid_vectors() + work_valid_vectors()


def pubsub_valid_vectors() -> list[dict]:
    temp = body(21.5)  # float 64
    call_reply_to = INBOX + "/7"
    no_responders = reply_error(400, 'no responders: nothing subscribes to channel "svc/dice/roll"')
    return [
        subscribe("subscribe", 1, "sensors/*/temp", None, 0),
        subscribe("subscribe-queue-group", 2, "svc/dice/roll", "dice-workers", 0),
        subscribe("subscribe-no-retained-large-sid", 70000, "**", None, NO_RETAINED),
        unsubscribe("unsubscribe", 1),
        subscriptions(
            "subscriptions-after-connect",
            [
                (1, "sensors/*/temp", None, 0),
                (2, "svc/dice/roll", "dice-workers", 0),
                (3, INBOX + "/*", None, NO_RETAINED),
            ],
        ),
        subscriptions("subscriptions-none", []),
        publish("publish", "sensors/kitchen/temp", 0, None, {}, temp),
        publish("publish-retain-no-echo", "sensors/kitchen/temp", RETAIN | NO_ECHO, None, {}, temp),
        publish("publish-retain-empty-clears", "sensors/kitchen/temp", RETAIN, None, {}, b""),
        publish(
            "publish-call",
            "svc/dice/roll",
            REQUEST_FLAG,
            call_reply_to,
            {"deadline-ms": "1500"},
            body({"sides": 6}),
        ),
        publish("publish-ack", call_reply_to, ACK, None, {}, b""),
        publish("publish-ack-and-reply", call_reply_to, ACK | REPLY, None, {}, body(4)),
        publish("publish-error-reply", call_reply_to, ERROR_FLAG, None, {}, reply_error(600, "dice jammed")),
        message("message", [1], "sensors/kitchen/temp", 0, None, {}, temp),
        message("message-many-sids", [1, 5, 300], "sensors/kitchen/temp", 0, None, {"traceparent": "00-ab-cd-01"}, temp),
        message("message-retained", [1], "sensors/kitchen/temp", RETAINED, None, {}, temp),
        message("message-call", [2], "svc/dice/roll", REQUEST_FLAG, call_reply_to, {"deadline-ms": "1500"}, body({"sides": 6})),
        message("message-ack-and-reply", [3], call_reply_to, ACK | REPLY, None, {}, body(4)),
        message("message-no-responders", [3], call_reply_to, ERROR_FLAG, None, {}, no_responders),
        refused("refused-subscription", 9, 300, 'SUBSCRIBE not applied (subscription 9): invalid pattern'),
        refused("refused-publish", None, 300, "PUBLISH not applied: invalid channel"),
    ]


# --- bridge vectors (docs/protocol.md, "Bridges") -----------------------------------------------


def bridge_hello(name: str, hub: int, nonce: bytes, hub_name: str) -> dict:
    payload = pack([hub, nonce, hub_name])
    return valid(name, BRIDGE_HELLO, payload, {"hub": hub, "nonce_hex": nonce.hex(), "name": hub_name})


def bridge_challenge(name: str, hub: int, nonce: bytes) -> dict:
    return valid(name, BRIDGE_CHALLENGE, pack([hub, nonce]), {"hub": hub, "nonce_hex": nonce.hex()})


def mac_input(role: str) -> bytes:
    """The HMAC input of 11.3: the role's label, then the **other** side's nonce and id, then its own."""
    dialer, listener = (DIALER_NONCE, DIALER_HUB), (LISTENER_NONCE, LISTENER_HUB)
    if role == "dialer":
        label, parties = b"hubwire bridge dialer v1", (listener, dialer)
    else:
        label, parties = b"hubwire bridge listener v1", (dialer, listener)
    data = label + b"".join(nonce + struct.pack(">Q", hub) for nonce, hub in parties)
    assert len(data) == {"dialer": 72, "listener": 74}[role]
    return data


def bridge_proof(name: str, role: str) -> dict:
    """A BRIDGE_PROOF of the 11.3 example, with `proof_of`: the inputs its MAC was computed from."""
    data = mac_input(role)
    mac = hmac.new(BRIDGE_SECRET.encode(), data, hashlib.sha256).digest()
    vector = valid(name, BRIDGE_PROOF, pack([mac]), {"mac_hex": mac.hex()})
    vector["proof_of"] = {
        "secret": BRIDGE_SECRET,
        "role": role,
        "dialer_hub": DIALER_HUB,
        "dialer_nonce_hex": DIALER_NONCE.hex(),
        "listener_hub": LISTENER_HUB,
        "listener_nonce_hex": LISTENER_NONCE.hex(),
        "mac_input_hex": data.hex(),
    }
    return vector


def link_state(name: str, origin: int, seq: int, neighbors: list[int]) -> dict:
    payload = pack([origin, seq, neighbors])
    return valid(name, LINK_STATE, payload, {"origin": origin, "seq": seq, "neighbors": neighbors})


def interest_fields(interest: tuple[str, str | None] | None) -> dict | None:
    """An Interest `(pattern, group)` as vector fields; on the wire it is `[pattern, group]`."""
    return None if interest is None else {"pattern": interest[0], "group": interest[1]}


def interest_update(
    name: str,
    origin: int,
    from_seq: int,
    to_seq: int,
    add: list[tuple],
    remove: list[tuple],
    full: tuple[tuple | None, bool] | None,
) -> dict:
    """An InterestUpdate: a delta when `full` is None, else a part `(after, last)` of a full set."""
    wire_full = None if full is None else [None if full[0] is None else list(full[0]), full[1]]
    payload = pack([origin, from_seq, to_seq, [list(i) for i in add], [list(i) for i in remove], wire_full])
    fields = {
        "origin": origin,
        "from_seq": from_seq,
        "to_seq": to_seq,
        "add": [interest_fields(i) for i in add],
        "remove": [interest_fields(i) for i in remove],
        "full": None if full is None else {"after": interest_fields(full[0]), "last": full[1]},
    }
    return valid(name, BRIDGE_INTEREST, payload, fields)


def bridge_resync(name: str, origin: int) -> dict:
    return valid(name, BRIDGE_RESYNC, pack([origin]), {"origin": origin})


def bridge_message(
    name: str,
    origin: int,
    seq: int,
    hops: int,
    picks: list[tuple[str, int]],
    channel: str,
    flags: int,
    reply_to: str | None,
    headers: dict[str, str],
    body: bytes,
) -> dict:
    """A BRIDGE_MESSAGE, its last element the PUBLISH payload of section 10.1 as the spoke sent it."""
    headers = headers_map(headers)
    publish_payload = [channel, flags, reply_to, headers, body]
    payload = pack([origin, seq, hops, [[group, hub] for group, hub in picks], publish_payload])
    fields = {
        "origin": origin,
        "seq": seq,
        "hops": hops,
        "picks": [{"group": group, "hub": hub} for group, hub in picks],
        "publish": {"channel": channel, "flags": flags, "reply_to": reply_to, "headers": headers, "body_hex": body.hex()},
    }
    return valid(name, BRIDGE_MESSAGE, payload, fields)


def bridge_valid_vectors() -> list[dict]:
    # Interests; in the order of 11.5 `sensors/kitchen/temp` (a literal) sorts before `sensors/*/temp`.
    kitchen = ("sensors/kitchen/temp", None)
    sensors = ("sensors/*/temp", None)
    jobs = ("jobs/**", "workers")
    return [
        bridge_hello("bridge-hello", DIALER_HUB, DIALER_NONCE, DIALER_NAME),
        bridge_challenge("bridge-challenge", LISTENER_HUB, LISTENER_NONCE),
        bridge_proof("bridge-proof-dialer", "dialer"),
        bridge_proof("bridge-proof-listener", "listener"),
        link_state("bridge-link-state", DIALER_HUB, 7, [42, LISTENER_HUB]),
        link_state("bridge-link-state-alone", LISTENER_HUB, 1, []),
        interest_update("bridge-interest-delta", LISTENER_HUB, 4, 5, [jobs, sensors], [("sensors/**", None)], None),
        interest_update("bridge-interest-full-first-part", LISTENER_HUB, 0, 5, [jobs, kitchen], [], (None, False)),
        interest_update("bridge-interest-full-last-part", LISTENER_HUB, 0, 5, [sensors], [], (kitchen, True)),
        interest_update("bridge-interest-full-empty", 42, 0, 0, [], [], (None, True)),
        bridge_resync("bridge-resync", LISTENER_HUB),
        bridge_message(
            "bridge-message-call",
            DIALER_HUB,
            1000,
            2,
            [("workers", LISTENER_HUB)],
            "jobs/resize",
            REQUEST_FLAG,
            INBOX + "/9",
            {"deadline-ms": "1500", "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
            body({"width": 640}),
        ),
        bridge_message("bridge-message-plain", LISTENER_HUB, 1, 0, [], "sensors/kitchen/temp", 0, None, {}, b"21.5"),
    ]


def work_valid_vectors() -> list[dict]:
    """Section 12: every work envelope, arrays of the fields in the order of table 12.1."""
    big = (1 << 40) + 5  # 64-bit fields over 2^32
    hi = b"hi"

    def work(name: str, kind: int, values: list, keys: list[str]) -> dict:
        fields = {}
        for key, value in zip(keys, values):
            if isinstance(value, bytes):
                fields[key + "_hex"] = value.hex()
            elif isinstance(value, list) and value and isinstance(value[0], bytes):
                fields[key + "_hex"] = [v.hex() for v in value]
            else:
                fields[key] = value
        return valid(name, kind, pack(values), fields)

    enqueue_keys = ["reference", "queue", "flags", "items"]
    deliver_keys = ["lease", "queue", "id", "delivery", "visibility_ms", "flags", "body"]
    return [
        work("work-status-worker", STATUS, [body({"busy": False, "weight": 2})], ["body"]),
        work("work-status-dispatcher", STATUS, [body({"dispatcher": "render", "queues": {"jobs": 12}})], ["body"]),
        work("work-enqueue-one", ENQUEUE, [1, "jobs", 0, [hi]], enqueue_keys),
        work("work-enqueue-many", ENQUEUE, [big, "frames", 0, [b"a", b"", bytes(300)]], enqueue_keys),
        work("work-enqueue-send-all", ENQUEUE, [3, "jobs", SEND_ALL, [body({"reload": True})]], enqueue_keys),
        work("work-enqueued", ENQUEUED, [1, [42]], ["reference", "ids"]),
        work("work-enqueued-many", ENQUEUED, [big, [7, 8, big]], ["reference", "ids"]),
        work("work-enqueued-send-all", ENQUEUED, [3, [1 << 63]], ["reference", "ids"]),
        work("work-take", TAKE, [["jobs", "frames"], 4], ["queues", "credit"]),
        work("work-take-drain", TAKE, [["jobs"], 0], ["queues", "credit"]),
        work("work-taken", TAKEN, [4], ["credit"]),
        work("work-deliver", DELIVER, [5, "jobs", 42, 1, 30000, 0, hi], deliver_keys),
        work("work-deliver-broadcast", DELIVER, [big, "jobs", (1 << 63) + 1, 1, 60000, BROADCAST, b""], deliver_keys),
        work("work-ack", WORK_ACK, [5], ["lease"]),
        work("work-nack", NACK, [5, 5000, "renderer out of memory"], ["lease", "delay_ms", "reason"]),
        work("work-reject", REJECT, [big, "frame 12 does not exist"], ["lease", "reason"]),
        work("work-progress", PROGRESS, [5, 0], ["lease", "extend_ms"]),
        work("work-progress-extend", PROGRESS, [5, 120000], ["lease", "extend_ms"]),
    ]


# --- invalid vectors ----------------------------------------------------------------------------


def invalid(
    name: str,
    data: bytes,
    error_name: str,
    framing_lost: bool,
    max_frame: int = DEFAULT_MAX_FRAME,
    request_id: int | None | str = "absent",
) -> dict:
    vector: dict[str, Any] = {
        "name": name,
        "hex": data.hex(),
        "max_frame": max_frame,
        "error": error_name,
        "framing_lost": framing_lost,
    }
    if request_id != "absent":
        vector["request_id"] = request_id
    return vector


def bad_request(name: str, payload: bytes, request_id: int | None) -> dict:
    """A REQUEST whose payload cannot be read: ERROR 100, naming the id if it can be read."""
    return invalid(name, frame(REQUEST, payload), "protocol", False, request_id=request_id)


def bad_payload(name: str, kind: int, payload: bytes) -> dict:
    return invalid(name, frame(kind, payload), "protocol", False)


def invalid_vectors() -> list[dict]:
    x = b"x"
    one_over = frame(PING, pack([(1 << 64) - 1]))  # length 12: kind 2 + payload 10
    oversized_request = frame(REQUEST, pack([1, "echo", {}, bytes(60)]))
    assert len(oversized_request) - 4 > 64 and len(one_over) - 4 == 12
    return [
        # Frame level: the length field itself is out of bounds, so the stream is lost.
        invalid("length-0", bytes.fromhex("00000000"), "protocol", True),
        invalid("length-1-shorter-than-kind", bytes.fromhex("0000000100"), "protocol", True),
        invalid("length-over-max-frame", oversized_request, "frame-too-large", True, max_frame=64),
        invalid("length-over-max-frame-by-one", one_over, "frame-too-large", True, max_frame=11),
        # Payload level: the frame is whole, so the next frame can still be read.
        bad_request("request-not-msgpack", bytes.fromhex("c1"), None),
        bad_request("request-missing-body", pack([5, "echo", {}]), 5),
        bad_request("request-extra-element", pack([5, "echo", {}, x, 0]), 5),
        bad_request("request-trailing-bytes", pack([5, "echo", {}, x]) + b"\x00", 5),
        bad_request("request-id-is-a-string", pack(["5", "echo", {}, x]), None),
        bad_request("request-id-negative", pack([-1, "echo", {}, x]), None),
        bad_request("request-header-value-not-a-string", pack([6, "echo", {"deadline-ms": 1500}, x]), 6),
        bad_request("request-empty-array", pack([]), None),
        bad_payload("ping-nonce-is-a-string", PING, pack(["42"])),
        bad_payload("pong-empty-payload", PONG, b""),
        bad_payload("error-missing-message", ERROR, pack([7, 600])),
        bad_payload("error-code-over-u16", ERROR, pack([7, 70000, "x"])),
        bad_payload("conn-missing-max-in-flight", CONN, pack([1, "agent", DEFAULT_MAX_FRAME])),
        bad_payload("disconn-trailing-bytes", DISCONN, pack(["bye"]) + b"\xc0"),
        bad_payload("auth-two-elements", AUTH, pack(["alice", "wonderland"])),
        bad_payload("auth-password-as-bin", AUTH, pack(["alice", b"wonderland", None])),
        bad_payload("auth-ok-without-user", AUTH_OK, pack([])),
        bad_payload("cancel-id-is-nil", CANCEL, pack([None])),
        bad_payload("response-body-missing", RESPONSE, pack([1, {}])),
    ] + pubsub_invalid_vectors() + bridge_invalid_vectors() + work_invalid_vectors()


def bad_pubsub(name: str, kind: int, payload: bytes, error_name: str, sid: int | None | str = "absent") -> dict:
    """A pub/sub payload the hub (or spoke) refuses; `sid` is the one a REFUSED answer names."""
    vector = invalid(name, frame(kind, payload), error_name, False)
    if sid != "absent":
        vector["sid"] = sid
    return vector


def pubsub_invalid_vectors() -> list[dict]:
    e = b""
    inbox = INBOX + "/1"
    return [
        bad_pubsub("subscribe-pattern-control-char", SUBSCRIBE, pack([9, "a/\x01", None, 0]), "invalid-body", 9),
        bad_pubsub("subscribe-pattern-too-long", SUBSCRIBE, pack([9, "a" * 1025, None, 0]), "invalid-body", 9),
        bad_pubsub("subscribe-group-empty", SUBSCRIBE, pack([4, "a", "", 0]), "invalid-body", 4),
        bad_pubsub("subscribe-unknown-flag", SUBSCRIBE, pack([5, "a", None, 2]), "protocol", 5),
        bad_pubsub("subscribe-missing-flags", SUBSCRIBE, pack([3, "a", None]), "protocol", 3),
        bad_pubsub("subscribe-pattern-is-bin", SUBSCRIBE, pack([3, b"a", None, 0]), "protocol", 3),
        bad_pubsub("subscribe-sid-negative", SUBSCRIBE, pack([-1, "a", None, 0]), "protocol", None),
        bad_pubsub("unsubscribe-sid-nil", UNSUBSCRIBE, pack([None]), "protocol", None),
        bad_pubsub("subscriptions-repeated-sid", SUBSCRIPTIONS, pack([[[1, "a", None, 0], [1, "b", None, 0]]]), "protocol", 1),
        bad_pubsub("subscriptions-entry-invalid-pattern", SUBSCRIPTIONS, pack([[[1, "a", None, 0], [2, "\x7f", None, 0]]]), "invalid-body", 2),
        bad_pubsub("subscriptions-not-wrapped", SUBSCRIPTIONS, pack([[1, "a", None, 0]]), "protocol", None),
        bad_pubsub("publish-channel-wildcard", PUBLISH, pack(["a/*", 0, None, {}, e]), "invalid-body", None),
        bad_pubsub("publish-reply-to-wildcard", PUBLISH, pack(["a", REQUEST_FLAG, "_inbox/**", {}, e]), "invalid-body", None),
        bad_pubsub("publish-request-without-reply-to", PUBLISH, pack(["a", REQUEST_FLAG, None, {}, e]), "protocol", None),
        bad_pubsub("publish-retained-is-for-the-hub", PUBLISH, pack(["a", RETAINED, None, {}, e]), "protocol", None),
        bad_pubsub("publish-reply-and-error", PUBLISH, pack([inbox, REPLY | ERROR_FLAG, None, {}, e]), "protocol", None),
        bad_pubsub("publish-retained-reply", PUBLISH, pack([inbox, RETAIN | REPLY, None, {}, e]), "protocol", None),
        bad_pubsub("publish-body-is-str", PUBLISH, pack(["a", 0, None, {}, "x"]), "protocol", None),
        bad_pubsub("publish-missing-headers", PUBLISH, pack(["a", 0, None, e]), "protocol", None),
        bad_pubsub("message-no-sids", MESSAGE, pack([[], "a", 0, None, {}, e]), "protocol"),
        bad_pubsub("message-sids-not-ascending", MESSAGE, pack([[5, 1], "a", 0, None, {}, e]), "protocol"),
        bad_pubsub("message-no-echo-is-for-the-hub", MESSAGE, pack([[1], "a", NO_ECHO, None, {}, e]), "protocol"),
        bad_pubsub("refused-code-over-u16", REFUSED, pack([1, 70000, "x"]), "protocol"),
    ]


def bridge_invalid_vectors() -> list[dict]:
    e = b""
    return [
        bad_payload("bridge-hello-nonce-15-bytes", BRIDGE_HELLO, pack([DIALER_HUB, DIALER_NONCE[:15], DIALER_NAME])),
        bad_payload("bridge-hello-without-name", BRIDGE_HELLO, pack([DIALER_HUB, DIALER_NONCE])),
        bad_payload(
            "bridge-interest-pattern-control-char",
            BRIDGE_INTEREST,
            pack([LISTENER_HUB, 4, 5, [["sensors/\x01", None]], [], None]),
        ),
        bad_payload("bridge-message-without-picks", BRIDGE_MESSAGE, pack([DIALER_HUB, 1, 0, ["a", 0, None, {}, e]])),
    ]


def work_invalid_vectors() -> list[dict]:
    """Section 12.1's rules: text is str, bodies bin, flags only the named bits, widths kept."""
    return [
        bad_payload("work-status-body-is-str", STATUS, pack(["busy"])),
        bad_payload("work-enqueue-item-is-str", ENQUEUE, pack([1, "jobs", 0, ["hi"]])),
        bad_payload("work-enqueue-queue-is-bin", ENQUEUE, pack([1, b"jobs", 0, [b"hi"]])),
        bad_payload("work-enqueue-unknown-flag", ENQUEUE, pack([1, "jobs", 2, [b"hi"]])),
        bad_payload("work-enqueue-missing-items", ENQUEUE, pack([1, "jobs", 0])),
        bad_payload("work-take-credit-over-u32", TAKE, pack([["jobs"], 1 << 32])),
        bad_payload("work-take-queues-not-array", TAKE, pack(["jobs", 4])),
        bad_payload("work-deliver-unknown-flag", DELIVER, pack([5, "jobs", 42, 1, 30000, 2, b"hi"])),
        bad_payload("work-deliver-delivery-over-u32", DELIVER, pack([5, "jobs", 42, 1 << 32, 30000, 0, b"hi"])),
        bad_payload("work-ack-lease-negative", WORK_ACK, pack([-1])),
        bad_payload("work-nack-reason-is-bin", NACK, pack([5, 0, b"oom"])),
        bad_payload("work-reject-missing-reason", REJECT, pack([5])),
        bad_payload("work-progress-extend-nil", PROGRESS, pack([5, None])),
    ]


def build() -> str:
    document = {"version": PROTOCOL_VERSION, "valid": valid_vectors(), "invalid": invalid_vectors()}
    names = [v["name"] for v in document["valid"] + document["invalid"]]
    assert len(names) == len(set(names)), "vector names must be unique"
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check the file is up to date")
    args = parser.parse_args()
    text = build()
    if args.check:
        if OUTPUT.read_text(encoding="utf-8") != text:
            print(f"{OUTPUT} is out of date: run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
