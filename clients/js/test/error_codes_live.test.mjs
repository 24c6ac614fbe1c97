// The error codes no client call can provoke, shown live against the real servers: 100
// `protocol` (a payload that is not MessagePack, and a frame before CONN), 101
// `version-mismatch` (a CONN of another version), each read with this package's codec and
// errorForCode; and 600 `handler-failure` from a Rust provider (`hubwire reply --command`)
// reaching a JS `request()` as RemoteError; 999 `unhandled` and a code newer than this client
// (`hubwire reply --error`) reaching it the same way, kept as sent.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import net from "node:net";
import {
  codec, connect, decodeBody, errorForCode, HubwireError, NoRespondersError, ProtocolError, RemoteError, VersionMismatchError,
} from "../dist/esm/node.js";
import { hubwireBin, startExample, startHub, within } from "./helpers/servers.mjs";

const { Kind } = codec;

/** A connection speaking frames by hand: `next()` is the next frame (or null once closed). */
async function rawConnection(url) {
  const { hostname, port } = new URL(url);
  const socket = net.connect({ host: hostname, port: Number(port) });
  await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const reader = new codec.FrameReader();
  const frames = [];
  let closed = false;
  let wake = null;
  socket.on("data", (chunk) => {
    for (const f of reader.push(new Uint8Array(chunk))) frames.push(f);
    wake?.();
  });
  socket.on("close", () => {
    closed = true;
    wake?.();
  });
  socket.on("error", () => undefined);
  return {
    sendBytes: (kind, payload) => socket.write(codec.frameBytes(kind, Uint8Array.from(payload))),
    send: (kind, fields) => socket.write(codec.encodeFrame(kind, fields)),
    next: () => within(5000, (async () => {
      for (;;) {
        if (frames.length > 0) return frames.shift();
        if (closed) return null;
        await new Promise((resolve) => (wake = resolve));
      }
    })(), "the next frame"),
    get closed() {
      return closed;
    },
    close: () => socket.destroy(),
  };
}

const hello = (version) => ({ version, agent: "raw-test", max_frame: 1 << 20, max_in_flight: 0 });

/** The ERROR frame `frame` as the typed error this package makes of it. */
function errorOf(frame) {
  assert.equal(frame?.kind, Kind.ERROR, `an ERROR frame, got ${frame && frame.kind}`);
  const fields = codec.decodePayload(Kind.ERROR, frame.payload);
  return { id: fields.id, error: errorForCode(fields.code, fields.message) };
}

/** What `channel`'s responder answers a request with, once it has subscribed. */
function answerOf(client, channel) {
  return within(15_000, (async () => {
    for (;;) {
      const outcome = await client.request(channel, { n: 1 }, { timeout: 5000 }).then(
        (value) => new Error(`answered ${JSON.stringify(value)}`),
        (e) => e,
      );
      // Until the responder has subscribed, nobody answers.
      if (!(outcome instanceof NoRespondersError)) return outcome;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })(), "the responder's answer");
}

describe("error codes from the real servers", () => {
  test("100 protocol: a REQUEST payload that is not MessagePack is answered with its id; the connection stays", async (t) => {
    const server = await startExample("dice_server");
    t.after(() => server.stop());
    const raw = await rawConnection(server.url("tcp"));
    t.after(() => raw.close());
    raw.send(Kind.CONN, hello(1));
    assert.equal((await raw.next()).kind, Kind.CONN);
    // [7, "dice.roll", {}, <0xc1: never used in MessagePack>]
    raw.sendBytes(Kind.REQUEST, [0x94, 0x07, 0xa9, ...new TextEncoder().encode("dice.roll"), 0x80, 0xc1]);
    const { id, error } = errorOf(await raw.next());
    assert.equal(id, 7);
    assert.ok(error instanceof ProtocolError, String(error));
    assert.equal(error.code, 100);
    assert.equal(error.name, "protocol");
    // Still served: a good request on the same connection is answered.
    raw.send(Kind.REQUEST, { id: 8, route: "dice.roll", headers: {}, body: codec.encodeValue({ sides: 6 }) });
    const answer = await raw.next();
    assert.equal(answer.kind, Kind.RESPONSE);
    const reply = codec.decodePayload(Kind.RESPONSE, answer.payload);
    assert.equal(reply.id, 8);
    const { result } = decodeBody(reply.body);
    assert.ok(result >= 1 && result <= 6);
  });

  test("100 protocol: a frame before CONN is refused and the connection closed", async (t) => {
    const server = await startExample("echo_server");
    t.after(() => server.stop());
    const raw = await rawConnection(server.url("tcp"));
    t.after(() => raw.close());
    raw.send(Kind.PING, { nonce: 1 });
    const { id, error } = errorOf(await raw.next());
    assert.equal(id, null);
    assert.ok(error instanceof ProtocolError, String(error));
    assert.equal(error.code, 100);
    assert.equal(await raw.next(), null, "closed after the refusal");
  });

  test("101 version-mismatch: a CONN of another protocol version is refused and closed", async (t) => {
    const hub = await startHub();
    t.after(() => hub.stop());
    const raw = await rawConnection(hub.url("tcp"));
    t.after(() => raw.close());
    raw.send(Kind.CONN, hello(99));
    const { id, error } = errorOf(await raw.next());
    assert.equal(id, null);
    assert.ok(error instanceof VersionMismatchError, String(error));
    assert.equal(error.code, 101);
    assert.equal(error.name, "version-mismatch");
    assert.match(error.message, /99/);
    assert.equal(await raw.next(), null, "closed after the refusal");
  });

  test("600 handler-failure: a Rust provider whose command fails reaches request() as RemoteError 600", async (t) => {
    const hub = await startHub();
    t.after(() => hub.stop());
    const reply = spawn(hubwireBin(), ["reply", "svc/broken", "--command", "echo disk on fire >&2; exit 3", "--server", hub.url("tcp")], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    t.after(() => reply.kill("SIGKILL"));
    const client = await connect({ servers: hub.url("tcp") });
    t.after(() => client.close());
    const error = await answerOf(client, "svc/broken");
    assert.ok(error instanceof RemoteError, String(error));
    assert.ok(error instanceof HubwireError);
    assert.equal(error.code, 600);
    assert.equal(error.name, "handler-failure");
    assert.match(error.message, /disk on fire/);
  });

  test("999 unhandled, and a code this client does not know, reach request() as RemoteError kept as sent", async (t) => {
    const hub = await startHub();
    t.after(() => hub.stop());
    const failing = (channel, code) => {
      const reply = spawn(hubwireBin(), ["reply", channel, "--error", code, "--message", `failed with ${code}`, "--server", hub.url("tcp")], {
        stdio: ["ignore", "ignore", "pipe"],
      });
      t.after(() => reply.kill("SIGKILL"));
    };
    failing("svc/unhandled", "unhandled");
    failing("svc/newer", "1234");
    const client = await connect({ servers: hub.url("tcp") });
    t.after(() => client.close());
    const unhandled = await answerOf(client, "svc/unhandled");
    assert.ok(unhandled instanceof RemoteError, String(unhandled));
    assert.equal(unhandled.code, 999);
    assert.equal(unhandled.name, "unhandled");
    assert.match(unhandled.message, /failed with unhandled/);
    const newer = await answerOf(client, "svc/newer");
    assert.ok(newer instanceof RemoteError, String(newer));
    assert.equal(newer.code, 1234, "the code as sent");
    assert.equal(newer.name, "unhandled", "read like 999");
  });
});
