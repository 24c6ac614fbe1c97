/**
 * hubwire for browsers (and any runtime with a WebSocket): `ws://` and `wss://` only, no Node
 * built-ins. Node gets `hubwire`'s "node" export instead, which adds TCP, Unix sockets and TLS.
 */
import type { HubwireClient } from "./client/client.js";
import type { ConnectOptions } from "./client/options.js";
import { connectUsing } from "./connect-core.js";
import { webSocketTransport } from "./transport/websocket.js";

export * from "./exports.js";

/** Connects to the first of `options.servers` that answers. */
export function connect(options: ConnectOptions): Promise<HubwireClient> {
  const ws = webSocketTransport();
  return connectUsing({ "ws:": ws, "wss:": ws }, options);
}
