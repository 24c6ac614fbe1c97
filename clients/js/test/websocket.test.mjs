// ws:// from Node against the hub's WebSocket listener: calls, pub/sub between a WebSocket
// client and a TCP client, RPC, and a reconnect across a hub restart.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "../dist/esm/node.js";
import { nextStatus, startHub, within } from "./helpers/servers.mjs";

describe("ws:// from Node", () => {
  test("calls, pub/sub and RPC between a WebSocket client and a TCP client", async (t) => {
    const hub = await startHub({ listen: ["tcp://127.0.0.1:0", "ws://127.0.0.1:0"] });
    t.after(() => hub.stop());
    const ws = await connect({ servers: hub.url("ws") });
    const tcp = await connect({ servers: hub.url("tcp") });
    t.after(() => ws.close());
    t.after(() => tcp.close());
    assert.equal((await ws.call("hubwire.health")).status, "ok");
    const wsSub = ws.subscribe("mixed/*");
    const tcpSub = tcp.subscribe("mixed/*");
    tcp.provide("svc/upper", (s) => s.toUpperCase());
    await Promise.all([ws.flush(), tcp.flush()]);
    tcp.publish("mixed/a", "to ws");
    ws.publish("mixed/b", new Uint8Array(100_000).fill(1)); // a large frame in one message
    // Each side gets both publishes (no noEcho); the order between two publishers is free.
    const firstTwo = async (sub) => {
      const got = {};
      for await (const m of sub) {
        got[m.channel] = m.body;
        if (Object.keys(got).length === 2) break;
      }
      return got;
    };
    const [atWs, atTcp] = await within(5000, Promise.all([firstTwo(wsSub), firstTwo(tcpSub)]), "both publishes on both sides");
    for (const got of [atWs, atTcp]) {
      assert.equal(got["mixed/a"], "to ws");
      assert.deepEqual(got["mixed/b"], new Uint8Array(100_000).fill(1));
    }
    assert.equal(await ws.request("svc/upper", "shout"), "SHOUT");
  });

  test("a WebSocket client reconnects across a hub restart and replays its subscriptions", async (t) => {
    let hub = await startHub({ listen: ["ws://127.0.0.1:0"] });
    const url = hub.url("ws");
    t.after(() => hub.stop());
    const client = await connect({ servers: url, reconnectTimeWait: 200, pingInterval: 0 });
    t.after(() => client.close());
    const status = client.status();
    const sub = client.subscribe("after/restart");
    await client.flush();
    await hub.stop();
    await nextStatus(status, "disconnect");
    hub = await startHub({ listen: [url] });
    await nextStatus(status, "subscribed", 15_000);
    const publisher = await connect({ servers: url });
    t.after(() => publisher.close());
    publisher.publish("after/restart", "again");
    const { value } = await within(5000, sub[Symbol.asyncIterator]().next(), "the message after the restart");
    assert.equal(value.body, "again");
  });
});
