/**
 * hubwire for Node: `tcp://`, `unix://`, `tls://`, `ws://` and `wss://`.
 */
import * as tls from "node:tls";
import WebSocket from "ws";
import type { HubwireClient } from "./client/client.js";
import type { ConnectOptions } from "./client/options.js";
import { connectUsing } from "./connect-core.js";
import { socketTransport } from "./transport/node-socket.js";
import { webSocketTransport, type WebSocketLike } from "./transport/websocket.js";

function pem(text: string | Uint8Array): string {
  return typeof text === "string" ? text : new TextDecoder().decode(text);
}

export * from "./exports.js";

/** Connects to the first of `options.servers` that answers. */
export function connect(options: ConnectOptions): Promise<HubwireClient> {
  // The `ws` package (not Node's global WebSocket): it takes the TLS settings of auth.tls.
  const ws = webSocketTransport({
    open: (href, protocol, transport) =>
      // ws hands these on to tls.connect (servername included, which its types leave out).
      new WebSocket(href, protocol, {
        ca: transport.tls?.ca ? [...tls.rootCertificates, pem(transport.tls.ca)] : undefined,
        cert: transport.tls?.cert ? pem(transport.tls.cert) : undefined,
        key: transport.tls?.key ? pem(transport.tls.key) : undefined,
        ...(transport.tls?.servername ? { servername: transport.tls.servername } : {}),
      } as WebSocket.ClientOptions) as unknown as WebSocketLike,
  });
  return connectUsing({ "tcp:": socketTransport, "unix:": socketTransport, "tls:": socketTransport, "ws:": ws, "wss:": ws }, options);
}
