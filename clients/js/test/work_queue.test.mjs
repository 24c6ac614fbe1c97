// The work-queue producer and worker (docs/work-queue.md) against the real work_dispatcher
// example: ids once stored, credit, ack / nack with delay / reject, lease extension past the
// visibility time, STATUS both ways, send_all, graceful drain, refusals and a lost dispatcher.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  codec, connect, connectProducer, connectWorker, ConnectionClosedError, ConnectionLostError, decodeBody, FrameTooLargeError, NotFoundError, InvalidBodyError,
} from "../dist/esm/node.js";
import { examplePath, startProgram, within } from "./helpers/servers.mjs";

/** A work_dispatcher (queue `jobs`) with `settings` in its `extra`; `work` is its work listener. */
async function dispatcher(settings = {}) {
  const extra = JSON.stringify({ work_listen: "tcp://127.0.0.1:0", durable: false, ...settings });
  const d = await startProgram(examplePath("work_dispatcher"), ["--listen", "tcp://127.0.0.1:0", "--set", `extra=${extra}`], { listeners: 2 });
  return { ...d, work: d.addresses[0], app: d.addresses[1] };
}

/** The dispatcher's figures for queue `jobs`, from hubwire.stats. */
async function figures(d) {
  const client = await connect({ servers: d.app, reconnect: false });
  try {
    const stats = await client.call("hubwire.stats");
    const figures = stats.work.work_dispatcher;
    return { queue: figures.queues.jobs, workers: figures.workers };
  } finally {
    await client.close();
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(what, check, ms = 10_000) {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - started > ms) throw new Error(`${what} did not happen within ${ms} ms`);
    await sleep(20);
  }
}

test("the DELIVER of protocol.md 12.4 decodes to its fields and encodes back byte for byte", () => {
  const hexText = "0000001300639705a46a6f62732a01cd753000c4026869";
  const bytes = Uint8Array.from(hexText.match(/../g).map((h) => parseInt(h, 16)));
  const [frame] = new codec.FrameReader().push(bytes);
  assert.equal(frame.kind, codec.Kind.DELIVER);
  const fields = codec.decodePayload(frame.kind, frame.payload);
  assert.deepEqual(fields, { lease: 5, queue: "jobs", id: 42, delivery: 1, visibility_ms: 30000, flags: 0, body: new TextEncoder().encode("hi") });
  assert.equal(Buffer.from(codec.encodeFrame(codec.Kind.DELIVER, fields)).toString("hex"), hexText);
  // Flags other than BROADCAST are refused, as the text says.
  const bad = codec.encodePayload(codec.Kind.DELIVER, { ...fields, flags: 2 });
  assert.throws(() => codec.decodePayload(codec.Kind.DELIVER, bad), (e) => e instanceof codec.CodecError && e.code === 100);
});

describe("work queue: producer and worker", () => {
  test("enqueue gives ids in order; a worker gets each item once, decoded, and acks it", async (t) => {
    const d = await dispatcher();
    t.after(() => d.stop());
    const producer = await connectProducer({ servers: d.work });
    t.after(() => producer.close());
    const first = await producer.enqueue("jobs", { n: 1 });
    const rest = await producer.enqueueMany("jobs", [{ n: 2 }, { n: 3 }, { n: 4, big: 2n ** 60n }]);
    assert.equal(rest.length, 3);
    for (const [a, b] of [[first, rest[0]], [rest[0], rest[1]], [rest[1], rest[2]]]) assert.ok(b > a, `${b} > ${a}`);
    const worker = await connectWorker({ servers: d.work, queues: ["jobs"], credit: 2, name: "js-1" });
    assert.equal(worker.credit, 2);
    const seen = [];
    const running = worker.run((job) => {
      seen.push({ id: job.id, queue: job.queue, delivery: job.delivery, body: job.body, broadcast: job.broadcast });
    });
    await eventually("4 items handled", () => seen.length === 4);
    assert.deepEqual(seen.map((s) => s.id), [first, ...rest]);
    assert.deepEqual(seen.map((s) => s.body), [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4, big: 2n ** 60n }]);
    assert.ok(seen.every((s) => s.queue === "jobs" && s.delivery === 1 && !s.broadcast));
    const { queue, workers } = await eventually("4 acks", async () => {
      const f = await figures(d);
      return f.queue.acked === 4 ? f : null;
    });
    assert.equal(queue.redelivered, 0);
    assert.equal(workers[0].name, "js-1");
    await worker.drain();
    await within(5000, running, "run() after drain");
  });

  test("credit is never exceeded, and reached", async (t) => {
    const d = await dispatcher();
    t.after(() => d.stop());
    const producer = await connectProducer({ servers: d.work });
    t.after(() => producer.close());
    await producer.enqueueMany("jobs", Array.from({ length: 9 }, (_, i) => i));
    const worker = await connectWorker({ servers: d.work, queues: ["jobs"], credit: 3 });
    let now = 0;
    let most = 0;
    let done = 0;
    worker.run(async () => {
      now++;
      most = Math.max(most, now, worker.inFlight);
      await sleep(100);
      now--;
      done++;
    }).catch(() => undefined);
    await eventually("9 items done", () => done === 9);
    assert.equal(most, 3);
    worker.close();
  });

  test("nack with a delay is delivered again after it; reject goes to the error queue; a throw nacks", async (t) => {
    const d = await dispatcher({ max_deliveries: 5 });
    t.after(() => d.stop());
    const producer = await connectProducer({ servers: d.work });
    t.after(() => producer.close());
    const worker = await connectWorker({ servers: d.work, queues: ["jobs"], credit: 4 });
    t.after(() => worker.close());
    const seen = [];
    worker.run((job) => {
      seen.push({ body: job.body, delivery: job.delivery, at: Date.now() });
      if (job.body === "later" && job.delivery === 1) job.nack("not yet", { delayMs: 400 });
      if (job.body === "never") job.reject("bad item");
      if (job.body === "throws" && job.delivery === 1) throw new Error("boom");
    }).catch(() => undefined);
    await producer.enqueue("jobs", "later");
    await eventually("the nacked item again", () => seen.filter((s) => s.body === "later").length === 2);
    const [once, again] = seen.filter((s) => s.body === "later");
    assert.equal(again.delivery, 2);
    assert.ok(again.at - once.at >= 350, `delivered again after ${again.at - once.at} ms`);
    await producer.enqueue("jobs", "throws");
    await eventually("the item that threw again", () => seen.filter((s) => s.body === "throws").length === 2);
    await producer.enqueue("jobs", "never");
    const f = await eventually("the rejected item dead-lettered", async () => {
      const f = await figures(d);
      return f.queue.dead_lettered === 1 ? f : null;
    });
    assert.equal(seen.filter((s) => s.body === "never").length, 1);
    assert.equal(f.queue.nacked, 2);
    assert.equal(f.queue.acked, 2);
  });

  test("a job running past the visibility time keeps its lease (progress) and is not delivered again", async (t) => {
    const d = await dispatcher({ visibility_ms: 600 });
    t.after(() => d.stop());
    const producer = await connectProducer({ servers: d.work });
    t.after(() => producer.close());
    const slow = await connectWorker({ servers: d.work, queues: ["jobs"] });
    t.after(() => slow.close());
    let slowDone = false;
    slow.run(async () => {
      await sleep(2000);
      slowDone = true;
    }).catch(() => undefined);
    await producer.enqueue("jobs", "long");
    await eventually("the slow worker to hold it", async () => (await figures(d)).queue.in_flight === 1);
    const other = await connectWorker({ servers: d.work, queues: ["jobs"] });
    t.after(() => other.close());
    let otherGot = 0;
    other.run(() => void otherGot++).catch(() => undefined);
    await eventually("the long job done", () => slowDone, 10_000);
    const f = await eventually("its ack", async () => {
      const f = await figures(d);
      return f.queue.acked === 1 ? f : null;
    });
    assert.equal(otherGot, 0, "never given to another worker");
    assert.equal(f.queue.lapsed, 0);
    assert.equal(f.queue.redelivered, 0);
  });

  test("STATUS both ways: the dispatcher's status, and busy steers items away (weighted-by-status)", async (t) => {
    const d = await dispatcher({ policy: "weighted-by-status" });
    t.after(() => d.stop());
    const producer = await connectProducer({ servers: d.work });
    t.after(() => producer.close());
    await producer.enqueue("jobs", "waiting");
    const busy = await connectWorker({ servers: d.work, queues: ["jobs"], credit: 4, status: { busy: true }, name: "busy" });
    t.after(() => busy.close());
    // The dispatcher's STATUS follows its TAKEN.
    await eventually("the dispatcher's STATUS", () => busy.dispatcherStatus !== null);
    assert.deepEqual(busy.dispatcherStatus, { dispatcher: "work_dispatcher", queues: { jobs: 1 } });
    let busyGot = 0;
    busy.run(() => void busyGot++).catch(() => undefined);
    const idle = await connectWorker({ servers: d.work, queues: ["jobs"], credit: 4, name: "idle" });
    t.after(() => idle.close());
    let idleGot = 0;
    idle.run(() => void idleGot++).catch(() => undefined);
    await producer.enqueueMany("jobs", [1, 2, 3, 4, 5]);
    await eventually("6 items to the idle worker", () => idleGot === 6);
    assert.equal(busyGot, 0);
    const { workers } = await figures(d);
    // The figures carry the STATUS as the worker sent it: MessagePack bytes.
    assert.deepEqual(decodeBody(workers.find((w) => w.name === "busy").status), { busy: true });
    // No longer busy: it gets items again.
    busy.setStatus({ busy: false });
    await sleep(100);
    await producer.enqueueMany("jobs", Array.from({ length: 8 }, (_, i) => i));
    await eventually("the worker no longer busy to get some", () => busyGot > 0);
  });

  test("send_all reaches every worker taking the queue, marked broadcast", async (t) => {
    const d = await dispatcher();
    t.after(() => d.stop());
    const producer = await connectProducer({ servers: d.work });
    t.after(() => producer.close());
    const got = [[], []];
    for (const i of [0, 1]) {
      const worker = await connectWorker({ servers: d.work, queues: ["jobs"] });
      t.after(() => worker.close());
      worker.run((job) => void got[i].push({ id: job.id, broadcast: job.broadcast, body: job.body })).catch(() => undefined);
    }
    const id = await producer.sendAll("jobs", "reload");
    assert.ok(BigInt(id) >= 2n ** 63n, `send_all ids count from 2^63: ${id}`);
    await eventually("both workers to get the copy", () => got[0].length === 1 && got[1].length === 1);
    for (const g of got) assert.deepEqual(g, [{ id, broadcast: true, body: "reload" }]);
  });

  test("drain: nothing new is taken, the job held finishes and is acked, run() resolves", async (t) => {
    const d = await dispatcher();
    t.after(() => d.stop());
    const producer = await connectProducer({ servers: d.work });
    t.after(() => producer.close());
    const worker = await connectWorker({ servers: d.work, queues: ["jobs"], credit: 2 });
    let started = 0;
    let finished = 0;
    const running = worker.run(async () => {
      started++;
      await sleep(500);
      finished++;
    });
    await producer.enqueue("jobs", "held");
    await eventually("the job to start", () => started === 1);
    const drained = worker.drain();
    await sleep(50);
    await producer.enqueue("jobs", "after the drain");
    await within(5000, running, "run() after drain");
    await drained;
    assert.equal(finished, 1);
    assert.equal(started, 1, "nothing new taken while draining");
    const f = await eventually("the ack and the worker gone", async () => {
      const f = await figures(d);
      return f.queue.acked === 1 && f.workers.length === 0 ? f : null;
    });
    assert.equal(f.queue.pending, 1);
  });

  test("close() fails an enqueue still waiting with ConnectionClosedError", async (t) => {
    // A dispatcher stopped with SIGSTOP: the enqueue is sent and never answered.
    const d = await dispatcher();
    t.after(() => d.stop());
    const producer = await connectProducer({ servers: d.work });
    d.kill("SIGSTOP");
    t.after(() => d.kill("SIGCONT"));
    const waiting = producer.enqueue("jobs", 1).catch((e) => e);
    await sleep(100);
    producer.close();
    const error = await within(2000, waiting, "the enqueue to fail");
    assert.ok(error instanceof ConnectionClosedError, String(error));
    assert.match(error.message, /may or may not/);
  });

  test("refusals: a queue not served (404), an empty enqueue (300), a lost dispatcher", async (t) => {
    const d = await dispatcher();
    t.after(() => d.stop());
    const producer = await connectProducer({ servers: d.work });
    t.after(() => producer.close());
    const missing = await producer.enqueue("nope", 1).catch((e) => e);
    assert.ok(missing instanceof NotFoundError, String(missing));
    assert.equal(missing.code, 404);
    const empty = await producer.enqueueMany("jobs", []).catch((e) => e);
    assert.ok(empty instanceof InvalidBodyError, String(empty));
    assert.equal(empty.code, 300);
    // Over the dispatcher's max_frame (1 MiB): refused here, nothing sent, the connection kept.
    const huge = await producer.enqueue("jobs", new Uint8Array(2 << 20)).catch((e) => e);
    assert.ok(huge instanceof FrameTooLargeError, String(huge));
    assert.ok((await producer.enqueue("jobs", "small")) > 0);
    const refused = await connectWorker({ servers: d.work, queues: ["jobs", "nope"] }).catch((e) => e);
    assert.ok(refused instanceof NotFoundError, String(refused));
    assert.match(refused.message, /nope/);
    const worker = await connectWorker({ servers: d.work, queues: ["jobs"] });
    const running = worker.run(() => undefined);
    d.kill("SIGKILL");
    const lost = await within(5000, running.catch((e) => e), "run() to fail");
    assert.ok(lost instanceof ConnectionLostError, String(lost));
    // The producer may learn of the loss only with this enqueue in flight (lost), or before
    // it (closed); once it knows, every enqueue fails at once as closed.
    const during = await within(5000, producer.enqueue("jobs", 1).catch((e) => e), "an enqueue to fail");
    assert.ok(during instanceof ConnectionLostError || during instanceof ConnectionClosedError, String(during));
    const after = await producer.enqueue("jobs", 1).catch((e) => e);
    assert.ok(after instanceof ConnectionClosedError, String(after));
  });
});
