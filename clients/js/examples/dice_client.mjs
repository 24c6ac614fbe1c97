// A Node client for the dice server (examples/dice_server.rs): rolls, a typed error, pipelined
// calls and an enqueue. Run the server (`cargo run --example dice_server`), build the client
// (`npm run build` in clients/js), then `node examples/dice_client.mjs [tcp://127.0.0.1:7400]`.
import { connect, HubwireError, InvalidBodyError } from "../dist/esm/node.js";

const server = process.argv[2] ?? "tcp://127.0.0.1:7400";
const client = await connect({ servers: server });

const { result } = await client.call("dice.roll", { sides: 20 });
console.log(`rolled a d20: ${result}`);

try {
  await client.call("dice.roll", { sides: 0 });
} catch (error) {
  if (error instanceof InvalidBodyError) console.log(`refused (${error.code} ${error.name}): ${error.message}`);
  else throw error;
}

// Many calls in flight on one connection; each reply finds its own call.
const rolls = await Promise.all(Array.from({ length: 10 }, () => client.call("dice.roll", { sides: 6 })));
console.log(`ten d6: ${rolls.map((r) => r.result).join(" ")}`);

// A queued route: stored, answered with the item's id, rolled later. The key makes a retry safe.
try {
  const { id } = await client.enqueue("dice.roll_times", { sides: 6, how_many: 10 }, { idempotencyKey: `demo-${Date.now()}` });
  console.log(`queued as item ${id}`);
} catch (error) {
  if (!(error instanceof HubwireError)) throw error;
  console.log(`enqueue failed: ${error.name}: ${error.message}`);
}

await client.close();
