/**
 * hubwire for Node: `tcp://`, `unix://`, `tls://`, `ws://` and `wss://`.
 */
import WebSocket from "ws";
import type { HubwireClient } from "./client/client.js";
import type { ConnectOptions } from "./client/options.js";
import { connectUsing } from "./connect-core.js";
import { socketTransport } from "./transport/node-socket.js";
import { webSocketTransport, type WebSocketConstructor } from "./transport/websocket.js";

export * from "./exports.js";

/** Connects to the first of `options.servers` that answers. */
export function connect(options: ConnectOptions): Promise<HubwireClient> {
  // The platform's WebSocket when Node has one (22+), else the `ws` package.
  const Ctor = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket ?? (WebSocket as unknown as WebSocketConstructor);
  const ws = webSocketTransport(Ctor);
  return connectUsing({ "tcp:": socketTransport, "unix:": socketTransport, "tls:": socketTransport, "ws:": ws, "wss:": ws }, options);
}
