// The browser build over wss:// in Debian's Chromium: the hub's certificate is made by the
// test (openssl), and Chromium is told to trust exactly that certificate's public key
// (--ignore-certificate-errors-spki-list, a pin, not a switch that accepts anything): the page
// connects, subscribes, publishes, calls a route and a provider over TLS; a hub with another
// certificate, not pinned, is refused by the browser.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { connect } from "../dist/esm/node.js";
import { serve } from "../examples/serve.mjs";
import { startHub, tempDir, within } from "./helpers/servers.mjs";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

// A self-signed certificate for 127.0.0.1, its key as PKCS#8, and the base64 SHA-256 of its
// public key (what Chromium's SPKI list takes).
function selfSigned(dir, name) {
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "2", "-subj", `/CN=${name}`,
    "-addext", "subjectAltName=IP:127.0.0.1",
  ], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  execFileSync("openssl", ["pkcs8", "-topk8", "-nocrypt", "-in", `${name}.key`, "-out", `${name}.pk8`], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const pem = readFileSync(join(dir, `${name}.pem`), "utf8");
  const spki = new X509Certificate(pem).publicKey.export({ type: "spki", format: "der" });
  return { pem, cert: join(dir, `${name}.pem`), key: join(dir, `${name}.pk8`), pin: createHash("sha256").update(spki).digest("base64") };
}

describe("the browser build over wss:// in Chromium", () => {
  const dir = tempDir("browser-wss");
  const trusted = selfSigned(dir, "trusted");
  const stranger = selfSigned(dir, "stranger");
  let http;
  let origin;
  let hub;
  let otherHub;
  let browser;
  let node;
  const hubWith = (certificate) => {
    const config = join(dir, `hub-${certificate === trusted ? "trusted" : "stranger"}.json`);
    writeFileSync(config, JSON.stringify({ ws_allowed_origins: [origin], tls: { cert_file: certificate.cert, key_file: certificate.key } }));
    return startHub({ listen: ["tcp://127.0.0.1:0", "wss://127.0.0.1:0"], extra: ["--config", config] });
  };
  before(async () => {
    http = await serve(0);
    origin = `http://127.0.0.1:${http.address().port}`;
    hub = await hubWith(trusted);
    otherHub = await hubWith(stranger);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        `--ignore-certificate-errors-spki-list=${trusted.pin}`,
      ],
    });
    node = await connect({ servers: hub.url("tcp") });
  });
  after(async () => {
    await node?.close();
    await browser?.close();
    await hub?.stop();
    await otherHub?.stop();
    http?.close();
  });

  const runPage = async (hubUrl) => {
    const page = await browser.newPage();
    await page.goto(`${origin}/test/browser/page.html?hub=${encodeURIComponent(hubUrl)}`);
    await page.waitForFunction(() => ["done", "failed"].includes(document.getElementById("status").textContent), null, { timeout: 20_000 });
    const text = async (id) => page.textContent(`#${id}`);
    const result = { status: await text("status"), error: await text("error"), message: await text("message"), double: await text("double") };
    await page.close();
    return result;
  };

  test("a page connects over wss:// to the hub whose certificate is pinned, and does everything", async () => {
    assert.match(hub.url("wss"), /^wss:\/\//);
    const seen = node.subscribe("browser/hello");
    node.provide("svc/double", (x) => x * 2);
    await node.flush();
    const result = await runPage(hub.url("wss"));
    assert.equal(result.error, "");
    assert.equal(result.status, "done");
    assert.equal(result.message, `browser/hello chromium ${2n ** 60n}`);
    assert.equal(result.double, "42");
    const { value } = await within(5000, seen[Symbol.asyncIterator]().next(), "the browser's publish");
    assert.deepEqual(value.body, { from: "chromium", big: 2n ** 60n });
  });

  test("a hub whose certificate is not pinned is refused by the browser", async () => {
    const result = await runPage(otherHub.url("wss"));
    assert.equal(result.status, "failed");
    assert.match(result.error, /^cannot-connect: /);
  });
});
