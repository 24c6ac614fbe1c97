#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into fuzz/corpus/<target>/.

Frames come from docs/protocol-vectors.json (every kind, valid and invalid); text seeds
(patterns, channels, trie scripts, JSON configs and back-off policies) are written here by hand.
Standard library only. Usage, from anywhere:

    python3 fuzz/seed.py          # rewrite fuzz/corpus/ (the seeds only; nothing else is there)
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
VECTORS = FUZZ.parent / "docs" / "protocol-vectors.json"
CORPUS = FUZZ / "corpus"

# Which target decodes which frame kinds (the others only see frames as bytes).
ENVELOPE_KINDS = {1, 2, 4, 5, 16, 17, 18, 19}
PUBSUB_KINDS = set(range(32, 64))
BRIDGE_KINDS = set(range(64, 96))
# A kind no target knows: its payload is tried on every decoder of the target.
ANY_KIND = b"\xff\xff"

PATTERN_CHANNEL = [
    "sensors/*/temp\nsensors/kitchen/temp",
    "**/buzz\nfoo/bar/buzz",
    "**\n",
    "*/**\n/",
    "foo/*/**/bar\nfoo/x/y/bar",
    "/a/**/*/**/b/\n//a//x//b//",
    "sensors/*abc\nsensors/*abc",
    "***/x\n***/x",
    "_inbox/5f3a5f3a5f3a5f3a5f3a5f3a5f3a5f3a/*\n_inbox/5f3a5f3a5f3a5f3a5f3a5f3a5f3a5f3a/7",
    "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/x/y/z\na/b/c",
    "**/*/**/*/**\na/b",
    "caf\u00e9/*\ncaf\u00e9/cr\u00e8me",
    "sensors/*/temp\nsensors/*/temp",
]

TRIE_SCRIPTS = [
    "+1sensors/**\n+2sensors/*/temp\n+1sensors/*/temp\n?sensors/kitchen/temp\n!1\n?sensors/kitchen/temp",
    "+1**\n+2*/**\n?\n?a\n-1**\n?\n?a",
    "+0a/b\n+0a/*\n+0a/**\n+1**/b\n?a/b\n-0a/*\n?a/b\n!0\n!1\n?a/b",
    "+3foo/*/**/bar\n+4foo/**\n?foo/bar\n?foo/x/bar\n?foo/x/y/bar\n-4foo/**\n?foo/x/y/bar",
    "+5_inbox/5f3a/*\n?_inbox/5f3a/7\n?_inbox/5f3a/7/8\n+5_inbox/5f3a/*\n!5\n?_inbox/5f3a/7",
]

CONFIGS = [
    {},
    {"listen": ["tcp://127.0.0.1:7400", "unix:///tmp/hubwire.sock", "udp://0.0.0.0:7401"]},
    {"allow": ["127.0.0.1", "10.0.0.0/8", "::1", "uid:1000"], "admin_allow": ["127.0.0.1"]},
    {"max_frame": 65536, "max_in_flight_per_connection": 16, "io_threads": 2,
     "handshake_timeout_ms": 1000, "idle_timeout_ms": 60000, "unix_socket_mode": "660",
     "log_level": "info,hubwire_actors=debug", "log_format": "json", "log_file": "/tmp/h.log"},
    {"handler_pools": {"dice.roll": 4}, "supervisor_intensity": {"max_restarts": 3, "within_ms": 5000},
     "supervisor_backoff": {"kind": "exponential", "min_ms": 20, "max_ms": 5000, "factor": 2.0,
                            "jitter": 0.2, "max_attempts": None, "reset_after_ms": 30000}},
    {"bridges": ["tcp://10.0.0.2:7500",
                 {"url": "tcp://10.0.0.3:7500", "export": ["sensors/**"], "import": []}],
     "bridge_secret": "correct horse battery", "bridge_prune_grace_ms": 30000,
     "bridge_backoff": {"kind": "list", "delays_ms": [100, 1000, 5000]}},
    {"queue_store": "memory", "data_dir": "data", "hub_retained_count": 10,
     "hub_max_outbound_bytes": 1048576, "hub_ping_interval_ms": 30000,
     "extra": {"feature": {"on": True, "ratio": 0.1, "list": [1, -2, 3.5e300, None]}}},
    {"max_frame": 10, "listen": []},
    {"listen": ["ws://127.0.0.1:7480", "wss://[::1]:7443/hubwire", "ws://localhost:0/a%20b"],
     "ws_allowed_origins": ["https://app.example.com", "http://localhost:8080", "null", "*"]},
]

BACKOFFS = [
    {"kind": "fixed", "delay_ms": 500, "max_attempts": 25, "reset_after_ms": None},
    {"kind": "exponential", "min_ms": 100, "max_ms": 30000, "factor": 2.0, "jitter": 0.2,
     "max_attempts": None, "reset_after_ms": 60000},
    {"kind": "exponential", "min_ms": 1, "max_ms": 18446744073709551615, "factor": 1e308,
     "jitter": 1.0},
    {"kind": "polynomial", "exponent": 4, "max_attempts": 25, "reset_after_ms": None},
    {"kind": "polynomial", "exponent": 4294967295, "max_attempts": None},
    {"kind": "list", "delays_ms": [1000, 5000, 30000], "max_attempts": 25, "reset_after_ms": None},
    {"kind": "exponential", "min_ms": 0, "max_ms": 0, "jitter": 0.0},
]


def msgpack_str(text: str) -> bytes:
    raw = text.encode()
    if len(raw) < 32:
        return bytes([0xA0 | len(raw)]) + raw
    if len(raw) < 256:
        return bytes([0xD9, len(raw)]) + raw
    return bytes([0xDA]) + len(raw).to_bytes(2, "big") + raw


def msgpack_str_map(pairs: dict[str, str]) -> bytes:
    """A map of strings, as every header map is written (fewer than 16 entries here)."""
    out = bytes([0x80 | len(pairs)])
    for key, value in sorted(pairs.items()):
        out += msgpack_str(key) + msgpack_str(value)
    return out


def ws_frame(opcode: int, payload: bytes, fin: bool = True, masked: bool = True) -> bytes:
    """One WebSocket frame as a client sends it (RFC 6455, section 5.2): masked by default."""
    head = bytes([(0x80 if fin else 0) | opcode])
    mask_bit = 0x80 if masked else 0
    if len(payload) < 126:
        head += bytes([mask_bit | len(payload)])
    elif len(payload) < 65536:
        head += bytes([mask_bit | 126]) + len(payload).to_bytes(2, "big")
    else:
        head += bytes([mask_bit | 127]) + len(payload).to_bytes(8, "big")
    if not masked:
        return head + payload
    key = b"\x37\xfa\x21\x3d"
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def frame_kind(frame: bytes) -> int | None:
    return int.from_bytes(frame[4:6], "big") if len(frame) >= 6 else None


def main() -> None:
    vectors = json.loads(VECTORS.read_text())
    seeds: dict[str, dict[str, bytes]] = {}

    def add(target: str, name: str, data: bytes) -> None:
        seeds.setdefault(target, {})[name] = data

    valid_frames = []
    for group in ("valid", "invalid"):
        for vector in vectors[group]:
            name, frame = f"{group}-{vector['name']}", bytes.fromhex(vector["hex"])
            add("frame", name, frame)
            add("frame_batches", name, b"\x00" + frame)
            if group == "valid":
                valid_frames.append(frame)
            kind = frame_kind(frame)
            for target, kinds in (("envelope", ENVELOPE_KINDS), ("pubsub", PUBSUB_KINDS),
                                  ("bridge", BRIDGE_KINDS)):
                if kind in kinds:
                    add(target, name, frame[4:])
            fields = vector.get("fields", {})
            for holder in (fields, fields.get("publish", {})):
                if "headers" in holder:
                    add("headers", name, msgpack_str_map(holder["headers"]))
                for key in ("pattern", "channel", "reply_to"):
                    if isinstance(holder.get(key), str):
                        add("channel_pattern", f"{name}-{key}", holder[key].encode())
            if fields.get("flags", 0) & 0x20 and "body_hex" in fields:
                add("pubsub", f"{name}-reply-error", ANY_KIND + bytes.fromhex(fields["body_hex"]))

    stream = b"".join(valid_frames)
    add("frame", "all-valid-frames", stream)
    add("frame_batches", "all-valid-frames-whole", b"\x00" + stream)
    add("frame_batches", "all-valid-frames-cut", b"\x04\x01\x07\x02\x20" + stream)
    add("frame_batches", "all-valid-frames-bytewise", b"\x01\x01" + stream)
    # The websocket_bytes target: what a client sends after the upgrade (binary 0x2, text 0x1,
    # continuation 0x0, close 0x8, ping 0x9, pong 0xA).
    small = [f for f in valid_frames if len(f) <= 200]
    messages = b"".join(ws_frame(0x2, f) for f in small)
    add("websocket_bytes", "binary-messages-whole", b"\x00" + messages)
    add("websocket_bytes", "binary-messages-cut", b"\x03\x01\x05\x20" + messages)
    one = small[0]
    add("websocket_bytes", "ping-then-frame-then-close",
        b"\x00" + ws_frame(0x9, b"hi") + ws_frame(0x2, one) + ws_frame(0x8, b"\x03\xe8"))
    add("websocket_bytes", "fragmented", b"\x00" + ws_frame(0x2, one[:3], fin=False)
        + ws_frame(0x9, b"") + ws_frame(0x0, one[3:]))
    add("websocket_bytes", "text", b"\x00" + ws_frame(0x1, b'{"route":"dice.roll"}'))
    add("websocket_bytes", "two-frames-one-message", b"\x00" + ws_frame(0x2, one + one))
    add("websocket_bytes", "oversized", b"\x00" + ws_frame(0x2, (300).to_bytes(4, "big") + bytes(300)))
    add("websocket_bytes", "unmasked", b"\x00" + ws_frame(0x2, one, masked=False))
    add("headers", "repeated-key", b"\x82\xa1a\xa11\xa1a\xa12")
    add("headers", "bin-key", b"\x81\xc4\x01a\xa1b")
    for i, text in enumerate(PATTERN_CHANNEL):
        add("channel_pattern", f"pair-{i}", text.encode())
    for i, script in enumerate(TRIE_SCRIPTS):
        add("subscription_trie", f"script-{i}", script.encode())
    for i, config in enumerate(CONFIGS):
        add("config_json", f"config-{i}", json.dumps(config, indent=1).encode())
    for i, policy in enumerate(BACKOFFS):
        add("backoff_json", f"policy-{i}", json.dumps(policy).encode())

    if CORPUS.exists():
        shutil.rmtree(CORPUS)
    for target, files in sorted(seeds.items()):
        folder = CORPUS / target
        folder.mkdir(parents=True)
        for name, data in sorted(files.items()):
            (folder / name).write_bytes(data)
        print(f"{target}: {len(files)} seeds")


if __name__ == "__main__":
    main()
