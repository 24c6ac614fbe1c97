// Pure parts: back-off with jitter, channels and patterns, bodies, the browser build's imports.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { codec, codeName, errorForCode, decodeBody, encodeBody, UnhandledError } from "../dist/esm/node.js";
import { reconnectDelay } from "../dist/esm/client/options.js";

test("reconnect waits start at 100 ms, double, stop at the cap, and spread by the jitter", () => {
  const mid = () => 0.5;
  assert.deepEqual([0, 1, 2, 3, 10].map((n) => reconnectDelay(n, 1000, 0.2, mid)), [100, 200, 400, 800, 1000]);
  assert.equal(reconnectDelay(10, 1000, 0.2, () => 0), 800);
  assert.equal(reconnectDelay(10, 1000, 0.2, () => 0.999999), 1200);
  const spread = new Set(Array.from({ length: 50 }, () => reconnectDelay(20, 5000, 0.2)));
  assert.ok(spread.size > 10, "clients at the cap do not come back in step");
  for (const d of spread) assert.ok(d >= 4000 && d <= 6000);
});

test("patterns are written in canonical form; channels in normal form", () => {
  assert.equal(codec.canonicalPattern("**/*"), "*/**");
  assert.equal(codec.canonicalPattern("a/**/**/b"), "a/**/b");
  assert.equal(codec.canonicalPattern("/a//*/"), "a/*");
  assert.equal(codec.normalChannel("/sensors//kitchen/temp/"), "sensors/kitchen/temp");
  assert.throws(() => codec.normalChannel("a/*/b"), codec.TextError);
  assert.doesNotThrow(() => codec.normalChannel("a/*x/b"), "*x is a literal");
  assert.throws(() => codec.canonicalPattern("x".repeat(1025)), /over the 1024/);
  assert.throws(() => codec.canonicalPattern(Array(65).fill("t").join("/")), /65 tokens/);
  assert.throws(() => codec.checkGroup("g".repeat(129)), codec.TextError);
});

test("bodies: maps stay maps, bytes are bin, empty reads as null, 64-bit without loss", () => {
  assert.deepEqual(Array.from(encodeBody({ sides: 6 })), [0x81, 0xa5, 0x73, 0x69, 0x64, 0x65, 0x73, 0x06]);
  assert.deepEqual(Array.from(encodeBody(new Uint8Array([1, 2]))), [0xc4, 0x02, 1, 2]);
  assert.equal(encodeBody(undefined).length, 0);
  assert.equal(decodeBody(new Uint8Array(0)), null);
  // 2^32 + 1 as a number is written uint 64, and read back as a number.
  assert.deepEqual(Array.from(encodeBody(2 ** 32 + 1)), [0xcf, 0, 0, 0, 1, 0, 0, 0, 1]);
  assert.equal(decodeBody(encodeBody(2 ** 32 + 1)), 2 ** 32 + 1);
  // A BigInt that fits is written in its smallest form; one that does not stays a BigInt.
  assert.deepEqual(Array.from(encodeBody([5n])), [0x91, 0x05]);
  assert.equal(decodeBody(encodeBody(-(2n ** 63n))), -(2n ** 63n));
  assert.equal(decodeBody(Uint8Array.from([0xcf, 0, 0, 0, 0, 0, 0, 0, 7])), 7, "a safe uint 64 is a number");
});

test("every code of the stable table has its name; unknown codes read as unhandled", () => {
  assert.equal(codeName(404), "not-found");
  assert.equal(errorForCode(501, "x").name, "paused");
  const unknown = errorForCode(1234, "new");
  assert.ok(unknown instanceof UnhandledError);
  assert.equal(unknown.code, 1234);
  assert.equal(unknown.name, "unhandled");
});

// The browser entry (dist/esm/index.js) must not reach a Node built-in through any import.
test("the browser build imports no Node built-in", () => {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "esm");
  const seen = new Set();
  const bare = new Set();
  const walk = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, "utf8");
    for (const [, fromSpec, dynamicSpec] of source.matchAll(/(?:import|export)[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)) {
      const spec = fromSpec ?? dynamicSpec;
      if (spec.startsWith(".")) walk(resolve(dirname(file), spec));
      else bare.add(spec);
    }
  };
  walk(join(root, "index.js"));
  assert.ok(seen.size > 10, `${seen.size} modules walked`);
  assert.deepEqual([...bare], ["@msgpack/msgpack"]);
  assert.ok(!seen.has(join(root, "transport", "node-socket.js")));
});

// The package's exports map, resolved by name (Node's self-reference): ESM and CommonJS for
// Node, the browser build under "hubwire/browser", declarations first in every entry.
test("the package exports ESM and CommonJS builds with types first", async () => {
  const { createRequire } = await import("node:module");
  const { existsSync } = await import("node:fs");
  const require = createRequire(import.meta.url);
  const esm = await import("hubwire");
  const cjs = require("hubwire");
  const browser = await import("hubwire/browser");
  for (const entry of [esm, cjs, browser]) {
    assert.equal(typeof entry.connect, "function");
    assert.equal(typeof entry.HubwireError, "function");
  }
  assert.notEqual(cjs.HubwireError, esm.HubwireError, "two builds, not one module twice");
  assert.equal(new cjs.TimeoutError("x").code, 700);
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  for (const [name, entry] of Object.entries(pkg.exports)) {
    if (typeof entry === "string") continue;
    assert.equal(Object.keys(entry)[0], "types", `${name}: types first`);
    assert.ok(existsSync(new URL(`../${entry.types}`, import.meta.url)), `${name}: ${entry.types} built`);
  }
});

test("a custom transport with send() only gets each PUBLISH as its own frame, kept intact", async () => {
  const { connect, codec: c } = await import("../dist/esm/node.js");
  const sent = [];
  const fake = (_url, _options, events) => Promise.resolve({
    send(frame) {
      sent.push(frame);
      const [f] = new c.FrameReader().push(frame);
      // Answer the handshake as a server would.
      if (f.kind === c.Kind.CONN) {
        const hello = c.encodeFrame(c.Kind.CONN, { version: 1, agent: "fake", max_frame: 1 << 20, max_in_flight: 0 });
        queueMicrotask(() => events.frames(new c.FrameReader().push(hello)));
      }
    },
    get pending() { return 0; },
    close() { events.closed(); },
  });
  const client = await connect({ servers: "fake://x", transports: { "fake:": fake }, reconnect: false });
  client.publish("a/b", new Uint8Array([1, 2, 3]));
  client.publish("a/c", "second");
  await client.close();
  const publishes = sent.map((f) => new c.FrameReader().push(f)[0]).filter((f) => f.kind === c.Kind.PUBLISH).map((f) => c.decodePayload(f.kind, f.payload));
  // The first frame still holds the first publish after the second was written.
  assert.deepEqual(publishes.map((p) => p.channel), ["a/b", "a/c"]);
  assert.deepEqual(decodeBody(publishes[0].body), new Uint8Array([1, 2, 3]));
  assert.equal(decodeBody(publishes[1].body), "second");
});

test("a server CONN with more than its four fields (a later server's options) is taken; fewer are refused", async () => {
  const { connect, codec: c, ProtocolError } = await import("../dist/esm/node.js");
  const serverSaying = (hello) => (_url, _options, events) => Promise.resolve({
    send(frame) {
      const [f] = new c.FrameReader().push(frame);
      if (f.kind === c.Kind.CONN) queueMicrotask(() => events.frames(new c.FrameReader().push(c.frameBytes(c.Kind.CONN, c.encodeValue(hello)))));
    },
    get pending() { return 0; },
    close() { events.closed(); },
  });
  const newer = await connect({ servers: "fake://x", transports: { "fake:": serverSaying([1, "newer", 4096, 8, { compression: ["zstd"] }, "more"]) }, reconnect: false });
  assert.equal(newer.isClosed, false);
  await newer.close();
  const short = await connect({ servers: "fake://x", transports: { "fake:": serverSaying([1, "short", 4096]) }, reconnect: false }).catch((e) => e);
  assert.ok(short instanceof Error && /4 elements|CONN/.test(short.message), String(short));
});
