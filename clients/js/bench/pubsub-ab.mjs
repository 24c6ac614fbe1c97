// Pub/sub only, hubwire-js against nats.js, alternating in one process (a quick A/B while
// working on the client; bench.mjs is the benchmark of record). Also prints the Node process's
// CPU time per message (publisher and subscriber together), which the shared machine's load
// disturbs less than the rate.
//   node bench/pubsub-ab.mjs HUB_URL NATS_URL [messages] [rounds]
import { connect as hubwireConnect } from "../dist/esm/node.js";
import { connect as natsConnect } from "nats";

const [hubUrl, natsUrl] = process.argv.slice(2, 4);
const N = Number(process.argv[4] ?? 300_000);
const ROUNDS = Number(process.argv[5] ?? 5);
const payload = new Uint8Array(16).fill(7);

async function throughput(subscribe, publish, flush) {
  let count = 0;
  let finish;
  const done = new Promise((resolve) => (finish = resolve));
  await subscribe(() => {
    if (++count === N) finish();
  });
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    publish();
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
  }
  await flush();
  await done;
  const used = process.cpuUsage(cpu);
  return { rate: Math.round(N / (Number(process.hrtime.bigint() - started) / 1e9)), cpuNs: Math.round(((used.user + used.system) * 1000) / N) };
}

const ratios = [];
for (let round = 0; round < ROUNDS; round++) {
  const hwSub = await hubwireConnect({ servers: hubUrl, maxPendingMessages: Infinity });
  const hwPub = await hubwireConnect({ servers: hubUrl });
  const hw = await throughput(
    async (on) => { hwSub.subscribe("bench/stream", { callback: on }); await hwSub.flush(); },
    () => hwPub.publish("bench/stream", payload),
    () => hwPub.flush(60_000),
  );
  const ncSub = await natsConnect({ servers: natsUrl });
  const ncPub = await natsConnect({ servers: natsUrl });
  const nc = await throughput(
    async (on) => { ncSub.subscribe("bench.stream", { callback: on }); await ncSub.flush(); },
    () => ncPub.publish("bench.stream", payload),
    () => ncPub.flush(),
  );
  for (const c of [hwSub, hwPub]) await c.close();
  for (const c of [ncSub, ncPub]) await c.close();
  ratios.push(hw.rate / nc.rate);
  console.log(`round ${round + 1}: hubwire-js ${hw.rate} msg/s (${hw.cpuNs} ns CPU/msg), nats.js ${nc.rate} msg/s (${nc.cpuNs} ns CPU/msg), ratio ${(hw.rate / nc.rate).toFixed(2)}`);
}
ratios.sort((a, b) => a - b);
console.log(`median ratio ${ratios[Math.floor(ratios.length / 2)].toFixed(2)}`);
