// The browser build in Debian's Chromium (driven by playwright-core, no browser download): a
// page served over HTTP connects to a hub over ws://, subscribes, publishes, calls a route and
// a provider, and shows the results; a page from an origin the hub does not allow is refused.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { connect } from "../dist/esm/node.js";
import { serve } from "../examples/serve.mjs";
import { startHub, tempDir, within } from "./helpers/servers.mjs";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

describe("the browser build in Chromium", () => {
  let http;
  let origin;
  let hub;
  let browser;
  let node;
  before(async () => {
    http = await serve(0);
    origin = `http://127.0.0.1:${http.address().port}`;
    const config = join(tempDir("browser"), "hub.json");
    writeFileSync(config, JSON.stringify({ ws_allowed_origins: [origin] }));
    hub = await startHub({ listen: ["tcp://127.0.0.1:0", "ws://127.0.0.1:0"], extra: ["--config", config] });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
    });
    node = await connect({ servers: hub.url("tcp") });
  });
  after(async () => {
    await node?.close();
    await browser?.close();
    await hub?.stop();
    http?.close();
  });

  test("a page connects over ws://, subscribes, publishes, calls a route and a provider", async () => {
    const seen = node.subscribe("browser/hello");
    node.provide("svc/double", (x) => x * 2);
    await node.flush();
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    await page.goto(`${origin}/test/browser/page.html?hub=${encodeURIComponent(hub.url("ws"))}`);
    await page.waitForFunction(() => ["done", "failed"].includes(document.getElementById("status").textContent), null, { timeout: 20_000 });
    const text = async (id) => page.textContent(`#${id}`);
    assert.equal(await text("error"), "", `page error: ${await text("error")} ${errors}`);
    assert.equal(await text("status"), "done");
    assert.equal(await text("health"), JSON.stringify(["app", "instance", "status", "uptime_ms", "version"]));
    assert.equal(await text("message"), `browser/hello chromium ${2n ** 60n}`);
    assert.equal(await text("double"), "42");
    // The browser's publish reached a Node client over TCP, 64-bit value intact.
    const { value } = await within(5000, seen[Symbol.asyncIterator]().next(), "the browser's publish");
    assert.deepEqual(value.body, { from: "chromium", big: 2n ** 60n });
    await page.close();
  });

  test("examples/hub.html shows a hub's messages and publishes from its form", async () => {
    node.publish("rooms/kitchen/temp", { celsius: 21 }, { retain: true });
    await node.flush();
    const fromPage = node.subscribe("rooms/hall/*");
    await node.flush();
    const page = await browser.newPage();
    await page.goto(`${origin}/examples/hub.html?hub=${encodeURIComponent(hub.url("ws"))}`);
    await page.waitForFunction(() => document.getElementById("log").textContent.includes("rooms/kitchen/temp"), null, { timeout: 20_000 });
    assert.match(await page.textContent("#log"), /rooms\/kitchen\/temp \(retained\): \{"celsius":21\}/);
    await page.fill("#channel", "rooms/hall/temp");
    await page.fill("#body", '{"celsius": 19}');
    await page.click("button");
    const { value } = await within(5000, fromPage[Symbol.asyncIterator]().next(), "the page's publish");
    assert.deepEqual(value.body, { celsius: 19 });
    await page.waitForFunction(() => document.getElementById("log").textContent.includes("rooms/hall/temp"), null, { timeout: 5000 });
    await page.close();
  });

  test("a page from an origin the hub does not allow cannot connect", async () => {
    const page = await browser.newPage();
    // localhost is another origin than 127.0.0.1 for the browser.
    const other = origin.replace("127.0.0.1", "localhost");
    await page.goto(`${other}/test/browser/page.html?hub=${encodeURIComponent(hub.url("ws"))}`);
    await page.waitForFunction(() => ["done", "failed"].includes(document.getElementById("status").textContent), null, { timeout: 20_000 });
    assert.equal(await page.textContent("#status"), "failed");
    assert.match(await page.textContent("#error"), /^cannot-connect: /);
    await page.close();
  });
});
