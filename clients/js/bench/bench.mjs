// The JS client against nats.js in the same run: request/reply latency (p50, p99) and pub/sub
// throughput, each through its own broker on loopback: `hubwire hub` (release) for hubwire,
// nats-server for nats.js; and the JS client over the hub's ws:// listener against its tcp://
// one. Prints a JSON report and two Markdown tables.
//
//   cargo build --release -p hubwire-cli --bin hubwire && cargo build --release -p hubwire --example echo_server
//   cd clients/js && npm run build && npm ci --prefix bench
//   node bench/bench.mjs [--calls 20000] [--messages 500000] [--size 16] [--rounds 5]
//
// Each round measures them all, alternating hubwire and nats; the tables give each measure's
// median over the rounds (the machine is shared, so single runs are noisy).
//
// HUBWIRE_BIN (default target/release/hubwire), HUBWIRE_ECHO (default
// target/release/examples/echo_server) and NATS_SERVER (default nats-server) name the servers.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect as hubwireConnect } from "../dist/esm/node.js";
import { connect as natsConnect } from "nats";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, word, i, all) => (word.startsWith("--") ? [...pairs, [word.slice(2), all[i + 1]]] : pairs), []),
);
const CALLS = Number(args.calls ?? 20_000);
const MESSAGES = Number(args.messages ?? 500_000);
const SIZE = Number(args.size ?? 16);
const ROUNDS = Number(args.rounds ?? 5);
const WARMUP = 2000;
const payload = new Uint8Array(SIZE).fill(7);

function startBroker(command, argv, pattern) {
  const child = spawn(command, argv, { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let seen = "";
    const look = (data) => {
      seen += data;
      const match = pattern.exec(seen);
      if (match) resolve({ child, url: match[1], ws: match[2] });
    };
    child.stdout.on("data", look);
    child.stderr.on("data", look);
    child.once("exit", (code) => reject(new Error(`${command} exited ${code}: ${seen}`)));
    setTimeout(() => reject(new Error(`${command} did not start: ${seen}`)), 20_000);
  });
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

async function latency(label, once) {
  for (let i = 0; i < WARMUP; i++) await once();
  const samples = new Float64Array(CALLS);
  for (let i = 0; i < CALLS; i++) {
    const started = process.hrtime.bigint();
    await once();
    samples[i] = Number(process.hrtime.bigint() - started) / 1000;
  }
  samples.sort();
  return { label, p50_us: percentile(samples, 50), p99_us: percentile(samples, 99) };
}

// Publishes MESSAGES as fast as the client takes them, yielding to the event loop every 1000
// so the subscriber (same process) reads; the clock stops when the last one is received.
async function throughput(label, subscribe, publish, flush) {
  let count = 0;
  let finish;
  const done = new Promise((resolve) => (finish = resolve));
  await subscribe(() => {
    if (++count === MESSAGES) finish();
  });
  const started = process.hrtime.bigint();
  for (let i = 0; i < MESSAGES; i++) {
    publish();
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
  }
  await flush();
  await done;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { label, messages: MESSAGES, msgs_per_s: Math.round(MESSAGES / seconds) };
}

const dir = mkdtempSync(join(tmpdir(), "hubwire-js-bench-"));
const hubwire = await startBroker(
  process.env.HUBWIRE_BIN ?? join(REPO, "target", "release", "hubwire"),
  ["hub", "--listen", "tcp://127.0.0.1:0", "--listen", "ws://127.0.0.1:0", "--lock-dir", dir, "--data-dir", dir, "--log-level", "warn"],
  /listening on (tcp:\/\/\S+)[^]*listening on (ws:\/\/\S+)/,
);
const echo = await startBroker(
  process.env.HUBWIRE_ECHO ?? join(REPO, "target", "release", "examples", "echo_server"),
  ["--listen", "tcp://127.0.0.1:0", "--lock-dir", dir, "--data-dir", dir, "--log-level", "warn"],
  /listening on (tcp:\/\/\S+)/,
);
const nats = await startBroker(process.env.NATS_SERVER ?? "nats-server", ["-a", "127.0.0.1", "-p", "-1"], /Listening for client connections on (\S+:\d+)/);
const rounds = [];
try {
 for (let round = 0; round < ROUNDS; round++) {
  const results = [];
  // Request/reply: a provider and a caller on two connections, one call at a time.
  const hwProvider = await hubwireConnect({ servers: hubwire.url });
  const hwCaller = await hubwireConnect({ servers: hubwire.url });
  hwProvider.provide("bench/echo", (body) => body);
  await hwProvider.flush();
  results.push(await latency("hubwire-js request", () => hwCaller.request("bench/echo", payload, { raw: true })));
  // A route call to a Rust server: no provider hop.
  const hwRoute = await hubwireConnect({ servers: echo.url });
  const text = "x".repeat(SIZE);
  results.push(await latency("hubwire-js call", () => hwRoute.call("echo", { message: text })));
  await hwRoute.close();

  const ncProvider = await natsConnect({ servers: nats.url });
  const ncCaller = await natsConnect({ servers: nats.url });
  ncProvider.subscribe("bench.echo", { callback: (_err, msg) => msg.respond(msg.data) });
  await ncProvider.flush();
  results.push(await latency("nats.js request", () => ncCaller.request("bench.echo", payload, { timeout: 5000 })));

  // Pub/sub: one publisher, one subscriber, MESSAGES of SIZE bytes.
  const hwSub = await hubwireConnect({ servers: hubwire.url, maxPendingMessages: Infinity });
  const hwPub = await hubwireConnect({ servers: hubwire.url });
  results.push(await throughput(
    "hubwire-js pub/sub",
    async (onMessage) => {
      hwSub.subscribe("bench/stream", { callback: onMessage });
      await hwSub.flush();
    },
    () => hwPub.publish("bench/stream", payload),
    () => hwPub.flush(60_000),
  ));
  const ncSub = await natsConnect({ servers: nats.url });
  const ncPub = await natsConnect({ servers: nats.url });
  results.push(await throughput(
    "nats.js pub/sub",
    async (onMessage) => {
      ncSub.subscribe("bench.stream", { callback: onMessage });
      await ncSub.flush();
    },
    () => ncPub.publish("bench.stream", payload),
    () => ncPub.flush(),
  ));
  // The same two measures over the hub's ws:// listener (WebSocket against TCP).
  const wsProvider = await hubwireConnect({ servers: hubwire.ws });
  const wsCaller = await hubwireConnect({ servers: hubwire.ws });
  wsProvider.provide("bench/echo-ws", (body) => body);
  await wsProvider.flush();
  results.push(await latency("hubwire-js request over ws", () => wsCaller.request("bench/echo-ws", payload, { raw: true })));
  const wsSub = await hubwireConnect({ servers: hubwire.ws, maxPendingMessages: Infinity });
  const wsPub = await hubwireConnect({ servers: hubwire.ws });
  results.push(await throughput(
    "hubwire-js pub/sub over ws",
    async (onMessage) => {
      wsSub.subscribe("bench/stream-ws", { callback: onMessage });
      await wsSub.flush();
    },
    () => wsPub.publish("bench/stream-ws", payload),
    () => wsPub.flush(60_000),
  ));
  for (const c of [wsProvider, wsCaller, wsSub, wsPub]) await c.close();
  for (const c of [hwProvider, hwCaller, hwSub, hwPub]) await c.close();
  for (const c of [ncProvider, ncCaller, ncSub, ncPub]) await c.close();
  rounds.push(results);
  console.error(`round ${round + 1}: ${JSON.stringify(results)}`);
 }
} finally {
  hubwire.child.kill("SIGKILL");
  echo.child.kill("SIGKILL");
  nats.child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const results = rounds[0].map((first, i) => {
  const out = { label: first.label };
  for (const key of Object.keys(first)) if (key !== "label" && key !== "messages") out[key] = median(rounds.map((r) => r[i][key]));
  return out;
});
const [hwReq, hwCall, ncReq, hwPs, ncPs, wsReq, wsPs] = results;
// The median of the per-round ratios of measure `a` over measure `b` (indexes into a round).
const ratio = (a, b, key) => median(rounds.map((r) => r[a][key] / r[b][key])).toFixed(2);
console.log(JSON.stringify({ calls: CALLS, messages: MESSAGES, size: SIZE, rounds: ROUNDS, medians: results }, null, 2));
console.log(`
| measure (medians) | hubwire-js + hubwire hub | nats.js + nats-server | median of the rounds' ratios (hubwire / nats) |
| --- | ---: | ---: | ---: |
| request/reply p50 | ${hwReq.p50_us.toFixed(1)} µs | ${ncReq.p50_us.toFixed(1)} µs | ${ratio(0, 2, "p50_us")} (lower is better) |
| route call p50 (hubwire-js \`call\` to the Rust echo_server; nats.js request as above) | ${hwCall.p50_us.toFixed(1)} µs | ${ncReq.p50_us.toFixed(1)} µs | ${ratio(1, 2, "p50_us")} |
| request/reply p99 | ${hwReq.p99_us.toFixed(1)} µs | ${ncReq.p99_us.toFixed(1)} µs | ${ratio(0, 2, "p99_us")} |
| pub/sub, ${SIZE}-byte messages | ${hwPs.msgs_per_s} msg/s | ${ncPs.msgs_per_s} msg/s | ${ratio(3, 4, "msgs_per_s")} (higher is better) |

| hubwire-js, same hub (medians) | ws:// | tcp:// | median of the rounds' ratios (ws / tcp) |
| --- | ---: | ---: | ---: |
| request/reply p50 | ${wsReq.p50_us.toFixed(1)} µs | ${hwReq.p50_us.toFixed(1)} µs | ${ratio(5, 0, "p50_us")} (lower is better) |
| request/reply p99 | ${wsReq.p99_us.toFixed(1)} µs | ${hwReq.p99_us.toFixed(1)} µs | ${ratio(5, 0, "p99_us")} |
| pub/sub, ${SIZE}-byte messages | ${wsPs.msgs_per_s} msg/s | ${hwPs.msgs_per_s} msg/s | ${ratio(6, 3, "msgs_per_s")} (higher is better) |
`);
