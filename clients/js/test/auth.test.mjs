// Users (docs/security.md): the client sends its user and password, or its token, in an AUTH
// frame behind CONN; a hub with users refuses a client without them, or with wrong ones, with
// DeniedError at connect; an authenticated client is held to its permissions (a publish
// outside its grant is refused, the connection stays); a hub without users takes any
// credentials. Hashes and tokens are made by `hubwire passwd`.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "../dist/esm/node.js";
import { hubwireBin, startHub, tempDir } from "./helpers/servers.mjs";

function passwd(args, input = "") {
  return execFileSync(hubwireBin(), ["passwd", ...args], { input, encoding: "utf8" });
}

describe("users", () => {
  // A cheap argon2 cost: the test is about the protocol, not the hash's strength.
  const hash = passwd(["--memory-kib", "1024", "--passes", "1"], "wonderland\n").trim();
  const made = passwd(["--token"]);
  const token = made.match(/^token:\s+(\S+)/m)[1];
  const tokenSha = made.match(/^token_sha256:\s+(\S+)/m)[1];
  const dir = tempDir("users");
  const config = join(dir, "hub.json");
  writeFileSync(config, JSON.stringify({
    users: {
      alice: { password_hash: hash, permissions: { call: ["hubwire.*"], publish: ["rooms/*"], subscribe: ["rooms/**"] } },
      sensor: { token_sha256: tokenSha, permissions: { publish: ["sensors/**"] } },
    },
  }));
  const withUsers = () => startHub({ listen: ["tcp://127.0.0.1:0"], extra: ["--config", config] });

  test("a user and password are accepted, and the user is held to its permissions", async (t) => {
    const hub = await withUsers();
    t.after(() => hub.stop());
    const client = await connect({ servers: hub.url("tcp"), auth: { user: "alice", password: "wonderland" } });
    t.after(() => client.close());
    assert.equal((await client.call("hubwire.health")).status, "ok");
    const sub = client.subscribe("rooms/**");
    await client.flush();
    client.publish("rooms/kitchen", "hello");
    const { value } = await sub[Symbol.asyncIterator]().next();
    assert.equal(value.body, "hello");
    const refused = client.subscribe("secrets/**");
    const end = await refused[Symbol.asyncIterator]().next().catch((e) => e);
    assert.equal(end.name, "denied", "a subscription outside the grant is refused");
    assert.equal((await client.call("hubwire.health")).status, "ok", "the connection stays");
  });

  test("a token is accepted", async (t) => {
    const hub = await withUsers();
    t.after(() => hub.stop());
    const client = await connect({ servers: hub.url("tcp"), auth: { token } });
    t.after(() => client.close());
    await client.flush();
  });

  test("no credentials, a wrong password or an unknown token: DeniedError at connect", async (t) => {
    const hub = await withUsers();
    t.after(() => hub.stop());
    for (const auth of [{}, { user: "alice", password: "nope" }, { token: "0".repeat(64) }]) {
      const error = await connect({ servers: hub.url("tcp"), auth, timeout: 15_000, reconnect: false }).catch((e) => e);
      if (Object.keys(auth).length === 0) {
        // Without AUTH the handshake completes; the first frame is refused and the hub closes.
        if (!(error instanceof Error)) {
          const failed = await error.call("hubwire.health", null, { timeout: 5000 }).catch((e) => e);
          assert.ok(failed instanceof Error, "a call without credentials fails");
          await error.close();
          continue;
        }
      }
      assert.equal(error.name, "denied", `${JSON.stringify(auth)}: ${error.message}`);
      assert.equal(error.code, 200);
    }
  });

  test("a hub without users accepts a client that sends credentials", async (t) => {
    const hub = await startHub({ listen: ["tcp://127.0.0.1:0"] });
    t.after(() => hub.stop());
    const client = await connect({ servers: hub.url("tcp"), auth: { user: "anyone", password: "x" } });
    t.after(() => client.close());
    assert.equal((await client.call("hubwire.health")).status, "ok");
  });
});
