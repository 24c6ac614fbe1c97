// Checks a hubwire hub's nats:// listener with the official JavaScript client (npm `nats`),
// unchanged.
//
// Usage: node check_hub.mjs nats://127.0.0.1:PORT
//
// The hub runs a hubwire spoke that provides `svc/double` (the number doubled) and `svc/fail`
// (an invalid-body error). Exits 0 when every check passes; otherwise prints the failed check
// and exits 1. Run by tests/nats_py_and_js_clients.rs.
import { connect, headers, ErrorCode, StringCodec } from "nats";

const WAIT = 5000;
const sc = StringCodec();
const url = process.argv[2];

function assert(ok, what) {
  if (!ok) throw new Error(what);
}

// One iterator per subscription (a subscription yields to one reader) and a message it has
// read but no one has taken yet (after a `nothingMore` that timed out).
const iterators = new WeakMap();

function iterator(sub) {
  if (!iterators.has(sub)) iterators.set(sub, { it: sub[Symbol.asyncIterator](), pending: null });
  return iterators.get(sub);
}

// The next message of `sub`, or an error after WAIT.
async function next(sub, what, wait = WAIT) {
  const reader = iterator(sub);
  reader.pending ??= reader.it.next();
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no message: ${what}`)), wait);
  });
  try {
    const got = await Promise.race([reader.pending, timeout]);
    reader.pending = null;
    assert(!got.done, `the subscription ended before ${what}`);
    return got.value;
  } finally {
    clearTimeout(timer);
  }
}

async function nothingMore(sub, what) {
  try {
    const m = await next(sub, what, 300);
    throw new Error(`${what}: got ${sc.decode(m.data)} on ${m.subject}`);
  } catch (e) {
    if (!String(e.message).startsWith("no message")) throw e;
  }
}

// flush() sends PING and waits for PONG: the hub answers once every subscription before it
// is in force.
const barrier = (nc) => nc.flush();

async function wildcards() {
  const nc = await connect({ servers: url });
  const star = nc.subscribe("js.*");
  const tail = nc.subscribe("js.>");
  await barrier(nc);
  nc.publish("js.a", sc.encode("one"));
  nc.publish("js.a.b", sc.encode("two"));
  const m = await next(star, "js.a on js.*");
  assert(m.subject === "js.a" && sc.decode(m.data) === "one", "js.a on js.*");
  assert((await next(tail, "js.a on js.>")).subject === "js.a", "js.a on js.>");
  assert(sc.decode((await next(tail, "js.a.b on js.>")).data) === "two", "js.a.b on js.>");
  await nothingMore(star, "js.* takes one token");
  await nc.close();
}

async function queueGroups() {
  const [one, two, pub] = await Promise.all([1, 2, 3].map(() => connect({ servers: url })));
  const counts = [0, 0];
  const w1 = one.subscribe("js.jobs", { queue: "workers", callback: () => counts[0]++ });
  const w2 = two.subscribe("js.jobs", { queue: "workers", callback: () => counts[1]++ });
  await barrier(one);
  await barrier(two);
  for (let n = 0; n < 100; n++) pub.publish("js.jobs", sc.encode(String(n)));
  await pub.flush();
  const until = Date.now() + WAIT;
  while (counts[0] + counts[1] < 100 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, 200));
  assert(counts[0] + counts[1] === 100, `each job to one worker: ${counts}`);
  assert(counts[0] > 0 && counts[1] > 0, `both workers get some: ${counts}`);
  w1.unsubscribe();
  w2.unsubscribe();
  await Promise.all([one.close(), two.close(), pub.close()]);
}

async function requests() {
  const nc = await connect({ servers: url });
  nc.subscribe("js.upper", {
    callback: (_, m) => m.respond(sc.encode(sc.decode(m.data).toUpperCase())),
  });
  await barrier(nc);
  const reply = await nc.request("js.upper", sc.encode("hi"), { timeout: WAIT });
  assert(sc.decode(reply.data) === "HI", "a NATS responder answers");
  try {
    await nc.request("js.nobody", sc.encode("hi"), { timeout: WAIT });
    throw new Error("a request to nobody was answered");
  } catch (e) {
    assert(e.code === ErrorCode.NoResponders, `no responders, not ${e.code} ${e.message}`);
  }
  const doubled = await nc.request("svc.double", sc.encode("21"), { timeout: WAIT });
  assert(sc.decode(doubled.data) === "42", "a hubwire provider answers");
  const failed = await nc.request("svc.fail", sc.encode("x"), { timeout: WAIT });
  assert(failed.headers?.get("Nats-Service-Error-Code") === "300", "the provider's error code");
  await nc.close();
}

async function headersAndLimits() {
  const nc = await connect({ servers: url });
  assert(nc.info.max_payload === 1024 * 1024, `max_payload ${nc.info.max_payload}`);
  assert(nc.info.headers === true, "headers announced");
  const sub = nc.subscribe("js.h");
  const h = headers();
  h.set("Trace-Id", "abc");
  nc.publish("js.h", sc.encode("body"), { headers: h });
  const m = await next(sub, "a message with headers");
  assert(m.headers?.get("Trace-Id") === "abc" && sc.decode(m.data) === "body", "headers arrive");

  const limited = nc.subscribe("js.max", { max: 2 });
  for (let n = 0; n < 4; n++) nc.publish("js.max", sc.encode(String(n)));
  const got = [];
  for await (const m of limited) got.push(sc.decode(m.data));
  assert(got.join(",") === "0,1", `two, then the end: ${got}`);
  await nc.close();
}

async function drainAndEcho() {
  const nc = await connect({ servers: url });
  const got = [];
  const sub = nc.subscribe("js.drain", { callback: (_, m) => got.push(sc.decode(m.data)) });
  for (let n = 0; n < 10; n++) nc.publish("js.drain", sc.encode(String(n)));
  await sub.drain();
  assert(got.length === 10, `drained: ${got}`);
  await nc.close();

  const quiet = await connect({ servers: url, noEcho: true });
  const other = await connect({ servers: url });
  const echo = quiet.subscribe("js.echo");
  await barrier(quiet);
  quiet.publish("js.echo", sc.encode("mine"));
  await barrier(quiet);
  other.publish("js.echo", sc.encode("theirs"));
  assert(sc.decode((await next(echo, "the other client's")).data) === "theirs", "echo is off");
  await nothingMore(echo, "its own message with echo off");
  await Promise.all([quiet.close(), other.close()]);
}

for (const check of [wildcards, queueGroups, requests, headersAndLimits, drainAndEcho]) {
  try {
    await check();
    console.log(`ok ${check.name}`);
  } catch (e) {
    console.log(`FAILED ${check.name}: ${e.stack ?? e}`);
    process.exit(1);
  }
}
process.exit(0);
