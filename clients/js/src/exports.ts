// Everything both entry points export besides connect().
export { HubwireClient, type PublishOptions } from "./client/client.js";
export type { CallOptions } from "./client/calls.js";
export type { RequestOptions } from "./client/rpc.js";
export type { ProvideOptions, ProvideHandler } from "./client/provider.js";
export { Message } from "./client/message.js";
export { Subscription, type SubscribeOptions } from "./client/subscription.js";
export type { StatusEvent } from "./client/status.js";
export type { ConnectOptions, AuthOptions } from "./client/options.js";
export type { Transport, TransportFactory, TransportEvents, TransportOptions, TlsOptions } from "./transport/transport.js";
export { webSocketTransport, WEBSOCKET_PROTOCOL, type WebSocketConstructor, type WebSocketLike, type WebSocketOpener, type WebSocketOpenerOptions } from "./transport/websocket.js";
export * from "./errors.js";
export { encodeBody, decodeBody } from "./codec/msgpack.js";
export * as codec from "./codec/index.js";
export { Producer, type ProducerOptions, type EnqueueOptions, type ItemId } from "./work/producer.js";
export { Worker, type WorkerOptions, type JobHandler } from "./work/worker.js";
export { Job, type JobOutcome } from "./work/job.js";
export type { WorkConnectOptions } from "./work/link.js";
