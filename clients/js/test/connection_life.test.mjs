// Connection life against real processes: reconnect across a hub restart with subscriptions
// replayed, giving up after maxReconnectAttempts, a stale connection, drain and close with
// calls in flight, status events.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect, ConnectionClosedError, ConnectionLostError, NotConnectedError } from "../dist/esm/node.js";
import { nextStatus, startExample, startHub, within } from "./helpers/servers.mjs";

function portOf(url) {
  return new URL(url).port;
}

describe("reconnect", () => {
  test("across a hub restart: subscriptions and providers are replayed, calls fail fast meanwhile", async (t) => {
    let hub = await startHub({ listen: ["tcp://127.0.0.1:0"] });
    const url = hub.url("tcp");
    t.after(() => hub.stop());
    const options = { servers: url, reconnectTimeWait: 200, pingInterval: 0 };
    const subscriber = await connect(options);
    const other = await connect(options);
    t.after(() => subscriber.close());
    t.after(() => other.close());
    const status = subscriber.status();
    const received = [];
    subscriber.subscribe("rooms/**", { callback: (_e, m) => received.push(m.body) });
    subscriber.provide("svc/ping", () => "pong");
    await subscriber.flush();
    other.publish("rooms/a", "before");
    await other.flush();
    assert.equal(await other.request("svc/ping"), "pong");

    await hub.stop(); // SIGKILL: no goodbye
    const gone = await nextStatus(status, "disconnect");
    assert.equal(gone.server, new URL(url).href);
    const waiting = await nextStatus(status, "reconnecting");
    assert.ok(waiting.attempt >= 1 && waiting.delay >= 0);
    assert.throws(() => subscriber.publish("rooms/b", "while away"), NotConnectedError);
    await assert.rejects(subscriber.flush(), NotConnectedError);

    hub = await startHub({ listen: [`tcp://127.0.0.1:${portOf(url)}`] });
    await nextStatus(status, "reconnect", 15_000);
    const subscribed = await nextStatus(status, "subscribed", 15_000);
    assert.equal(subscribed.count, 2, "the subscription and the provider");
    // The other client reconnects too; wait until it can publish.
    await within(15_000, (async () => {
      for (;;) {
        try {
          await other.flush();
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    })(), "the publisher's reconnect");
    other.publish("rooms/c", "after");
    await other.flush();
    await subscriber.flush();
    assert.deepEqual(received, ["before", "after"]);
    assert.equal(await other.request("svc/ping"), "pong", "the provider was replayed");
    await status.return();
  });

  test("calls in flight when the connection breaks fail with ConnectionLostError", async (t) => {
    const slow = await startExample("graceful_shutdown");
    t.after(() => slow.stop());
    const client = await connect({ servers: slow.url("tcp"), reconnectTimeWait: 100 });
    t.after(() => client.close());
    const pending = client.call("slow.sleep", { ms: 5000 }).catch((e) => e);
    await new Promise((r) => setTimeout(r, 100));
    await slow.stop();
    const error = await within(5000, pending, "the lost call");
    assert.ok(error instanceof ConnectionLostError, String(error));
    assert.equal(error.name, "connection-lost");
  });

  test("maxReconnectAttempts used up: the client closes with cannot-connect", async () => {
    const hub = await startHub({ listen: ["tcp://127.0.0.1:0"] });
    const client = await connect({ servers: hub.url("tcp"), maxReconnectAttempts: 2, reconnectTimeWait: 100, timeout: 500 });
    const status = client.status();
    await hub.stop();
    const attempts = [];
    const closed = await within(10_000, (async () => {
      for await (const event of status) {
        if (event.type === "reconnecting") attempts.push(event.attempt);
        if (event.type === "close") return event;
      }
    })(), "the close");
    assert.deepEqual(attempts, [1, 2]);
    assert.equal(closed.error.name, "cannot-connect");
    assert.equal(await client.closed(), closed.error);
    assert.equal(client.isClosed, true);
    await assert.rejects(client.call("x"), ConnectionClosedError);
  });

  test("a server that stops answering PINGs is a stale connection, dropped and dialed again", async (t) => {
    const hub = await startHub({ listen: ["tcp://127.0.0.1:0"] });
    t.after(async () => {
      hub.kill("SIGCONT");
      await hub.stop();
    });
    const client = await connect({ servers: hub.url("tcp"), pingInterval: 100, maxPingsOut: 2, reconnectTimeWait: 100, timeout: 300 });
    t.after(() => client.close());
    const status = client.status();
    hub.kill("SIGSTOP");
    const stale = await nextStatus(status, "staleConnection", 5000);
    assert.equal(stale.pingsOut, 2);
    await nextStatus(status, "disconnect");
    hub.kill("SIGCONT");
    await nextStatus(status, "reconnect", 10_000);
    await client.flush();
  });
});

describe("drain and close", () => {
  test("close() settles every pending promise at once and ends iterators", async (t) => {
    const slow = await startExample("graceful_shutdown");
    t.after(() => slow.stop());
    const hub = await startHub({ listen: ["tcp://127.0.0.1:0"] });
    t.after(() => hub.stop());
    const client = await connect({ servers: slow.url("tcp") });
    const spoke = await connect({ servers: hub.url("tcp") });
    const calls = [1, 2, 3].map(() => client.call("slow.sleep", { ms: 5000 }).catch((e) => e));
    const waiting = client.call("slow.sleep", { ms: 1 }, { waitForConnection: true }).catch((e) => e);
    const status = client.status();
    const sub = spoke.subscribe("x");
    const iterating = (async () => { for await (const _ of sub) { /* none */ } return "ended"; })();
    const silent = spoke.subscribe("svc/silent");
    await spoke.flush();
    const request = spoke.request("svc/silent", 1, { timeout: 5000 }).catch((e) => e);
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await client.close();
    await spoke.close();
    for (const error of await Promise.all([...calls, request])) {
      assert.ok(error instanceof ConnectionClosedError, String(error));
    }
    await waiting; // it was answered before close, or closed: either way it settled
    assert.equal(await within(1000, iterating, "the iterator's end"), "ended");
    assert.ok(silent.isClosed);
    const events = [];
    for await (const event of status) events.push(event.type);
    assert.deepEqual(events, ["close"]);
    assert.ok(Date.now() - started < 1000, "at once");
  });

  test("drain() lets calls in flight finish, refuses new ones, then closes", async (t) => {
    const slow = await startExample("graceful_shutdown");
    t.after(() => slow.stop());
    const client = await connect({ servers: slow.url("tcp") });
    const inFlight = client.call("slow.sleep", { ms: 300 });
    await new Promise((r) => setTimeout(r, 50));
    const draining = client.drain();
    await assert.rejects(client.call("slow.sleep", { ms: 1 }), ConnectionClosedError);
    assert.deepEqual(await inFlight, { slept_ms: 300 });
    await within(5000, draining, "the drain");
    assert.equal(client.isClosed, true);
    assert.equal(await client.closed(), undefined);
  });

  test("drain() on a spoke unsubscribes, lets a provider answer its call in flight, then closes", async (t) => {
    const hub = await startHub({ listen: ["tcp://127.0.0.1:0"] });
    t.after(() => hub.stop());
    const provider = await connect({ servers: hub.url("tcp") });
    const caller = await connect({ servers: hub.url("tcp") });
    t.after(() => caller.close());
    const sub = provider.subscribe("news");
    provider.provide("svc/slow", () => new Promise((r) => setTimeout(() => r("done"), 300)));
    await provider.flush();
    const answer = caller.request("svc/slow", 1, { timeout: 3000 });
    await new Promise((r) => setTimeout(r, 100));
    const draining = provider.drain();
    assert.equal(await answer, "done");
    await within(5000, draining, "the drain");
    assert.ok(sub.isClosed);
    const error = await caller.request("svc/slow", 1, { timeout: 2000 }).catch((e) => e);
    assert.equal(error.name, "no-responders", "the provider's subscription is gone from the hub");
  });
});

describe("slow consumer at the hub", () => {
  test("a subscriber the hub cuts off hears slowConsumer, then reconnects with its subscriptions", async (t) => {
    const hub = await startHub({ listen: ["tcp://127.0.0.1:0"], extra: ["--set", "hub_max_outbound_bytes=4096"] });
    t.after(() => hub.stop());
    const subscriber = await connect({ servers: hub.url("tcp"), reconnectTimeWait: 100 });
    const publisher = await connect({ servers: hub.url("tcp") });
    t.after(() => subscriber.close());
    t.after(() => publisher.close());
    const status = subscriber.status();
    const received = [];
    subscriber.subscribe("big/*", { callback: (_e, m) => received.push(m.body.length) });
    await subscriber.flush();
    publisher.publish("big/one", new Uint8Array(10_000)); // over the bound: cut off at once
    const event = await nextStatus(status, "slowConsumer");
    assert.equal(event.sid, undefined, "the hub's, not a subscription's");
    assert.match(event.message, /slow consumer/);
    await nextStatus(status, "disconnect");
    await nextStatus(status, "subscribed", 10_000);
    publisher.publish("big/two", new Uint8Array(100));
    await publisher.flush();
    await subscriber.flush();
    assert.deepEqual(received, [100], "the small one arrives on the replayed subscription");
  });
});
