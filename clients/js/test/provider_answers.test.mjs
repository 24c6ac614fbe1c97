// How a JS provider answers on the wire (docs/protocol.md, 10.5), seen by a raw spoke: ACK|REPLY
// in one frame when the reply is ready in the read pass, a bare ACK first when it is not, and
// ACK|ERROR [300, ...] for a request body that is not MessagePack.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { codec, connect, decodeBody } from "../dist/esm/node.js";
import { startHub, within } from "./helpers/servers.mjs";

const { Kind, Flag } = codec;

/** A spoke speaking frames by hand, to see exactly what arrives. */
async function rawSpoke(url) {
  const { hostname, port } = new URL(url);
  const socket = net.connect({ host: hostname, port: Number(port) });
  await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const reader = new codec.FrameReader();
  const frames = [];
  let wake = null;
  socket.on("data", (chunk) => {
    for (const f of reader.push(new Uint8Array(chunk))) frames.push(f);
    wake?.();
  });
  const send = (kind, fields) => socket.write(codec.encodeFrame(kind, fields));
  const next = (kind) => within(5000, (async () => {
    for (;;) {
      const at = frames.findIndex((f) => f.kind === kind);
      if (at >= 0) return codec.decodePayload(kind, frames.splice(at, 1)[0].payload);
      await new Promise((resolve) => (wake = resolve));
    }
  })(), `a frame of kind ${kind}`);
  send(Kind.CONN, { version: 1, agent: "raw", max_frame: 1 << 20, max_in_flight: 0 });
  await next(Kind.CONN);
  send(Kind.SUBSCRIPTIONS, { subscriptions: [{ sid: 1, pattern: "_inbox/raw/*", group: null, flags: 1 }] });
  send(Kind.PING, { nonce: 1 });
  await next(Kind.PONG);
  return { send, next, close: () => socket.destroy() };
}

describe("a JS provider's answers on the wire", () => {
  test("ACK|REPLY together, ACK then REPLY, ACK|ERROR 300 for a body that is not MessagePack", async (t) => {
    const hub = await startHub({ listen: ["tcp://127.0.0.1:0"] });
    t.after(() => hub.stop());
    const provider = await connect({ servers: hub.url("tcp") });
    t.after(() => provider.close());
    provider.provide("svc/fast", (x) => x + 1);
    provider.provide("svc/slow", (x) => new Promise((r) => setTimeout(() => r(x + 2), 200)));
    await provider.flush();
    const raw = await rawSpoke(hub.url("tcp"));
    t.after(() => raw.close());
    const call = (channel, n, body) =>
      raw.send(Kind.PUBLISH, { channel, flags: Flag.REQUEST, reply_to: `_inbox/raw/${n}`, headers: {}, body });

    call("svc/fast", 1, codec.encodeValue(1));
    const fast = await raw.next(Kind.MESSAGE);
    assert.equal(fast.channel, "_inbox/raw/1");
    assert.equal(fast.flags, Flag.ACK | Flag.REPLY);
    assert.equal(decodeBody(fast.body), 2);

    call("svc/slow", 2, codec.encodeValue(1));
    const ack = await raw.next(Kind.MESSAGE);
    assert.equal(ack.flags, Flag.ACK);
    assert.equal(ack.body.length, 0);
    const reply = await raw.next(Kind.MESSAGE);
    assert.equal(reply.flags, Flag.REPLY);
    assert.equal(decodeBody(reply.body), 3);

    call("svc/fast", 3, Uint8Array.of(0xc1));
    const refused = await raw.next(Kind.MESSAGE);
    assert.equal(refused.flags, Flag.ACK | Flag.ERROR);
    const [code, message] = decodeBody(refused.body);
    assert.equal(code, 300);
    assert.match(message, /not MessagePack/);
  });
});
