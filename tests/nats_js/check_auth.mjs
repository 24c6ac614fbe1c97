// Checks the hub's users on its nats:// listener with the official JavaScript client (npm
// `nats`), unchanged.
//
// Usage: node check_auth.mjs nats://127.0.0.1:PORT
//
// The hub has the users of `hub_with_users` in tests/nats_py_and_js_clients.rs:
// `writer`/`quill` may publish and subscribe under `news`, the token `reader-token-0123456789`
// may only subscribe under `news`.
// Exits 0 when every check passes; otherwise prints the failed check and exits 1. Run by
// tests/nats_py_and_js_clients.rs.
import { connect, ErrorCode, StringCodec } from "nats";

const WAIT = 10000;
const sc = StringCodec();
const url = process.argv[2];
const WRITER = { user: "writer", pass: "quill" };
const READER = { token: "reader-token-0123456789" };

function assert(ok, what) {
  if (!ok) throw new Error(what);
}

// `promise`, or an error naming `what` after WAIT.
async function within(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`nothing in time: ${what}`)), WAIT);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const client = (credentials) =>
  connect({ servers: url, reconnect: false, timeout: WAIT, ...credentials });

// The error `connect` fails with; an error if the client is admitted.
async function refused(credentials) {
  let nc;
  try {
    nc = await client(credentials);
  } catch (e) {
    return e;
  }
  await nc.close();
  throw new Error(`admitted with ${JSON.stringify(Object.keys(credentials))}`);
}

// The next `error` status of a connection (nats.js reports a server's -ERR there, with the
// code and, for a permission, the operation and subject read from the server's text).
async function nextError(statuses, what) {
  for (;;) {
    const got = await within(statuses.next(), what);
    assert(!got.done, `the status stream ended before ${what}`);
    if (got.value.type === "error") return got.value;
  }
}

async function passwordAndToken() {
  const writer = await client(WRITER);
  const reader = await client(READER);
  const sub = reader.subscribe("news.js", { max: 1 });
  await reader.flush();
  writer.publish("news.js", sc.encode("hello"));
  const got = [];
  await within(
    (async () => {
      for await (const m of sub) got.push(sc.decode(m.data));
    })(),
    "the writer's message",
  );
  assert(got.join() === "hello", `the writer's message: ${got}`);
  await Promise.all([writer.close(), reader.close()]);
}

async function wrongCredentials() {
  for (const credentials of [{ user: "writer", pass: "wrong" }, { token: "not-the-token" }, {}]) {
    const e = await refused(credentials);
    const what = `${JSON.stringify(credentials)}: ${e.code} ${e.message}`;
    assert(e.code === ErrorCode.AuthorizationViolation, what);
    assert(String(e.message).toLowerCase().includes("authorization violation"), what);
  }
}

async function deniedPublishAndSubscribe() {
  const reader = await client(READER);
  const statuses = reader.status()[Symbol.asyncIterator]();

  // A plain publish: the -ERR comes back as an error status.
  reader.publish("news.fake", sc.encode("no"));
  await reader.flush();
  let status = await nextError(statuses, "the denied publish");
  const publish = JSON.stringify(status);
  assert(status.data === ErrorCode.PermissionsViolation, publish);
  assert(status.permissionContext?.operation === "publish", publish);
  assert(status.permissionContext?.subject === "news.fake", publish);
  // A request: the same -ERR rejects it, with the server's text.
  try {
    await reader.request("news.fake", sc.encode("no"), { timeout: WAIT });
    throw new Error("a denied request was answered");
  } catch (e) {
    const text = String(e.message).toLowerCase();
    assert(text.includes('permissions violation for publish to "news.fake"'), e.message);
  }
  await nextError(statuses, "the denied request");

  // A subscription: the -ERR ends its iterator with the server's text, and comes as a status.
  const secret = reader.subscribe("secret.>");
  await reader.flush();
  try {
    await within(secret[Symbol.asyncIterator]().next(), "the end of the denied subscription");
    throw new Error("a denied subscription yielded");
  } catch (e) {
    const text = String(e.message).toLowerCase();
    assert(text.includes('permissions violation for subscription to "secret.>"'), e.message);
  }
  status = await nextError(statuses, "the denied subscription");
  const subscribe = JSON.stringify(status);
  assert(status.permissionContext?.operation === "subscription", subscribe);
  assert(status.permissionContext?.subject === "secret.>", subscribe);

  // Still connected: PING/PONG goes on, the grant still works.
  assert(!reader.isClosed(), "the reader was closed");
  const after = reader.subscribe("news.after", { max: 1 });
  await reader.flush();
  const writer = await client(WRITER);
  writer.publish("news.after", sc.encode("still here"));
  const got = [];
  await within(
    (async () => {
      for await (const m of after) got.push(sc.decode(m.data));
    })(),
    "a message after the violations",
  );
  assert(got.join() === "still here", `a message after the violations: ${got}`);
  await Promise.all([writer.close(), reader.close()]);
}

for (const check of [passwordAndToken, wrongCredentials, deniedPublishAndSubscribe]) {
  try {
    await check();
    console.log(`ok ${check.name}`);
  } catch (e) {
    console.log(`FAILED ${check.name}: ${e.stack ?? e}`);
    process.exit(1);
  }
}
process.exit(0);
