// Properties of the codec over random inputs: the hand-written PUBLISH and REQUEST encoders
// write exactly what the generic encoder writes, and every frame decodes back to its fields;
// the frame reader survives any split and refuses garbage with a CodecError, never a crash.
import { test } from "node:test";
import assert from "node:assert/strict";
import { codec } from "../dist/esm/node.js";

// A small seeded generator, so a failure can be replayed.
function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
}
const SEED = Number(process.env.CODEC_SEED ?? 20261202);
const random = rng(SEED);
const pick = (list) => list[Math.floor(random() * list.length)];
const pieces = ["a", "rooms", "é", "温度", "🌡", "x".repeat(40), "-", "_", "9"];
function text(maxTokens) {
  const n = 1 + Math.floor(random() * maxTokens);
  return Array.from({ length: n }, () => pick(pieces) + pick(pieces)).join("/");
}
function bytes() {
  const n = pick([0, 1, 31, 255, 256, 1000, 65535, 65536, 70000]);
  return Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
}
function headers() {
  const out = {};
  const n = pick([0, 1, 2, 15, 16, 17]);
  for (let i = 0; i < n; i++) out[`k${Math.floor(random() * 1e6)}-${pick(pieces)}`] = text(3);
  return out;
}

test(`hand-written PUBLISH and REQUEST frames equal the generic encoding (seed ${SEED})`, () => {
  for (let i = 0; i < 400; i++) {
    const publish = {
      channel: text(20),
      flags: pick([0, 1, 2, 3, 4, 8, 24, 32]),
      reply_to: pick([null, text(5)]),
      headers: headers(),
      body: bytes(),
    };
    if (publish.flags === 4 && publish.reply_to === null) publish.reply_to = "_inbox/x/1";
    const fast = codec.encodeFrame(codec.Kind.PUBLISH, publish);
    const generic = codec.frameBytes(codec.Kind.PUBLISH, codec.encodePayload(codec.Kind.PUBLISH, publish));
    assert.deepEqual(fast, generic, JSON.stringify({ ...publish, body: publish.body.length }));
    const [frame] = new codec.FrameReader(1 << 20).push(fast);
    assert.deepEqual(codec.decodePayload(frame.kind, frame.payload), publish);

    const request = {
      id: pick([1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2n ** 64n - 1n]),
      route: pick(["echo", "dice.roll", "x".repeat(300)]),
      headers: headers(),
      body: bytes(),
    };
    const fastRequest = codec.encodeFrame(codec.Kind.REQUEST, request);
    assert.deepEqual(fastRequest, codec.frameBytes(codec.Kind.REQUEST, codec.encodePayload(codec.Kind.REQUEST, request)));
    const [r] = new codec.FrameReader(1 << 20).push(fastRequest);
    const sorted = { ...request, headers: request.headers };
    assert.deepEqual(codec.decodePayload(r.kind, r.payload), sorted);
  }
});

test(`random bytes are refused with a CodecError or read, never crash (seed ${SEED})`, () => {
  const kinds = Object.values(codec.Kind);
  for (let i = 0; i < 3000; i++) {
    const payload = Uint8Array.from({ length: Math.floor(random() * 40) }, () =>
      random() < 0.3 ? pick([0x90, 0x91, 0x94, 0x95, 0x96, 0xc0, 0xc4, 0xa1, 0xcf, 0x80, 0x81]) : Math.floor(random() * 256),
    );
    const kind = pick(kinds);
    try {
      codec.decodePayload(kind, payload);
    } catch (error) {
      assert.ok(error instanceof codec.CodecError, `kind ${kind}, ${Buffer.from(payload).toString("hex")}: ${error}`);
      assert.ok([100, 300].includes(error.code));
    }
  }
});

test(`the hand-written MESSAGE reader agrees with the generic one, on good and mangled frames (seed ${SEED})`, () => {
  const read = (decode, payload) => {
    try {
      return { fields: decode(codec.Kind.MESSAGE, payload) };
    } catch (error) {
      assert.ok(error instanceof codec.CodecError, String(error));
      return { code: error.code };
    }
  };
  for (let i = 0; i < 400; i++) {
    const sids = [...new Set(Array.from({ length: 1 + Math.floor(random() * 5) }, () => pick([0, 1, 127, 128, 300, 70000, 2 ** 33])))].sort((a, b) => a - b);
    const message = {
      sids,
      channel: text(10),
      flags: pick([0, 4, 8, 16, 24, 32, 40, 64]),
      reply_to: pick([null, text(3)]),
      headers: headers(),
      body: bytes(),
    };
    const payload = codec.encodePayload(codec.Kind.MESSAGE, message);
    assert.deepEqual(read(codec.decodePayload, payload), read(codec.decodeGeneric, payload));
    for (let m = 0; m < 5; m++) {
      const mangled = payload.slice(0, Math.max(1, Math.floor(random() * (payload.length + 2))));
      if (mangled.length > 0) mangled[Math.floor(random() * mangled.length)] = Math.floor(random() * 256);
      assert.deepEqual(read(codec.decodePayload, mangled), read(codec.decodeGeneric, mangled), Buffer.from(mangled).toString("hex").slice(0, 200));
    }
  }
});

test("envelopes are read strictly: UTF-8 text, text keys, no floats, no oversized counts", () => {
  const refuse = (kind, bytes, pattern) => {
    assert.throws(() => codec.decodePayload(kind, Uint8Array.from(bytes)), (error) => {
      assert.ok(error instanceof codec.CodecError, String(error));
      assert.equal(error.code, 100);
      assert.match(error.message, pattern);
      return true;
    });
  };
  // REQUEST [5, route "\xff\xfe", {}, bin 0]: not UTF-8, and the ERROR would still name id 5.
  refuse(codec.Kind.REQUEST, [0x94, 0x05, 0xa2, 0xff, 0xfe, 0x80, 0xc4, 0x00], /not UTF-8/);
  assert.equal(codec.peekFirstUint(Uint8Array.from([0x94, 0x05, 0xa2, 0xff, 0xfe, 0x80, 0xc4, 0x00])), 5);
  // A header map with an integer key.
  refuse(codec.Kind.REQUEST, [0x94, 0x05, 0xa1, 0x61, 0x81, 0x01, 0xa1, 0x62, 0xc4, 0x00], /map key that is not text/);
  // A float where the nonce belongs.
  refuse(codec.Kind.PING, [0x91, 0xcb, 0, 0, 0, 0, 0, 0, 0, 0], /float/);
  // An array announcing 65535 elements in 3 bytes: refused before anything is reserved.
  refuse(codec.Kind.SUBSCRIPTIONS, [0x91, 0xdc, 0xff, 0xff, 0x90], /array of 65535 elements in 1 bytes/);
  // A MESSAGE whose channel is not UTF-8 is refused by the fast reader's fallback too.
  const message = codec.encodePayload(codec.Kind.MESSAGE, { sids: [1], channel: "ab", flags: 0, reply_to: null, headers: {}, body: new Uint8Array(0) });
  const bad = message.slice();
  bad[bad.indexOf(0x61)] = 0xff;
  refuse(codec.Kind.MESSAGE, bad, /not UTF-8/);
});
