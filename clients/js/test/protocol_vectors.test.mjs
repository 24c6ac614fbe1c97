// The shared protocol vectors (docs/protocol-vectors.json): every valid frame decodes to its
// fields and encodes back byte for byte; every invalid one is refused with its code.
import { test } from "node:test";
import assert from "node:assert/strict";
import { codec } from "../dist/esm/node.js";
import { fromVectorFields, hex, loadVectors, toVectorFields } from "./helpers/vectors.mjs";

const vectors = loadVectors();
const NAMES = { protocol: 100, "frame-too-large": 102, "invalid-body": 300 };

test("the vectors file is the version this client speaks and is not empty", () => {
  assert.equal(vectors.version, codec.PROTOCOL_VERSION);
  assert.ok(vectors.valid.length >= 50, `${vectors.valid.length} valid vectors`);
  assert.ok(vectors.invalid.length >= 40, `${vectors.invalid.length} invalid vectors`);
});

for (const vector of vectors.valid) {
  test(`valid ${vector.name}: decodes to its fields and encodes back to the same bytes`, () => {
    const bytes = hex.from(vector.hex);
    const frames = new codec.FrameReader(1_048_576).push(bytes);
    assert.equal(frames.length, 1);
    assert.equal(frames[0].kind, vector.kind);
    const fields = codec.decodePayload(frames[0].kind, frames[0].payload);
    assert.deepEqual(toVectorFields(fields), vector.fields);
    const encoded = codec.encodeFrame(vector.kind, fromVectorFields(vector.fields));
    assert.equal(hex.of(encoded), vector.hex);
  });
}

for (const vector of vectors.invalid) {
  test(`invalid ${vector.name}: refused with ${vector.error}`, () => {
    const bytes = hex.from(vector.hex);
    const reader = new codec.FrameReader(vector.max_frame);
    let error;
    try {
      const frames = reader.push(bytes);
      assert.equal(frames.length, 1, "one whole frame");
      codec.decodePayload(frames[0].kind, frames[0].payload);
    } catch (caught) {
      error = caught;
    }
    assert.ok(error instanceof codec.CodecError, `refused (got ${error})`);
    assert.equal(error.code, NAMES[vector.error], error.message);
    assert.equal(error.framingLost, vector.framing_lost);
    if ("request_id" in vector) assert.equal(error.id, vector.request_id);
    if ("sid" in vector) assert.equal(error.id, vector.sid);
  });
}

test("a frame split over many reads, and many frames in one read, come out whole", () => {
  const all = vectors.valid.map((v) => hex.from(v.hex));
  const stream = new Uint8Array(all.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of all) {
    stream.set(b, at);
    at += b.length;
  }
  for (const step of [1, 3, 7, 64, stream.length]) {
    const reader = new codec.FrameReader();
    const kinds = [];
    for (let i = 0; i < stream.length; i += step) {
      for (const frame of reader.push(stream.subarray(i, i + step))) kinds.push(frame.kind);
    }
    assert.deepEqual(kinds, vectors.valid.map((v) => v.kind), `chunks of ${step}`);
  }
});
