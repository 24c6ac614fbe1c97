// tls:// from Node: the hub's certificate is checked against the CA given in auth.tls, a client
// certificate is shown to a hub that requires one, and a hub whose CA is not trusted is refused.
// Certificates are made for the test with the openssl command.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "../dist/esm/node.js";
import { startHub, tempDir } from "./helpers/servers.mjs";

function openssl(dir, ...args) {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

// A CA, a server certificate for 127.0.0.1 and a client certificate, both signed by the CA.
function makeCertificates() {
  const dir = tempDir("tls");
  openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=hubwire test CA");
  for (const [name, ext] of [["server", "subjectAltName=IP:127.0.0.1"], ["client", "extendedKeyUsage=clientAuth"]]) {
    openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
    writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
    openssl(dir, "x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`);
    openssl(dir, "pkcs8", "-topk8", "-nocrypt", "-in", `${name}.key`, "-out", `${name}.pk8`);
  }
  const read = (f) => readFileSync(join(dir, f), "utf8");
  return { dir, ca: read("ca.pem"), cert: read("client.pem"), key: read("client.pk8") };
}

describe("tls://", () => {
  const certs = makeCertificates();
  const hubConfig = (clientAuth) => {
    const path = join(certs.dir, `hub-${clientAuth}.json`);
    writeFileSync(path, JSON.stringify({
      tls: { cert_file: join(certs.dir, "server.pem"), key_file: join(certs.dir, "server.pk8"), ca_file: join(certs.dir, "ca.pem"), client_auth: clientAuth },
    }));
    return ["--config", path];
  };

  test("a hub's certificate signed by the CA in auth.tls is accepted; pub/sub works", async (t) => {
    const hub = await startHub({ listen: ["tls://127.0.0.1:0"], extra: hubConfig("none") });
    t.after(() => hub.stop());
    const client = await connect({ servers: hub.url("tls"), auth: { tls: { ca: certs.ca } } });
    t.after(() => client.close());
    const sub = client.subscribe("secure/*");
    await client.flush();
    client.publish("secure/a", "over tls");
    const { value } = await sub[Symbol.asyncIterator]().next();
    assert.equal(value.body, "over tls");
  });

  test("wss:// takes the same auth.tls: calls and pub/sub over TLS WebSocket", async (t) => {
    const hub = await startHub({ listen: ["wss://127.0.0.1:0"], extra: hubConfig("none") });
    t.after(() => hub.stop());
    const client = await connect({ servers: hub.url("wss"), auth: { tls: { ca: certs.ca } } });
    t.after(() => client.close());
    assert.equal((await client.call("hubwire.health")).status, "ok");
    const sub = client.subscribe("secure/ws");
    await client.flush();
    client.publish("secure/ws", "over wss");
    const { value } = await sub[Symbol.asyncIterator]().next();
    assert.equal(value.body, "over wss");
    const refused = await connect({ servers: hub.url("wss"), timeout: 3000, reconnect: false }).catch((e) => e);
    assert.equal(refused.name, "cannot-connect", "without the CA");
  });

  test("without the CA the hub's certificate is refused: cannot-connect", async (t) => {
    const hub = await startHub({ listen: ["tls://127.0.0.1:0"], extra: hubConfig("none") });
    t.after(() => hub.stop());
    const error = await connect({ servers: hub.url("tls"), timeout: 3000 }).catch((e) => e);
    assert.equal(error.name, "cannot-connect");
    assert.match(error.message, /certificate/i);
  });

  test("a hub that requires a client certificate takes the one in auth.tls, and refuses none", async (t) => {
    const hub = await startHub({ listen: ["tls://127.0.0.1:0"], extra: hubConfig("required") });
    t.after(() => hub.stop());
    const client = await connect({ servers: hub.url("tls"), auth: { tls: { ca: certs.ca, cert: certs.cert, key: certs.key } } });
    t.after(() => client.close());
    await client.flush();
    const refused = await connect({ servers: hub.url("tls"), auth: { tls: { ca: certs.ca } }, timeout: 3000 }).catch((e) => e);
    assert.equal(refused.name, "cannot-connect");
  });
});
