// The pub/sub spoke against the real `hubwire hub`: wildcards, both subscription forms, echo,
// retained messages, queue groups, the flush barrier, refusals, and RPC with its outcomes.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  connect, BusyError, HubwireError, InvalidBodyError, NoRespondersError, NotAcknowledgedError, RemoteError,
  TimeoutError,
} from "../dist/esm/node.js";
import { hubwireBin, nextStatus, startExample, startHub, within } from "./helpers/servers.mjs";

async function take(subscription, n, ms = 5000) {
  const out = [];
  await within(ms, (async () => {
    for await (const message of subscription) {
      out.push(message);
      if (out.length === n) return;
    }
  })(), `${n} messages`);
  return out;
}

describe("pub/sub on a hub", () => {
  let hub;
  let a;
  let b;
  before(async () => {
    hub = await startHub();
    a = await connect({ servers: hub.url("tcp") });
    b = await connect({ servers: hub.url("unix") }); // the other client over the Unix socket
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await hub?.stop();
  });

  test("wildcards: * matches one token, ** any number; one message per publish", async () => {
    const one = a.subscribe("rooms/*/temp");
    const any = a.subscribe("rooms/**");
    await a.flush();
    b.publish("rooms/kitchen/temp", { celsius: 21.5 }, { headers: { source: "test" } });
    b.publish("rooms/kitchen/fridge/temp", { celsius: 4 });
    b.publish("halls/main/temp", { celsius: 19 });
    const [first] = await take(one, 1);
    assert.equal(first.channel, "rooms/kitchen/temp");
    assert.deepEqual(first.body, { celsius: 21.5 });
    assert.deepEqual(first.headers, { source: "test" });
    assert.equal(first.retained, false);
    const both = await take(any, 2);
    assert.deepEqual(both.map((m) => m.channel), ["rooms/kitchen/temp", "rooms/kitchen/fridge/temp"]);
    await b.flush();
    one.unsubscribe();
    any.unsubscribe();
    assert.equal(one.received, 1, "rooms/kitchen/fridge/temp is not rooms/*/temp");
  });

  test("the callback form gets every message, in publish order", async () => {
    const seen = [];
    let done;
    const all = new Promise((resolve) => (done = resolve));
    const sub = a.subscribe("counter", {
      callback: (error, message) => {
        assert.equal(error, null);
        seen.push(message.body);
        if (seen.length === 200) done();
      },
    });
    await a.flush();
    for (let i = 0; i < 200; i++) b.publish("counter", i);
    await within(5000, all, "200 messages");
    assert.deepEqual(seen, Array.from({ length: 200 }, (_, i) => i));
    sub.unsubscribe();
  });

  test("noEcho keeps a publish from the publisher's own subscriptions", async () => {
    const mine = a.subscribe("echo/test");
    const theirs = b.subscribe("echo/test");
    await a.flush();
    await b.flush();
    a.publish("echo/test", "quiet", { noEcho: true });
    a.publish("echo/test", "loud");
    const [m1, m2] = await take(theirs, 2);
    assert.deepEqual([m1.body, m2.body], ["quiet", "loud"]);
    const [own] = await take(mine, 1);
    assert.equal(own.body, "loud");
    mine.unsubscribe();
    theirs.unsubscribe();
  });

  test("a retained message is replayed first to new subscriptions, flagged retained", async () => {
    b.publish("status/door", "open", { retain: true });
    await b.flush();
    const late = a.subscribe("status/*");
    const skip = a.subscribe("status/**", { noRetained: true });
    await a.flush();
    b.publish("status/door", "closed");
    const [replayed, live] = await take(late, 2);
    assert.equal(replayed.body, "open");
    assert.equal(replayed.retained, true);
    assert.equal(live.body, "closed");
    assert.equal(live.retained, false);
    const [onlyLive] = await take(skip, 1);
    assert.equal(onlyLive.body, "closed");
    b.publish("status/door", undefined, { retain: true }); // an empty body clears it
    await b.flush();
    const again = a.subscribe("status/door");
    await a.flush();
    b.publish("status/door", "after clear");
    const [next] = await take(again, 1);
    assert.equal(next.body, "after clear", "nothing retained any more");
    for (const s of [late, skip, again]) s.unsubscribe();
  });

  test("a queue group shares messages: each goes to one member; ungrouped get all", async () => {
    const c = await connect({ servers: hub.url("tcp") });
    try {
      const counts = [0, 0];
      const members = [a, c].map((client, i) => client.subscribe("jobs/*", { group: "workers", callback: () => counts[i]++ }));
      const watcher = b.subscribe("jobs/*");
      await Promise.all([a.flush(), b.flush(), c.flush()]);
      for (let i = 0; i < 100; i++) b.publish(`jobs/${i}`, i);
      await take(watcher, 100);
      await Promise.all([a.flush(), c.flush()]);
      assert.equal(counts[0] + counts[1], 100, `${counts}`);
      assert.ok(counts[0] > 0 && counts[1] > 0, `both members got work: ${counts}`);
      members.forEach((m) => m.unsubscribe());
      watcher.unsubscribe();
    } finally {
      await c.close();
    }
  });

  test("64-bit integers and bytes travel unchanged through the hub", async () => {
    const sub = a.subscribe("big");
    await a.flush();
    const value = { big: 2n ** 64n - 1n, small: 7, bytes: new Uint8Array([0, 1, 255]) };
    b.publish("big", value);
    const [message] = await take(sub, 1);
    assert.equal(message.body.big, 2n ** 64n - 1n);
    assert.equal(message.body.small, 7);
    assert.deepEqual(message.body.bytes, new Uint8Array([0, 1, 255]));
    sub.unsubscribe();
  });

  test("invalid channels and patterns are refused locally with InvalidBodyError", () => {
    assert.throws(() => a.publish("rooms/*/temp", 1), InvalidBodyError);
    assert.throws(() => a.subscribe("bad\u0001pattern"), InvalidBodyError);
    assert.throws(() => a.subscribe("ok", { group: "" }), InvalidBodyError);
  });

  test("RPC: provide answers request; the provider's errors keep their code", async () => {
    const provider = b.provide("svc/double", (x) => {
      if (x < 0) throw new HubwireError(300, "no negative numbers");
      if (x === 0) throw new Error("zero breaks me");
      return x * 2;
    });
    await b.flush();
    assert.equal(await a.request("svc/double", 21), 42);
    const invalid = await a.request("svc/double", -1).catch((e) => e);
    assert.ok(invalid instanceof RemoteError, String(invalid));
    assert.equal(invalid.code, 300);
    assert.equal(invalid.message, "no negative numbers");
    const failed = await a.request("svc/double", 0).catch((e) => e);
    assert.ok(failed instanceof RemoteError);
    assert.equal(failed.code, 600);
    assert.equal(failed.name, "handler-failure");
    provider.unsubscribe();
  });

  test("RPC: nothing subscribed is NoRespondersError, at once", async () => {
    const started = Date.now();
    const error = await a.request("svc/nobody", 1, { timeout: 5000 }).catch((e) => e);
    assert.ok(error instanceof NoRespondersError, String(error));
    assert.equal(error.code, 400);
    assert.ok(Date.now() - started < 2000);
  });

  test("RPC: a subscriber that never answers is NotAcknowledgedError", async () => {
    const silent = b.subscribe("svc/silent");
    await b.flush();
    const error = await a.request("svc/silent", 1, { timeout: 300 }).catch((e) => e);
    assert.ok(error instanceof NotAcknowledgedError, String(error));
    assert.equal(error.name, "not-acknowledged");
    silent.unsubscribe();
  });

  test("RPC: acknowledged but too slow is TimeoutError", async () => {
    // The ACK comes at once; the reply long after the timeout (generous, for a loaded machine).
    const slow = b.provide("svc/slow", () => new Promise((r) => setTimeout(() => r("late"), 4000)));
    await b.flush();
    const error = await a.request("svc/slow", 1, { timeout: 1500 }).catch((e) => e);
    assert.ok(error instanceof TimeoutError, String(error));
    assert.equal(error.code, 700);
    slow.unsubscribe();
  });

  test("RPC: providers in a queue group answer each call once", async () => {
    const answered = [0, 0];
    const providers = [a, b].map((client, i) =>
      client.provide("svc/work", (n) => {
        answered[i]++;
        return n + 1;
      }, { group: "workers" }),
    );
    await Promise.all([a.flush(), b.flush()]);
    const replies = await Promise.all(Array.from({ length: 40 }, (_, n) => a.request("svc/work", n)));
    assert.deepEqual(replies, Array.from({ length: 40 }, (_, n) => n + 1));
    assert.equal(answered[0] + answered[1], 40);
    providers.forEach((p) => p.unsubscribe());
  });

  test("RPC interop: the `hubwire rpc` command calls a JS provider", async () => {
    const provider = b.provide("svc/greet", (body) => ({ hello: body.name }));
    await b.flush();
    const output = await new Promise((resolve, reject) => {
      const child = spawn(hubwireBin(), ["rpc", "-s", hub.url("tcp"), "svc/greet", '{"name": "ada"}'], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
    });
    assert.deepEqual(JSON.parse(output), { hello: "ada" });
    provider.unsubscribe();
  });

  test("a subscription the hub refuses ends with the error and a refused event", async () => {
    const limited = await startHub({ extra: ["--set", "hub_max_subscriptions_per_connection=1"] });
    const client = await connect({ servers: limited.url("tcp") });
    try {
      const status = client.status();
      const ok = client.subscribe("one");
      const refused = client.subscribe("two");
      await client.flush();
      const event = await nextStatus(status, "refused");
      assert.equal(event.sid, refused.sid);
      assert.ok(event.error instanceof BusyError);
      await assert.rejects((async () => { for await (const _ of refused) { /* none */ } })(), BusyError);
      assert.equal(await refused.closed, event.error);
      assert.equal(ok.isClosed, false);
    } finally {
      await client.close();
      await limited.stop();
    }
  });

  test("a slow iterator drops messages over maxPending and reports a slow consumer", async () => {
    const status = a.status();
    const sub = a.subscribe("flood", { maxPending: 10 });
    await a.flush();
    for (let i = 0; i < 50; i++) b.publish("flood", i);
    await b.flush();
    const event = await nextStatus(status, "slowConsumer");
    assert.equal(event.sid, sub.sid);
    await a.flush();
    assert.equal(sub.dropped, 40);
    const kept = await take(sub, 10);
    assert.deepEqual(kept.map((m) => m.body), Array.from({ length: 10 }, (_, i) => i));
    sub.unsubscribe();
    await status.return();
  });
});

describe("pub/sub frames to a server that is no hub", () => {
  test("a subscribe to the dice server reports unknown-kind (103) and calls go on", async (t) => {
    const dice = await startExample("dice_server");
    t.after(() => dice.stop());
    const client = await connect({ servers: dice.url("tcp") });
    t.after(() => client.close());
    const status = client.status();
    client.subscribe("anything");
    const event = await nextStatus(status, "error");
    assert.equal(event.error.code, 103);
    assert.equal(event.error.name, "unknown-kind");
    assert.ok((await client.call("dice.guess")).number >= 0);
  });
});
