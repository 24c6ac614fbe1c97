/**
 * hubwire for Node: `tcp://`, `unix://`, `tls://`, `ws://` and `wss://`; work-queue producers
 * and workers too.
 */
import * as tls from "node:tls";
import WebSocket from "ws";
import type { HubwireClient } from "./client/client.js";
import type { ConnectOptions } from "./client/options.js";
import { connectUsing } from "./connect-core.js";
import { socketTransport } from "./transport/node-socket.js";
import type { TransportFactory } from "./transport/transport.js";
import { webSocketTransport, type WebSocketLike } from "./transport/websocket.js";
import { Producer, type ProducerOptions } from "./work/producer.js";
import { Worker, type WorkerOptions } from "./work/worker.js";

function pem(text: string | Uint8Array): string {
  return typeof text === "string" ? text : new TextDecoder().decode(text);
}

export * from "./exports.js";

/** Connects to the first of `options.servers` that answers. */
export function connect(options: ConnectOptions): Promise<HubwireClient> {
  return connectUsing(nodeTransports(), options);
}

/** Connects a work-queue producer to a dispatcher's work listener (docs/work-queue.md). */
export function connectProducer(options: ProducerOptions): Promise<Producer> {
  return Producer.open({ ...options, transports: { ...nodeTransports(), ...options.transports } });
}

/** Connects a work-queue worker to a dispatcher and takes its queues (docs/work-queue.md). */
export function connectWorker(options: WorkerOptions): Promise<Worker> {
  return Worker.open({ ...options, transports: { ...nodeTransports(), ...options.transports } });
}

function nodeTransports(): Record<string, TransportFactory> {
  // The `ws` package (not Node's global WebSocket): it takes the TLS settings of auth.tls.
  const ws = webSocketTransport({
    // Messages as views of the bytes read, and one socket write per tick (cork/uncork on the
    // `ws` package's underlying net.Socket), not one per message.
    binaryType: "nodebuffer",
    // ws masks every client frame into a buffer of its own (a Uint8Array is "read-only" to it).
    sendCopies: true,
    hold: (socket) => {
      const raw = (socket as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
      if (!raw) return null;
      raw.cork();
      return { release: () => raw.uncork() };
    },
    open: (href, protocol, transport) =>
      // ws hands these on to tls.connect (servername included, which its types leave out).
      new WebSocket(href, protocol, {
        ca: transport.tls?.ca ? [...tls.rootCertificates, pem(transport.tls.ca)] : undefined,
        cert: transport.tls?.cert ? pem(transport.tls.cert) : undefined,
        key: transport.tls?.key ? pem(transport.tls.key) : undefined,
        ...(transport.tls?.servername ? { servername: transport.tls.servername } : {}),
      } as WebSocket.ClientOptions) as unknown as WebSocketLike,
  });
  return { "tcp:": socketTransport, "unix:": socketTransport, "tls:": socketTransport, "ws:": ws, "wss:": ws };
}
