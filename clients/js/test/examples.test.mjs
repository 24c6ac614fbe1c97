// The examples run: the Node dice client against the dice server prints its rolls, its typed
// error and its queued item.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startExample } from "./helpers/servers.mjs";

test("examples/dice_client.mjs rolls, shows a typed error, pipelines and enqueues", async (t) => {
  const dice = await startExample("dice_server");
  t.after(() => dice.stop());
  const script = fileURLToPath(new URL("../examples/dice_client.mjs", import.meta.url));
  const output = await new Promise((resolve, reject) =>
    execFile(process.execPath, [script, dice.url("tcp")], { timeout: 20_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
  assert.match(output, /^rolled a d20: ([1-9]|1\d|20)$/m);
  assert.match(output, /^refused \(300 invalid-body\): sides must be at least 1$/m);
  assert.match(output, /^ten d6:( [1-6]){10}$/m);
  assert.match(output, /^queued as item \d+$/m);
});
