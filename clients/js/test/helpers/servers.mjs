// Starts the real `hubwire` binary and example servers built by cargo, on free loopback
// ports, and stops them when the test ends. Paths come from HUBWIRE_BIN and
// HUBWIRE_EXAMPLES_DIR (set by tests/js_client_suite.rs), else from ../../target/debug.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
const PATIENCE_MS = 30_000;
const running = new Set();

export function hubwireBin() {
  return process.env.HUBWIRE_BIN ?? join(REPO, "target", "debug", "hubwire");
}

export function examplePath(name) {
  return join(process.env.HUBWIRE_EXAMPLES_DIR ?? join(REPO, "target", "debug", "examples"), name);
}

/** A fresh temporary directory, removed when the process exits. */
export function tempDir(tag) {
  const dir = mkdtempSync(join(tmpdir(), `hubwire-js-${tag}-`));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let instance = 0;

/**
 * Runs `path` with `args` until it has printed `listeners` "... listening on URL" lines;
 * resolves with { addresses, url(scheme), stop(), kill(signal), exited }.
 */
export async function startProgram(path, args, { listeners = 1, env = {} } = {}) {
  if (!existsSync(path)) throw new Error(`${path} is not built: run cargo build (see tests/js_client_suite.rs)`);
  const dir = tempDir("proc");
  const child = spawn(path, [...args, "--lock-dir", dir, "--data-dir", dir, "--instance", `js${process.pid}-${instance++}`], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  running.add(child);
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => {
    running.delete(child);
    resolve({ code, signal });
  }));
  let stderr = "";
  child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
  const addresses = await new Promise((resolve, reject) => {
    const found = [];
    let buffered = "";
    const timer = setTimeout(() => fail(new Error(`${path} did not start in time: ${stderr}`)), PATIENCE_MS);
    const fail = (error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(error);
    };
    child.stdout.on("data", (data) => {
      buffered += data;
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        const at = line.indexOf(" listening on ");
        if (at >= 0) found.push(line.slice(at + " listening on ".length).trim());
        if (found.length === listeners) {
          clearTimeout(timer);
          resolve(found);
        }
      }
    });
    child.once("exit", (code) => fail(new Error(`${path} exited (${code}) before listening: ${stderr}`)));
  });
  return {
    addresses,
    url: (scheme) => addresses.find((a) => a.startsWith(`${scheme}://`)),
    kill: (signal = "SIGKILL") => child.kill(signal),
    exited,
    get stderr() {
      return stderr;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}

/** A hub (`hubwire hub`) on a free TCP port and a Unix socket, or at `listen` when given. */
export function startHub({ listen, extra = [] } = {}) {
  const dir = tempDir("hub");
  const addresses = listen ?? ["tcp://127.0.0.1:0", `unix://${join(dir, "hub.sock")}`];
  return startProgram(hubwireBin(), ["hub", ...addresses.flatMap((a) => ["--listen", a]), ...extra], {
    listeners: addresses.length,
  });
}

/** An example server (dice_server, echo_server, graceful_shutdown) on a free TCP port. */
export function startExample(name, { listen = ["tcp://127.0.0.1:0"], extra = [] } = {}) {
  return startProgram(examplePath(name), [...listen.flatMap((a) => ["--listen", a]), ...extra], {
    listeners: listen.length,
  });
}

process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** Waits for `promise` at most `ms`, failing with `what` otherwise. */
export function within(ms, promise, what = "the operation") {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The next event of `type` from a status() iterator. */
export async function nextStatus(status, type, ms = 10_000) {
  return within(ms, (async () => {
    // next() by hand: leaving a for-await loop would end the iterator.
    for (;;) {
      const { value, done } = await status.next();
      if (done) throw new Error(`status ended before a ${type} event`);
      if (value.type === type) return value;
    }
  })(), `a ${type} event`);
}
