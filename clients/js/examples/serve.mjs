// Serves clients/js over HTTP for the browser example and the browser test: the built client
// under /dist, @msgpack/msgpack under /node_modules, pages under /examples and /test.
// `node examples/serve.mjs [port]` (8080 by default; 0 picks a free port and prints it).
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".map": "application/json" };
const SERVED = ["dist", "node_modules/@msgpack", "examples", "test/browser"];

/** Starts the file server on `port` at 127.0.0.1; resolves with the http.Server. */
export function serve(port = 8080) {
  const server = createServer(async (request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url, "http://x").pathname)).replace(/^\/+/, "");
    if (!SERVED.some((dir) => path.startsWith(dir + "/"))) {
      response.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(join(ROOT, path));
      response.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream" }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await serve(Number(process.argv[2] ?? 8080));
  console.log(`serving clients/js on http://127.0.0.1:${server.address().port}/`);
}
