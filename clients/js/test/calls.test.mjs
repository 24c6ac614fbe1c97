// Route calls against the real dice server and the slow example: replies, pipelining, every
// error code a server can answer, timeouts, aborts, enqueue with an idempotency key.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  connect, BusyError, DeniedError, FrameTooLargeError, HubwireError, InvalidBodyError, NotFoundError,
  NotConnectedError, PausedError, ShuttingDownError, TimeoutError, UnknownRouteError,
} from "../dist/esm/node.js";
import { startExample, within } from "./helpers/servers.mjs";

describe("calls to the dice server over TCP", () => {
  let dice;
  let client;
  before(async () => {
    dice = await startExample("dice_server", { extra: ["--admin-allow", "10.9.9.9"] });
    client = await connect({ servers: dice.url("tcp") });
  });
  after(async () => {
    await client?.close();
    await dice?.stop();
  });

  test("a call resolves with the decoded reply", async () => {
    const rolled = await client.call("dice.roll", { sides: 6 });
    assert.ok(Number.isInteger(rolled.result) && rolled.result >= 1 && rolled.result <= 6, JSON.stringify(rolled));
    const guess = await client.call("dice.guess");
    assert.ok(guess.number >= 0 && guess.number <= 9);
  });

  test("500 calls pipelined on one connection each get their own reply", async () => {
    const sides = Array.from({ length: 500 }, (_, i) => i + 1);
    const replies = await Promise.all(sides.map((s) => client.call("dice.roll", { sides: s })));
    replies.forEach((reply, i) => assert.ok(reply.result >= 1 && reply.result <= sides[i], `${i}: ${reply.result}`));
    // A roll of one side can only be 1: the replies are matched to their own calls.
    assert.equal(replies[0].result, 1);
  });

  test("unknown route: UnknownRouteError, code 400, name unknown-route", async () => {
    const error = await client.call("dice.nope", {}).catch((e) => e);
    assert.ok(error instanceof UnknownRouteError, String(error));
    assert.ok(error instanceof HubwireError);
    assert.equal(error.code, 400);
    assert.equal(error.name, "unknown-route");
  });

  test("a body of the wrong type: InvalidBodyError, code 300", async () => {
    const error = await client.call("dice.roll", { sides: "six" }).catch((e) => e);
    assert.ok(error instanceof InvalidBodyError, String(error));
    assert.equal(error.code, 300);
    assert.match(error.message, /dice\.roll/);
  });

  test("a handler's typed error reaches the caller with its code and message", async () => {
    const error = await client.call("dice.roll", { sides: 0 }).catch((e) => e);
    assert.equal(error.code, 300);
    assert.match(error.message, /sides must be at least 1/);
  });

  test("not-found: 404 for a queue that does not exist", async () => {
    const error = await client.call("hubwire.queue.data", { queue: "no.such.queue" }).catch((e) => e);
    assert.ok(error instanceof NotFoundError, String(error));
    assert.equal(error.name, "not-found");
  });

  test("denied: 200 for an admin endpoint from a peer not in admin_allow", async () => {
    const error = await client.call("hubwire.queue.pause", { queue: "dice.roll_times", receiving: true }).catch((e) => e);
    assert.ok(error instanceof DeniedError, String(error));
    assert.equal(error.code, 200);
  });

  test("a deadline already passed at the server: 700 timeout from the server", async () => {
    const error = await client.call("dice.roll", { sides: 6 }, { headers: { "deadline-ms": "0" } }).catch((e) => e);
    assert.ok(error instanceof TimeoutError, String(error));
    assert.equal(error.code, 700);
    assert.doesNotMatch(error.message, /timed out after/, "the server's answer, not the local timer");
  });

  test("64-bit integers come back without loss", async () => {
    // hubwire.queue.data counts are u64; a literal check: encode/decode keeps 2^63 exact.
    const { codec } = await import("../dist/esm/node.js");
    const big = 2n ** 63n + 5n;
    assert.equal(codec.decodeValue(codec.encodeValue({ n: big })).n, big);
    assert.equal(codec.decodeValue(codec.encodeValue({ n: 2 ** 40 })).n, 2 ** 40);
  });

  test("raw: the reply's bytes as sent", async () => {
    const bytes = await client.call("dice.guess", undefined, { raw: true });
    assert.ok(bytes instanceof Uint8Array);
    assert.equal(bytes[0], 0x81, "a map of one entry");
  });
});

describe("queued routes", () => {
  test("enqueue stores once per idempotency key and answers the item's id", async (t) => {
    const dice = await startExample("dice_server");
    t.after(() => dice.stop());
    const client = await connect({ servers: dice.url("tcp") });
    t.after(() => client.close());
    // Processing paused, so the item stays pending and holds its key (a completed item
    // releases it).
    await client.call("hubwire.queue.pause", { queue: "dice.roll_times", processing: true });
    const first = await client.enqueue("dice.roll_times", { sides: 6, how_many: 10 }, { idempotencyKey: "order-1" });
    const again = await client.enqueue("dice.roll_times", { sides: 6, how_many: 10 }, { idempotencyKey: "order-1" });
    const other = await client.enqueue("dice.roll_times", { sides: 6, how_many: 10 });
    assert.equal(typeof first.id, "number");
    assert.equal(again.id, first.id);
    assert.notEqual(other.id, first.id);
    const data = await client.call("hubwire.queue.data", { queue: "dice.roll_times" });
    assert.equal(data.pending, 2, "stored once for the key, once without");
  });

  test("enqueue to a paused route: PausedError, 501", async (t) => {
    const dice = await startExample("dice_server");
    t.after(() => dice.stop());
    const client = await connect({ servers: dice.url("tcp") });
    t.after(() => client.close());
    await client.call("hubwire.queue.pause", { queue: "dice.roll_times", receiving: true });
    const error = await client.enqueue("dice.roll_times", { sides: 6, how_many: 1 }).catch((e) => e);
    assert.ok(error instanceof PausedError, String(error));
    assert.equal(error.code, 501);
  });
});

describe("timeouts, aborts, busy and shutdown against the slow server", () => {
  test("the call's timeout fails it locally with TimeoutError and later calls still work", async (t) => {
    const slow = await startExample("graceful_shutdown");
    t.after(() => slow.stop());
    const client = await connect({ servers: slow.url("tcp") });
    t.after(() => client.close());
    const started = Date.now();
    const error = await client.call("slow.sleep", { ms: 3000 }, { timeout: 200 }).catch((e) => e);
    assert.ok(error instanceof TimeoutError, String(error));
    assert.match(error.message, /timed out after 200 ms/);
    assert.ok(Date.now() - started < 2000);
    assert.deepEqual(await client.call("slow.sleep", { ms: 1 }), { slept_ms: 1 });
  });

  test("an AbortSignal fails the call with its reason", async (t) => {
    const slow = await startExample("graceful_shutdown");
    t.after(() => slow.stop());
    const client = await connect({ servers: slow.url("tcp") });
    t.after(() => client.close());
    const controller = new AbortController();
    const pending = client.call("slow.sleep", { ms: 3000 }, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("user gave up")), 50);
    await assert.rejects(pending, /user gave up/);
  });

  test("over the server's max_in_flight: BusyError, 500, and the others are answered", async (t) => {
    const slow = await startExample("graceful_shutdown", { extra: ["--set", "max_in_flight_per_connection=1"] });
    t.after(() => slow.stop());
    // maxInFlight Infinity: the client does not hold calls back, so the server's bound shows.
    const client = await connect({ servers: slow.url("tcp"), maxInFlight: Infinity });
    t.after(() => client.close());
    const results = await Promise.allSettled([client.call("slow.sleep", { ms: 300 }), client.call("slow.sleep", { ms: 1 })]);
    assert.equal(results[0].status, "fulfilled");
    assert.ok(results[1].reason instanceof BusyError, String(results[1].reason));
    assert.equal(results[1].reason.code, 500);
  });

  test("by default calls over the server's max_in_flight wait their turn instead", async (t) => {
    const slow = await startExample("graceful_shutdown", { extra: ["--set", "max_in_flight_per_connection=2"] });
    t.after(() => slow.stop());
    const client = await connect({ servers: slow.url("tcp") });
    t.after(() => client.close());
    const replies = await Promise.all(Array.from({ length: 6 }, () => client.call("slow.sleep", { ms: 50 })));
    assert.equal(replies.length, 6);
  });

  test("a server shutting down answers calls in flight with ShuttingDownError, 800", async (t) => {
    const slow = await startExample("graceful_shutdown", { extra: ["--set", "shutdown_timeout_ms=200"] });
    t.after(() => slow.stop());
    const client = await connect({ servers: slow.url("tcp"), reconnect: false });
    t.after(() => client.close());
    const pending = client.call("slow.sleep", { ms: 5000 }).catch((e) => e);
    await new Promise((r) => setTimeout(r, 100));
    slow.kill("SIGTERM");
    const error = await within(5000, pending, "the shutdown answer");
    assert.ok(error instanceof ShuttingDownError, String(error));
    assert.equal(error.code, 800);
  });

  test("a request over the server's max_frame fails locally with FrameTooLargeError, 102", async (t) => {
    const slow = await startExample("graceful_shutdown", { extra: ["--set", "max_frame=1024"] });
    t.after(() => slow.stop());
    const client = await connect({ servers: slow.url("tcp") });
    t.after(() => client.close());
    const error = await client.call("slow.sleep", { ms: 1, pad: "x".repeat(2000) }).catch((e) => e);
    assert.ok(error instanceof FrameTooLargeError, String(error));
    assert.match(error.message, /not sent/);
    assert.deepEqual(await client.call("slow.sleep", { ms: 1 }), { slept_ms: 1 });
  });
});

describe("echo server over a Unix socket", () => {
  test("calls work over unix:// and a reply over our max_frame is refused with 102", async (t) => {
    const { tempDir } = await import("./helpers/servers.mjs");
    const socket = `unix://${tempDir("echo")}/echo.sock`;
    const echo = await startExample("echo_server", { listen: [socket] });
    t.after(() => echo.stop());
    const client = await connect({ servers: socket, maxFrame: 256 });
    t.after(() => client.close());
    assert.deepEqual(await client.call("echo", { message: "hi" }), { message: "hi" });
    const error = await client.call("echo", { message: "y".repeat(1000) }).catch((e) => e);
    assert.ok(error instanceof FrameTooLargeError, String(error));
    assert.deepEqual(await client.call("echo", { message: "still open" }), { message: "still open" });
  });
});

describe("offline", () => {
  test("a client that cannot connect rejects with a ConnectError naming the server", async () => {
    const error = await connect({ servers: "tcp://127.0.0.1:1", timeout: 1000 }).catch((e) => e);
    assert.equal(error.name, "cannot-connect");
    assert.match(error.message, /127\.0\.0\.1:1/);
  });

  test("calls while reconnecting fail fast with NotConnectedError unless asked to wait", async (t) => {
    const dice = await startExample("dice_server");
    const client = await connect({ servers: dice.url("tcp"), reconnectTimeWait: 200 });
    t.after(() => client.close());
    await dice.stop();
    await within(5000, client.call("dice.guess").catch((e) => e).then(async (first) => {
      // The first call may race the close; once it is noticed, calls fail at once.
      let error = first;
      while (!(error instanceof NotConnectedError)) {
        await new Promise((r) => setTimeout(r, 20));
        error = await client.call("dice.guess").catch((e) => e);
      }
      const started = Date.now();
      const again = await client.call("dice.guess").catch((e) => e);
      assert.ok(again instanceof NotConnectedError);
      assert.ok(Date.now() - started < 100, "failed fast");
    }), "not-connected");
    const waited = await client.call("dice.guess", undefined, { waitForConnection: true, timeout: 300 }).catch((e) => e);
    assert.ok(waited instanceof TimeoutError, `waited, then timed out: ${waited}`);
  });
});
